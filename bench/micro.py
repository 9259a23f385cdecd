"""Stage-by-stage cost of forwarding one RTP packet, in one process (``python -m bench.micro``).

Real aiortc peers on 127.0.0.1: a publisher (640x360 VP8) connected to a bridge-side
``SitePeer``, and ``FANOUT`` count-only sites connected to their own ``SitePeer``s whose
``hall.video`` slots forward. Real packets are captured from the publisher, the publisher is
stopped, and the captured packets (renumbered, so SRTP never sees a replay) are pushed through:

- the shipped path: ``Source.on_packet`` fanning out to every slot, and ``Slot.push`` alone;
- an instrumented copy of that path (``Slot.push`` → ``ForwardingSender.send`` →
  ``RTCDtlsTransport._send_rtp`` → aioice → ``sendto``) with ``perf_counter_ns`` between
  stages, which add up to the shipped ``Slot.push``;
- ``sendto`` alone, to a socket of this process and to a socket of another, sleeping process
  (what each forwarded packet costs the kernel in the full run, where every site is a
  separate process);
- the receive side, once per published packet (SRTP unprotect, parse, tap), which a room
  spreads over all N sites;
- a prototype of the patch suggested for rooms/ (``patched_on_packet``): the sender-report
  NTP time and the clock read once per published packet instead of once per slot.

The instrumented copy mirrors rooms/ as of commit 151df4a (sender-report counters written
through precomputed names, one header-extension block per packet shared by the senders with
the same MID and extension IDs); if rooms/ changes, the "rest" row (the shipped ``Slot.push``
minus the stages) shows the copy drifting. The single-slot rows build the extension block
every time (a fresh per-packet cache), as the first slot of each packet does.

Stages are measured in interleaved rounds (every stage once per round, median over rounds) so
that a noisy neighbour slows all of them alike. The sites' own processing of what they
receive is switched off (their sockets drop RTP), so only the forwarding costs are on this
process's clock. Prints one JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import json
import logging
import os
import socket
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aioice import stun
from aiortc import RTCRtpSender
from aiortc.clock import current_ms
from aiortc.rtcdtlstransport import State
from aiortc.rtp import RtpPacket, is_rtcp

from bench.clients import CountingSite, Yuv420Track, connected
from rooms import aiortc_hooks as hooks
from rooms.forwarding import Slot, Source
from rooms.pinned_encoders import pin_encoder
from rooms.rtp import NTP_NOW, is_vp8_keyframe, uint16, uint32
from rooms.site import SitePeer
from rooms.synthetic import PatternTrack, SyntheticSite, ToneTrack

LOOPBACK = ["127.0.0.1"]
ITERATIONS = int(os.environ.get("BENCH_MICRO_ITERATIONS", "4000"))  # per stage and round
ROUNDS = int(os.environ.get("BENCH_MICRO_ROUNDS", "7"))
FANOUT = 8  # slots a published packet is forwarded to in the fan-out rows
YIELD_EVERY = 100  # let the loop run (RTCP, ICE consent) between batches, outside the timing
_HEADER = struct.Struct("!BBHLL")


def log(message: str) -> None:
    print(f"micro: {message}", file=sys.stderr, flush=True)


async def _until(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {within} s: {what}")
        await asyncio.sleep(0.05)


class Rig:
    """Publisher → SitePeer(hall); SitePeer(site i) → count-only site i; one process."""

    async def start(self) -> None:
        self.publisher = SyntheticSite(
            "hall",
            camera=Yuv420Track(PatternTrack(640, 360, 30)),  # type: ignore[arg-type]
            microphone=ToneTrack(440),
            ice_addresses=LOOPBACK,
        )
        for transceiver in self.publisher.pc.getTransceivers():
            pin_encoder(transceiver.sender, 600_000 if transceiver.kind == "video" else 32_000)
        self.hall = SitePeer("hall", ice_addresses=LOOPBACK)
        sdp, layout = await self.publisher.offer()
        await self.publisher.accept(await self.hall.answer(sdp, layout))
        self.sites: list[CountingSite] = []
        self.peers: list[SitePeer] = []
        for i in range(FANOUT):
            site, peer = CountingSite(f"site{i}"), SitePeer(f"site{i}", ice_addresses=LOOPBACK)
            self.sites.append(site)
            self.peers.append(peer)
            sdp, layout = await site.offer()
            await site.accept(await peer.answer(sdp, layout))
        await connected(self.publisher.pc)
        self.slots: list[Slot] = [peer.slots["hall.video"] for peer in self.peers]
        await _until(
            lambda: all(s.sender.ready.is_set() for s in self.slots), 10, "slot senders ready"
        )
        self.camera = self.hall.sources["camera"]

        # Capture real packets while the first slot forwards live.
        slot = self.slots[0]
        self.captured: list[RtpPacket] = []
        push = slot.push

        async def capture(source: Source, packet: RtpPacket, *args: Any) -> None:
            self.captured.append(copy.deepcopy(packet))
            await push(source, packet, *args)

        slot.push = capture  # type: ignore[method-assign,assignment]
        slot.switch(self.camera)
        await _until(
            lambda: slot.forwarded > 200 and len(self.captured) > 300, 20, "live forwarding"
        )
        # Stop the publisher's media: from now on only this benchmark sends.
        for transceiver in self.publisher.pc.getTransceivers():
            transceiver.sender._enabled = False
        await asyncio.sleep(0.3)
        slot.switch(None)
        slot.push = push  # type: ignore[method-assign]
        self.last_live_seq = self.captured[-1].sequence_number  # before Feed renumbers them
        for site in self.sites:
            _mute(site)

    def hall_receiver(self) -> Any:
        mid = next(m for m, name in self.publisher.layout.items() if name == "camera")
        transceiver = next(t for t in self.hall.pc.getTransceivers() if t.mid == mid)
        return transceiver.receiver

    async def close(self) -> None:
        closers = [s.close for s in self.sites] + [p.close for p in self.peers]
        for closer in [*closers, self.publisher.close, self.hall.close]:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(closer(), 10)


def _mute(site: CountingSite) -> None:
    """The site's socket drops RTP/RTCP from now on (STUN still answered: ICE consent)."""
    dtls = site.pc.getTransceivers()[0].receiver.transport
    for protocol in dtls.transport._connection._protocols:
        original = protocol.datagram_received

        def dropping(data: bytes, addr: Any, original: Any = original) -> None:
            if data and 127 < data[0] < 192:
                return
            original(data, addr)

        protocol.datagram_received = dropping  # type: ignore[method-assign,assignment]


