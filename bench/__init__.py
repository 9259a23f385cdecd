"""Concord's media-plane benchmark (issue 3): figures, not a test.

One main-hall publisher (640x360 VP8 + Opus) and N count-only sites, each role in its own
process, all on 127.0.0.1. The server process alone is measured: CPU seconds per wall second,
µs of CPU per forwarded packet (linear fit), RSS per site, lowest site frame rate, packet loss,
and glass-to-glass latency read by one decoding probe site from the time drawn into the frames,
compared with a direct publisher→probe connection in the same run. The same load then goes
through an aiortc ``MediaRelay`` server (decode once, re-encode per site) until it collapses.

``python -m bench`` (``make bench``) runs everything; ``--quick`` a ~2 minute subset;
``--help`` for the rest. Output goes to ``bench/results/``.

The interpretation scenario (issue 4), ``python -m bench interpretation``: 3 booths × 40
listeners plus the main hall to 40 sites, the server pinned to one core; server CPU, µs per
forwarded packet, loss and the latency the server adds from interpreter to listener, against
a direct interpreter→listener path in the same window (``interpretation`` says what is
modelled and how).

Modules: ``measure`` (/proc readings, percentiles, fits), ``node`` (the child-process entry
point and its small HTTP RPC), ``servers`` (the SFU bench server around ``rooms.BridgeRoom``,
with booths for the interpretation scenario, and the MediaRelay baseline), ``clients``
(publisher, probe, count-only sites), ``run`` (the orchestrator), ``micro`` (stage-by-stage
timing of the forwarding send path), ``report`` (JSON, Markdown, PNG); for interpretation,
``listeners`` (interpreters stamping their packets, listeners reading RTP headers at the
socket), ``interpretation`` (the scenario and its orchestrator) and ``interpretation_report``.
"""
