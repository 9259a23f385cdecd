"""coturn (Debian's ``turnserver``) for tests, configured as README's "TURN for locked-down
networks" tells an operator: ``use-auth-secret`` with a ``static-auth-secret`` shared with
Concord, TURN over TCP only (no UDP listener: the sites it serves have no UDP route), no TLS,
DTLS or CLI, a small relay port range, everything logged to one file of the test's.

:func:`running_coturn` starts it on ``host``:``port`` (the loopback, or inside a test's own
network namespace through ``prefix = ["ip", "netns", "exec", NAME]``) and stops it on exit.
``allow-loopback-peers`` is set only when ``host`` is a loopback address: coturn refuses to
relay to 127.x by default, and tests on the loopback have their peers there.

``make test`` installs coturn like Chromium (root and apt-get); where it cannot be run,
:func:`unavailable_reason` says why (tests skip, or fail under ``CONCORD_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import _stop as stop

TURNSERVER = shutil.which("turnserver") or "/usr/bin/turnserver"
REALM = "concord.test"
STARTUP_TIMEOUT = 30.0  # a loaded CI machine


def unavailable_reason() -> str | None:
    """Why coturn cannot run here, or None."""
    if not os.access(TURNSERVER, os.X_OK):
        return f"{TURNSERVER} is missing (apt-get install coturn; `make test` does)"
    return None


def require() -> None:
    """Skip the test (fail it under ``CONCORD_REQUIRE_SERVICES=1``) if coturn cannot run."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CONCORD_REQUIRE_SERVICES") == "1":
        pytest.fail(f"coturn is required: {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class Coturn:
    host: str
    port: int
    secret: str
    log: Path

    @property
    def url(self) -> str:
        """The TURN-over-TCP URL a browser is given (``CONCORD_TURN_URLS``)."""
        return f"turn:{self.host}:{self.port}?transport=tcp"

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


def config_lines(
    host: str, port: int, secret: str, directory: Path, relay_ports: tuple[int, int]
) -> list[str]:
    lines = [
        f"listening-ip={host}",
        f"relay-ip={host}",
        f"listening-port={port}",
        "use-auth-secret",
        f"static-auth-secret={secret}",
        f"realm={REALM}",
        "no-udp",  # clients reach it over TCP only; relays to peers are UDP as always
        "no-tls",
        "no-dtls",
        "no-cli",
        f"min-port={relay_ports[0]}",
        f"max-port={relay_ports[1]}",
        "no-multicast-peers",
        "fingerprint",
        "no-software-attribute",
        "verbose",  # also what tells that the TCP listener is open
        "log-file=stdout",
        "simple-log",
        f"pidfile={directory / 'turnserver.pid'}",
        f"userdb={directory / 'turndb'}",  # unused with use-auth-secret, but never /var/lib
    ]
    if ipaddress.ip_address(host).is_loopback:
        lines.append("allow-loopback-peers")
    return lines


@contextlib.contextmanager
def running_coturn(
    directory: Path,
    host: str,
    port: int,
    secret: str,
    *,
    prefix: Sequence[str] = (),
    relay_ports: tuple[int, int] = (49152, 49407),
) -> Iterator[Coturn]:
    """coturn on ``host``:``port`` (TCP), its config and log in ``directory``; stopped on exit.
    Returns once its TCP listener is open, or fails the test with its log."""
    require()
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "turnserver.conf"
    conf.write_text("\n".join(config_lines(host, port, secret, directory, relay_ports)) + "\n")
    log = directory / "turnserver.log"
    turn = Coturn(host, port, secret, log)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*prefix, TURNSERVER, "-c", str(conf)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        ready = f"TCP listener opened on : {host}:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while ready not in turn.log_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"coturn did not open {host}:{port} (exit {process.poll()}):\n"
                    + "\n".join(turn.log_text().splitlines()[-30:]),
                    pytrace=False,
                )
            time.sleep(0.05)
        yield turn
    finally:
        stop(process)