class Feed:
    """Captured packets with ever-increasing sequence numbers."""

    def __init__(self, packets: list[RtpPacket]) -> None:
        self.packets = [p for p in packets if len(p.payload) > 200] or packets
        self.keyframe = next(p for p in packets if is_vp8_keyframe(p.payload))
        self.seq = 0
        self.index = 0

    def next(self, packet: RtpPacket | None = None) -> RtpPacket:
        if packet is None:
            packet = self.packets[self.index % len(self.packets)]
            self.index += 1
        self.seq = uint16(self.seq + 1)
        packet.sequence_number = self.seq
        return packet


Step = Callable[[], Awaitable[Any]]


Hook = Callable[[], None] | None


async def _rounds(
    steps: dict[str, tuple[Step, Hook, Hook]],
) -> dict[str, list[float]]:
    """µs per call of each step, one mean over ITERATIONS calls per round; every step runs
    once per round (``before``/``after`` hooks around it), ROUNDS rounds."""
    samples: dict[str, list[float]] = {label: [] for label in steps}
    for round_ in range(ROUNDS):
        log(f"round {round_ + 1}/{ROUNDS}")
        for label, (step, before, after) in steps.items():
            if before is not None:
                before()
            total = 0
            for done in range(ITERATIONS):
                start = time.perf_counter_ns()
                await step()
                total += time.perf_counter_ns() - start
                if done % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            samples[label].append(total / ITERATIONS / 1000)
            if after is not None:
                after()
    return samples


def _row(stage: str, values: list[float]) -> dict[str, Any]:
    """A table row: the least-disturbed round (min) and the typical one (median)."""
    return {"stage": stage, "us": min(values), "median_us": statistics.median(values)}


# --- the patch suggested for rooms/, as a prototype -------------------------------------------

_NTP, _RTP_TS, _PACKETS, _OCTETS = hooks._SR_NTP, hooks._SR_RTP, hooks._SR_PACKETS, hooks._SR_OCTETS


