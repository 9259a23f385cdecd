"""Browser-test harness: one demo server and one headless Chromium in a private network namespace.

Everything a browser test touches runs inside a fresh network namespace (``ip netns``) whose only
interface is ``lo``: the Concord server (``python -m server serve``, on the demo data) and the
system Chromium. Playwright drives Chromium over a pipe, so the pytest process itself stays in the
host namespace; Chromium is started through a small wrapper script that execs it under
``ip netns exec``. Nothing here can reach any address but 127.0.0.1 inside that namespace.

Fixtures:
- ``concord_server`` (package): the running demo server; ``.url`` is its base URL.
- ``browser_context`` (package): the one Chromium, as a Playwright persistent context on a fresh
  profile directory.
- ``page`` (function): a new tab on a signed-out browser (cookies cleared before each test);
  a screenshot is written to ``test-output/browser/FAILED-<test>.png`` when the test fails.
- ``browser`` (package): a second Chromium in the namespace, launched (not persistent), for tests
  that need several isolated browser contexts (each with its own cookie jar).
- ``new_context`` (function): ``new_context("site-4")`` opens a fresh context of ``browser``
  (base URL ``concord_server``'s, or the ``base_url`` given; signed out); every page of it is
  screenshotted to ``test-output/browser/FAILED-<test>-<name>.png`` when the test fails; all
  closed after the test.
- ``screenshot``: ``screenshot(page, "name")`` writes ``test-output/browser/name.png``.

The tests are skipped, with the reason shown, when the machine cannot run them (not root, no
``ip netns``, no /usr/bin/chromium, no playwright). With ``CONCORD_REQUIRE_SERVICES=1`` (as for
PostgreSQL in tests/conftest.py) those conditions fail instead, so CI cannot skip them silently.

The server's output goes to ``test-output/browser/server.log``.

The namespace, server and browser are package-scoped: shared by every test in tests/browser and
torn down as soon as the last of them has run. Not session-scoped, because while the sync
Playwright is open its event loop counts as running in this thread, and pytest-asyncio could not
run the async tests collected after this directory.

Every test collected under this directory is marked ``browser``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
OUTPUT_DIR = REPO / "test-output" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
PORT = 8080  # the namespace is new and private, so any port is free
STARTUP_TIMEOUT = 30.0

CHROMIUM_ARGS = [
    "--allow-loopback-in-peer-connection",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Run inside the namespace: poll /healthz on the server's address (loopback, or the hub's end
# of a test link) until it answers 200. http.client, not urllib, so that no *_proxy variable
# can send the request anywhere else.
HEALTH_PROBE = """
import http.client, sys, time
port, deadline, host = int(sys.argv[1]), time.monotonic() + float(sys.argv[2]), sys.argv[3]
while time.monotonic() < deadline:
    try:
        conn = http.client.HTTPConnection(host, port, timeout=2)
        conn.request("GET", "/healthz")
        if conn.getresponse().status == 200:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, so ``page`` can tell that its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _cannot_run(reason: str) -> None:
    if os.environ.get("CONCORD_REQUIRE_SERVICES") == "1":
        pytest.fail(
            f"browser tests cannot run: {reason}; CONCORD_REQUIRE_SERVICES=1 demands them",
            pytrace=False,
        )
    pytest.skip(f"browser tests skipped: {reason}")


