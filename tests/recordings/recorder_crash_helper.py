"""Run by tests/recordings/test_containers.py in a subprocess that the test SIGKILLs.

``python recorder_crash_helper.py CAPTURE.pickle OUTPUT.webm`` replays a captured packet list
(see ``Captured`` in the test) into a ``ContainerWriter`` at the pace it was captured, printing
``fed <seconds>`` after each second of media so the parent knows when to kill it. It never
closes the file: the parent kills it first.
"""

from __future__ import annotations

import pickle
import sys
import time

from aiortc.rtp import RtpPacket

from recordings.containers import ContainerWriter


def main(capture: str, output: str) -> None:
    with open(capture, "rb") as file:
        packets: list[tuple[str, float, int, int, int, int, bytes]] = pickle.load(file)
    recording = ContainerWriter.programme(output)
    start = time.monotonic()
    first = packets[0][1]
    reported = 0
    for kind, at, pt, seq, ts, marker, payload in packets:
        delay = start + (at - first) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        packet = RtpPacket(pt, marker, seq, ts, 1, payload)
        track = recording.video if kind == "video" else recording.audio
        assert track is not None
        track.push(packet, arrival=start + (at - first))
        if at - first >= reported + 1:
            reported += 1
            print(f"fed {reported}", flush=True)
    print("done", flush=True)
    time.sleep(60)  # wait to be killed, the file still open


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