async def patched_send(
    fs: hooks.ForwardingSender,
    packet: RtpPacket,
    sequence: int,
    timestamp: int,
    extensions: bytes,
    ntp: int,
) -> None:
    """``ForwardingSender.send`` with the NTP time passed in."""
    first = 0x80 | (0x10 if extensions else 0) | len(packet.csrc)
    header = _HEADER.pack(
        first, (packet.marker << 7) | fs.payload_type, sequence, timestamp, fs.ssrc
    )
    if packet.csrc:
        header += b"".join(struct.pack("!L", c) for c in packet.csrc)
    data = header + extensions + packet.payload
    fs._history[sequence % hooks.HISTORY_SIZE] = data
    fs._packets += 1
    fs._octets += len(packet.payload)
    state = fs._sender_state
    state[_NTP] = ntp
    state[_RTP_TS] = timestamp
    state[_PACKETS] = fs._packets
    state[_OCTETS] = fs._octets
    try:
        await fs.sender.transport._send_rtp(data)
    except ConnectionError:
        pass


async def patched_push(
    slot: Slot,
    source: Source,
    packet: RtpPacket,
    keyframe: bool,
    blocks: dict[object, bytes],
    ntp: int,
    now: float,
) -> None:
    """``Slot.push`` taking the NTP time and the clock read once per packet."""
    if not slot.sender.ready.is_set():
        return
    if source is slot.pending:
        if not keyframe:
            return
        slot._detach()
        slot.source, slot.pending = source, None
        slot._rebase(packet)
    elif source is not slot.source:
        return
    elif slot._rebase_next:
        slot._rebase(packet)
    sequence = uint16(packet.sequence_number + slot._seq_offset)
    timestamp = uint32(packet.timestamp + slot._ts_offset)
    slot._last_seq, slot._last_ts = sequence, timestamp
    slot._last_sent_at = now
    slot.forwarded += 1
    extensions = slot.sender.header_extensions(packet, blocks)
    await patched_send(slot.sender, packet, sequence, timestamp, extensions, ntp)


async def patched_on_packet(source: Source, packet: RtpPacket) -> None:
    """``Source.on_packet`` reading the NTP time and the clock once for all its slots."""
    source.media_ssrc = packet.ssrc
    source.packets += 1
    now = source.last_packet_at = time.monotonic()
    keyframe = source.kind == "video" and is_vp8_keyframe(packet.payload)
    if keyframe:
        source.keyframes += 1
    blocks: dict[object, bytes] = {}
    ntp = NTP_NOW()
    for slot in list(source.slots):
        await patched_push(slot, source, packet, keyframe, blocks, ntp, now)


# --- measurements --------------------------------------------------------------------------


async def measure() -> dict[str, Any]:
    rig = Rig()
    await rig.start()
    try:
        return await _measure(rig)
    finally:
        await rig.close()