def _check_machine() -> None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        _cannot_run("they need root to create a network namespace (ip netns)")
    if shutil.which("ip") is None:
        _cannot_run("the `ip` command (iproute2) is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        _cannot_run(f"{CHROMIUM} is missing (apt-get install chromium; `make test` does)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _cannot_run("the playwright package is not installed")


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


@dataclass(frozen=True)
class Namespace:
    name: str

    def command(self, *cmd: str | os.PathLike[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *map(str, cmd)]


@pytest.fixture(scope="package")
def netns() -> Iterator[Namespace]:
    """A fresh network namespace with only ``lo`` up; deleted (with anything left in it) after."""
    _check_machine()
    ns = Namespace(f"concord-{secrets.token_hex(4)}")
    made = _run("ip", "netns", "add", ns.name)
    if made.returncode != 0:
        _cannot_run(f"`ip netns add` failed: {made.stderr.strip()}")
    try:
        up = _run(*ns.command("ip", "link", "set", "lo", "up"))
        assert up.returncode == 0, f"could not bring lo up in {ns.name}: {up.stderr}"
        yield ns
    finally:
        # Anything still running in the namespace was started by these fixtures.
        pids = _run("ip", "netns", "pids", ns.name).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        _run("ip", "netns", "delete", ns.name)


@dataclass(frozen=True)
class Server:
    url: str
    data_dir: Path
    log: Path


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    return OUTPUT_DIR


def concord_command(
    data_dir: Path, port: int, host: str = "127.0.0.1", settings: Mapping[str, str] | None = None
) -> list[str]:
    """``python -m server`` on ``data_dir``, as served on ``host``:``port`` (add the verb);
    its ICE candidates are on ``host`` too; ``settings`` adds ``CONCORD_*`` variables."""
    env = [
        f"CONCORD_DATA_DIR={data_dir}",
        f"CONCORD_ICE_HOST_ADDRESSES={host}",
        f"CONCORD_PUBLIC_URL=http://{host}:{port}",
        *(f"{name}={value}" for name, value in (settings or {}).items()),
    ]
    return ["env", *env, sys.executable, "-m", "server"]


def make_demo(
    netns: Namespace, data_dir: Path, port: int, log: Path, host: str = "127.0.0.1"
) -> None:
    """``concord demo`` on a fresh ``data_dir`` (its output written to ``log``)."""
    with log.open("wb") as out:
        demo = subprocess.run(
            netns.command(*concord_command(data_dir, port, host), "demo"),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=120,
            check=False,
        )
    if demo.returncode != 0:
        pytest.fail(f"`concord demo` failed ({demo.returncode}):\n{_tail(log)}", pytrace=False)
    # The demo's memorandum (conference 1, with the Lao booth) has ended, and an ended
    # conference's room is closed: the room tests hold it again, live.
    with sqlite3.connect(data_dir / "concord.db") as db:
        db.execute("UPDATE conferences SET status = 'live' WHERE id = 1")


def serve(
    netns: Namespace,
    data_dir: Path,
    port: int,
    log: Path,
    host: str = "127.0.0.1",
    settings: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """``concord serve`` in the namespace on ``host`` (its output appended to ``log``; more
    ``CONCORD_*`` variables in ``settings``, more options of ``serve`` in ``options``); returns
    once it answers /healthz, or stops it and fails the test."""
    with log.open("ab") as out:
        server = subprocess.Popen(
            netns.command(
                *concord_command(data_dir, port, host, settings),
                "serve",
                "--host",
                host,
                "--port",
                str(port),
                *options,
            ),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    probe = subprocess.Popen(
        netns.command(sys.executable, "-c", HEALTH_PROBE, str(port), str(STARTUP_TIMEOUT), host),
        stdin=subprocess.DEVNULL,
    )
    try:
        while probe.poll() is None:
            if server.poll() is not None:
                pytest.fail(
                    f"the server exited ({server.returncode}) before it was healthy:\n{_tail(log)}",
                    pytrace=False,
                )
            time.sleep(0.05)
        if probe.returncode != 0:
            pytest.fail(
                f"the server did not answer /healthz within {STARTUP_TIMEOUT}s:\n{_tail(log)}",
                pytrace=False,
            )
    except BaseException:
        _stop(server)
        raise
    finally:
        _stop(probe)
    return server


@pytest.fixture(scope="package")
def concord_server(
    netns: Namespace, tmp_path_factory: pytest.TempPathFactory, output_dir: Path
) -> Iterator[Server]:
    """``concord demo`` then ``concord serve`` inside the namespace, on a temporary data dir."""
    data_dir = tmp_path_factory.mktemp("concord-data")
    log = output_dir / "server.log"
    make_demo(netns, data_dir, PORT, log)
    server = serve(netns, data_dir, PORT, log)
    try:
        yield Server(url=f"http://127.0.0.1:{PORT}", data_dir=data_dir, log=log)
    finally:
        _stop(server)


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """The one sync Playwright driver, shared by every browser of this package."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


def write_chromium_wrapper(netns: Namespace, directory: Path) -> Path:
    """A script in ``directory`` that runs the system Chromium inside ``netns`` (Playwright's
    executable)."""
    wrapper = directory / "chromium"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {netns.name} {CHROMIUM} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@pytest.fixture(scope="package")
def chromium_wrapper(netns: Namespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Chromium wrapper for the package's namespace."""
    return write_chromium_wrapper(netns, tmp_path_factory.mktemp("chromium-wrapper"))


def browser_env() -> dict[str, str | float | bool]:
    # No proxy settings reach Chromium: it must only ever talk to 127.0.0.1.
    return {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}


CONTEXT_OPTIONS: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "en-GB",
}


@pytest.fixture(scope="package")
def browser_context(
    playwright: Playwright,
    chromium_wrapper: Path,
    concord_server: Server,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BrowserContext]:
    """The one headless Chromium, running in the namespace, on a fresh profile."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright.chromium.launch_persistent_context(
        user_data_dir=str(profile),
        executable_path=str(chromium_wrapper),
        args=CHROMIUM_ARGS,
        headless=True,
        env=browser_env(),
        base_url=concord_server.url,
        timeout=30_000,
        **CONTEXT_OPTIONS,
    )
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="package")
def browser(
    playwright: Playwright, chromium_wrapper: Path, concord_server: Server
) -> Iterator[Browser]:
    """A second headless Chromium in the namespace, for tests that need several isolated
    contexts (separate cookie jars): ``browser.new_context()``. Playwright launches it on a
    fresh temporary profile of its own."""
    launched = playwright.chromium.launch(
        executable_path=str(chromium_wrapper),
        args=CHROMIUM_ARGS,
        headless=True,
        env=browser_env(),
        timeout=30_000,
    )
    try:
        yield launched
    finally:
        launched.close()


Screenshot = Callable[..., Path]


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "page"


@pytest.fixture(scope="session")
def screenshot(output_dir: Path) -> Screenshot:
    """``screenshot(page, "home-organiser")`` -> ``test-output/browser/home-organiser.png``."""

    def take(page: Page, name: str, *, full_page: bool = True) -> Path:
        path = output_dir / f"{_file_name(name)}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def page(
    request: pytest.FixtureRequest, browser_context: BrowserContext, screenshot: Screenshot
) -> Iterator[Page]:
    """A new tab, signed out: the shared context's cookies are cleared before each test."""
    browser_context.clear_cookies()
    tab = browser_context.new_page()
    try:
        yield tab
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            try:
                screenshot(tab, f"FAILED-{request.node.name}")
            except Exception:  # the page may be gone; the failure itself is what matters
                pass
    finally:
        tab.close()


class NewContext(Protocol):
    def __call__(self, name: str, base_url: str | None = None) -> BrowserContext: ...


@pytest.fixture
def new_context(
    request: pytest.FixtureRequest,
    browser: Browser,
    concord_server: Server,
    screenshot: Screenshot,
) -> Iterator[NewContext]:
    """A factory of isolated, signed-out browser contexts, closed after the test."""
    opened: list[tuple[str, BrowserContext]] = []

    def make(name: str, base_url: str | None = None) -> BrowserContext:
        context = browser.new_context(base_url=base_url or concord_server.url, **CONTEXT_OPTIONS)
        context.set_default_timeout(10_000)
        opened.append((name, context))
        return context

    try:
        yield make
        screenshot_failed(request, screenshot, opened)
    finally:
        close_contexts(opened)


def screenshot_failed(
    request: pytest.FixtureRequest,
    screenshot: Screenshot,
    opened: list[tuple[str, BrowserContext]],
) -> None:
    """If the test failed: every page of the ``opened`` (name, context) pairs to
    ``FAILED-<test>-<name>[-<n>].png``."""
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    for name, context in opened:
        for i, tab in enumerate(context.pages):
            suffix = f"-{i}" if i else ""
            try:
                screenshot(tab, f"FAILED-{request.node.name}-{name}{suffix}")
            except Exception:  # the page may be gone; the failure itself is what matters
                pass


def close_contexts(opened: list[tuple[str, BrowserContext]]) -> None:
    for _, context in opened:
        try:
            context.close()
        except Exception:  # already closed with its browser
            pass