async def _measure(rig: Rig) -> dict[str, Any]:
    feed = Feed(rig.captured)
    source = Source("micro", "camera", "video", send_pli=lambda ssrc: None)
    for slot in rig.slots:
        slot.switch(source)
    await source.on_packet(feed.next(feed.keyframe))  # the slots switch at a key frame
    assert all(slot.source is source for slot in rig.slots)
    slot = rig.slots[0]
    others = rig.slots[1:]
    fs = slot.sender
    dtls = fs.sender.transport
    connection = dtls.transport._connection
    pair = connection._nominated[1]
    udp, remote = pair.protocol.transport, pair.remote_addr
    distinct_keys = len({(s.sender.mid, s.sender.extension_ids) for s in rig.slots})
    payload_bytes = round(statistics.mean(len(p.payload) for p in feed.packets))

    def resync_others() -> None:
        # Steps that use the first slot only leave gaps in the others' numbering; a rebase
        # makes them continue from their own last sequence number (as after a switch).
        for other in others:
            other._rebase_next = True

    # The instrumented copy of Slot.push → ForwardingSender.send → _send_rtp → aioice.
    names = [
        "Slot.push: sequence/timestamp rewrite, counters, monotonic()",
        "header extensions (HeaderExtensionsMap.set; the first slot of each packet)",
        "RTP header build (struct.pack + concatenation)",
        "ForwardingSender bookkeeping (history, NTP time, sender-report counters)",
        "RTCDtlsTransport._send_rtp checks (state, is_rtcp)",
        "SRTP protect (pylibsrtp)",
        "aioice send chain (Connection.send → sendto → send_data), excluding sendto",
        "sendto to a socket of this process (asyncio DatagramTransport → kernel)",
    ]
    sums = [0] * len(names)
    ns = time.perf_counter_ns

    async def instrumented() -> None:
        packet = feed.next()
        t0 = ns()
        sequence = uint16(packet.sequence_number + slot._seq_offset)
        timestamp = uint32(packet.timestamp + slot._ts_offset)
        slot._last_seq, slot._last_ts = sequence, timestamp
        slot._last_sent_at = time.monotonic()
        slot.forwarded += 1
        t1 = ns()
        extensions = fs.header_extensions(packet, {})
        t2 = ns()
        first = 0x80 | (0x10 if extensions else 0) | len(packet.csrc)
        header = _HEADER.pack(
            first, (packet.marker << 7) | fs.payload_type, sequence, timestamp, fs.ssrc
        )
        data = header + extensions + packet.payload
        t3 = ns()
        fs._history[sequence % hooks.HISTORY_SIZE] = data
        fs._packets += 1
        fs._octets += len(packet.payload)
        state = fs._sender_state
        state[_NTP] = NTP_NOW()
        state[_RTP_TS] = timestamp
        state[_PACKETS] = fs._packets
        state[_OCTETS] = fs._octets
        t4 = ns()
        if dtls._state != State.CONNECTED:
            raise ConnectionError
        rtcp = is_rtcp(data)
        t5 = ns()
        protected = data if rtcp else dtls._tx_srtp.protect(data)
        t6 = ns()
        udp.sendto(protected, remote)
        t7 = ns()
        for i, d in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
            sums[i] += d
        sums[7] += t7 - t6

    def fresh() -> bytes:
        """The next packet as the first slot would send it (its numbering: SRTP accepts it)."""
        packet = feed.next()
        sequence = uint16(packet.sequence_number + slot._seq_offset)
        header = _HEADER.pack(0x90, fs.payload_type, sequence, packet.timestamp, fs.ssrc)
        return header + fs.header_extensions(packet, {}) + packet.payload

    async def shipped_fanout() -> None:
        await source.on_packet(feed.next())

    async def patched_fanout() -> None:
        await patched_on_packet(source, feed.next())

    async def shipped_push() -> None:
        await slot.push(source, feed.next(), False, {})

    async def via_aioice() -> None:
        await connection.send(dtls._tx_srtp.protect(fresh()))

    async def bare_sendto() -> None:
        udp.sendto(dtls._tx_srtp.protect(fresh()), remote)

    async def send_rtp() -> None:
        await dtls._send_rtp(fresh())

    per_round: list[list[float]] = []

    def reset_sums() -> None:
        for i in range(len(sums)):
            sums[i] = 0

    def keep_sums() -> None:
        per_round.append([s / ITERATIONS / 1000 for s in sums])

    steps: dict[str, tuple[Step, Hook, Hook]] = {
        "shipped fan-out": (shipped_fanout, resync_others, None),
        "patched fan-out": (patched_fanout, resync_others, None),
        "Slot.push": (shipped_push, None, None),
        "instrumented": (instrumented, reset_sums, keep_sums),
        "protect + aioice": (via_aioice, None, None),
        "protect + sendto": (bare_sendto, None, None),
        "_send_rtp": (send_rtp, None, None),
    }
    log(f"send path: {ROUNDS} rounds of {ITERATIONS} packets per stage, fan-out {FANOUT}")
    timed = await _rounds(steps)
    stage_values = [[r[i] for r in per_round] for i in range(len(names))]
    # aioice's chain, measured as the difference of two whole steps, round by round
    stage_values[6] = [
        max(0.0, a - b)
        for a, b in zip(timed["protect + aioice"], timed["protect + sendto"], strict=True)
    ]
    stages = [_row(n, v) for n, v in zip(names, stage_values, strict=True)]
    rest = [
        push - sum(values)
        for push, values in zip(timed["Slot.push"], zip(*stage_values, strict=True), strict=True)
    ]
    stages.append(
        {
            "stage": "coroutine calls/awaits and the rest (Slot.push − stages above; median "
            "of per-round differences)",
            "us": None,
            "median_us": statistics.median(rest),
        }
    )
    log("sendto to another, sleeping process")
    sleeping = _sendto_sleeping_process(payload_bytes + 40)
    shipped = [t / FANOUT for t in timed["shipped fan-out"]]
    patched = [t / FANOUT for t in timed["patched fan-out"]]
    rows = [
        *stages,
        _row("= Slot.push as shipped, one slot", timed["Slot.push"]),
        _row(f"= Source.on_packet as shipped, per slot of {FANOUT}", shipped),
        _row(f"  patched prototype (see notes), per slot of {FANOUT}", patched),
        _row("(reference) RTCDtlsTransport._send_rtp whole", timed["_send_rtp"]),
        _row("(reference) instrumented copy whole (with its timers)", timed["instrumented"]),
        _row(
            "sendto to a socket of another process that sleeps between packets (the full "
            "run's case; one 2000-packet sample)",
            sleeping,
        ),
    ]
    log("receive side")
    receive = await _receive_side(rig, feed)
    for name, values in receive.items():
        rows.append(_row(f"receive, once per published packet: {name}", values))
    per_slot_shipped, per_slot_patched = min(shipped), min(patched)
    savings = [a - b for a, b in zip(shipped, patched, strict=True)]
    saving = statistics.median(savings)
    return {
        "iterations": ITERATIONS,
        "repeats": ROUNDS,
        "fanout": FANOUT,
        "payload_bytes": payload_bytes,
        "srtp_profile": _srtp_profile(dtls),
        "stages": rows,
        "send_path_us": min(timed["Slot.push"]),
        "per_slot_shipped_us": per_slot_shipped,
        "per_slot_patched_us": per_slot_patched,
        "patch_saving_us_median": saving,
        "sendto_sleeping_us": statistics.median(sleeping),
        "sendto_same_process_us": stages[7]["us"],
        "rounds": timed,
        "notes": [
            f"Fan-out rows: {FANOUT} sites, {distinct_keys} distinct (MID, extension IDs), so "
            f"the shipped code builds one extension block per packet. Patched prototype: the "
            f"sender-report NTP time and monotonic() read once per published packet instead "
            f"of once per slot; it saves {saving:.1f} µs per forwarded packet (median of the "
            f"per-round differences; {saving / statistics.median(shipped):.0%}).",
            "Receive rows are paid once per packet the publisher sends, however many sites "
            "forward it. RTCP (receiver reports from every site, sender reports for every slot) "
            "and the room's ticker are not in this micro-benchmark; the linear fit of the full "
            "run includes them, and its sendto wakes a sleeping process for every packet.",
        ],
    }


def _sendto_sleeping_process(size: int, samples: int = 2000, gap: float = 300e-6) -> list[float]:
    """µs per sendto to a socket of another process that is asleep in recv()."""
    sink = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.bind(('127.0.0.1', 0))\n"
            "print(s.getsockname()[1], flush=True)\n"
            "while True:\n    s.recv(4096)\n",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert sink.stdout is not None
        port = int(sink.stdout.readline())
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        data = os.urandom(size)
        times = []
        for _ in range(samples):
            start = time.perf_counter_ns()
            sock.sendto(data, ("127.0.0.1", port))
            times.append(time.perf_counter_ns() - start)
            until = time.perf_counter() + gap
            while time.perf_counter() < until:  # let the sink go back to sleep
                pass
        sock.close()
        chunk = samples // ROUNDS
        return [statistics.median(times[i * chunk : (i + 1) * chunk]) / 1000 for i in range(ROUNDS)]
    finally:
        sink.kill()
        sink.wait()


def _srtp_profile(dtls: Any) -> str | None:
    with contextlib.suppress(Exception):
        return dtls._ssl.get_selected_srtp_profile().decode()
    return None


async def _receive_side(rig: Rig, feed: Feed) -> dict[str, list[float]]:
    """What the hall's SitePeer spends on one published packet before any fan-out."""
    receiver = rig.hall_receiver()
    hall_dtls = receiver.transport
    video = next(t for t in rig.publisher.pc.getTransceivers() if t.kind == "video")
    pub_sender = video.sender
    pub_dtls = pub_sender.transport
    extmap = hooks._private(pub_sender, RTCRtpSender, "rtp_header_extensions_map")
    ssrc = pub_sender._ssrc
    vp8_pt = next(
        pt
        for pt, codec in hooks._private(receiver, type(receiver), "codecs").items()
        if codec.mimeType.lower() == "video/vp8"
    )
    source = rig.camera
    source.slots.clear()  # nothing to fan out to: the receive side only
    # Two streams: the publisher's own SSRC continues its live numbering (the receiver's
    # NACK generator and statistics see no gap), and a second SSRC, which no receiver knows,
    # for the steps that time only SRTP (it keeps both SRTP contexts in step, and a gap in
    # the first stream would make the NACK generator track thousands of missing packets).
    next_seq = {ssrc: uint16(rig.last_live_seq + 1), ssrc + 1: 0}
    clock = [current_ms()]

    def make(stream: int, step_ms: int = 0) -> tuple[bytes, bytes]:
        """A publisher packet, plain and SRTP-protected by the publisher's own context; its
        abs-send-time follows ``clock`` (the captured ones would jump back at each lap)."""
        clock[0] += step_ms
        packet = copy.deepcopy(feed.next())
        packet.extensions.abs_send_time = ((clock[0] << 18) // 1000) & 0xFFFFFF
        packet.sequence_number = next_seq[stream]
        next_seq[stream] = uint16(next_seq[stream] + 1)
        packet.ssrc = stream
        packet.payload_type = vp8_pt
        data = packet.serialize(extmap)
        return data, pub_dtls._tx_srtp.protect(data)

    sample = make(ssrc + 1)[1]
    pending: list[bytes] = []

    async def stun_attempt() -> None:
        with contextlib.suppress(ValueError):
            stun.parse_message(sample)

    async def unprotect() -> None:
        hall_dtls._rx_srtp.unprotect(pending.pop())

    # aiortc's bitrate estimator erases its 1 ms buckets one by one up to the arrival time,
    # so its cost depends on the gap since the previous packet: packets arrive on a clock
    # that advances as the real stream's does (~70 video packets a second).
    async def handle() -> None:
        await hall_dtls._handle_rtp_data(pending.pop(), clock[0])

    async def timed(step: Step, prepare: Callable[[], None] | None) -> list[float]:
        values = []
        for _ in range(ROUNDS):
            total = 0
            for i in range(ITERATIONS):
                if prepare is not None:
                    prepare()
                start = time.perf_counter_ns()
                await step()
                total += time.perf_counter_ns() - start
                if i % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
            values.append(total / ITERATIONS / 1000)
        return values

    def protected_only() -> None:
        pending.append(make(ssrc + 1)[1])

    def plain_on_the_stream() -> None:
        data, protected = make(ssrc, 14)
        hall_dtls._rx_srtp.unprotect(protected)  # in step with the publisher's context
        pending.append(data)

    results: dict[str, list[float]] = {}
    results["aioice's STUN parse attempt (made on every datagram)"] = await timed(
        stun_attempt, None
    )
    results["SRTP unprotect"] = await timed(unprotect, protected_only)
    results[
        "RTP parse + route + tap (stats, NACK, REMB) + Source.on_packet (0 slots)"
    ] = await timed(handle, plain_on_the_stream)

    # The whole path through the socket layer: datagrams handed to aioice's protocol, then
    # the DTLS transport's receive task; this thread's CPU per packet. Packets go in bursts
    # of 50 (about a key frame's worth).
    connection = hall_dtls.transport._connection
    protocol = connection._nominated[1].protocol
    addr = connection._nominated[1].remote_addr
    batch = [make(ssrc, 14)[1] for _ in range(3000)]
    before = source.packets
    gc.collect()
    cpu = time.thread_time()
    deadline = time.monotonic() + 30
    for start in range(0, len(batch), 50):
        for data in batch[start : start + 50]:
            protocol.datagram_received(data, addr)
        while source.packets - before < start + 50 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0)  # the DTLS task runs when this yields
    cpu = time.thread_time() - cpu
    if source.packets - before < len(batch):
        raise RuntimeError(f"only {source.packets - before} of {len(batch)} packets arrived")
    results[
        "whole receive path through aioice's queue and the DTLS task (thread CPU, "
        "3000 packets in bursts of 50)"
    ] = [cpu / len(batch) * 1e6]
    return results


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = asyncio.run(measure())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
