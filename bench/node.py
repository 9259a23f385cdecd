"""The entry point of every bench child process, and the tiny HTTP RPC between them.

``python -m bench.node ROLE [json-options]`` builds the role's object, serves it on an
ephemeral port of 127.0.0.1 and prints ``READY <port>`` on stdout (its only stdout line).
The option ``cpus`` (a list of CPU numbers) pins the process, all its threads, to those CPUs;
``nice`` gives it a session of its own at that priority (negative: ahead of other processes;
needs root).
``POST /<name>`` with a JSON object calls ``rpc_<name>(**object)`` and answers its JSON result;
``POST /shutdown`` closes the object and ends the process. Logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import traceback
from typing import Any

import aiohttp
from aiohttp import web

HOST = "127.0.0.1"  # every bench process listens, and sends media, on loopback only
TIMEOUT = aiohttp.ClientTimeout(total=180)


async def call(session: aiohttp.ClientSession, url: str, name: str, **kwargs: Any) -> Any:
    """Call ``rpc_<name>`` of the node at ``url``; a remote exception becomes RuntimeError."""
    async with session.post(f"{url}/{name}", json=kwargs, timeout=TIMEOUT) as response:
        body = await response.json()
    if response.status != 200:
        raise RuntimeError(f"{url}/{name}: {body.get('error')}")
    return body


def _build(role: str, options: dict[str, Any]) -> Any:
    if role == "sfu":
        from bench.servers import SfuServer

        return SfuServer(**options)
    if role == "relay":
        from bench.servers import RelayServer

        return RelayServer(**options)
    if role == "publisher":
        from bench.clients import Publisher

        return Publisher(**options)
    if role == "probe":
        from bench.clients import Probe

        return Probe(**options)
    if role == "sites":
        from bench.clients import SitesWorker

        return SitesWorker(**options)
    if role == "booths":
        from bench.servers import BoothServer

        return BoothServer(**options)
    if role == "interpreters":
        from bench.listeners import Interpreters

        return Interpreters(**options)
    if role == "listeners":
        from bench.listeners import ListenersWorker

        return ListenersWorker(**options)
    raise SystemExit(f"unknown role {role!r}")


async def serve(role: str, options: dict[str, Any]) -> None:
    target = _build(role, options)
    done = asyncio.Event()

    async def handle(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "shutdown":
            done.set()
            return web.json_response({})
        method = getattr(target, f"rpc_{name}", None)
        if method is None:
            return web.json_response({"error": f"no such call {name}"}, status=404)
        try:
            kwargs = await request.json() if request.can_read_body else {}
            result = await method(**kwargs)
        except Exception as exc:
            logging.getLogger("bench").error("%s failed:\n%s", name, traceback.format_exc())
            return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=500)
        return web.json_response(result if result is not None else {})

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post("/{name}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"READY {port}", flush=True)
    try:
        await done.wait()
    finally:
        try:
            await asyncio.wait_for(target.close(), 20)
        except Exception:
            logging.getLogger("bench").exception("closing %s", role)
        await runner.cleanup()


def prioritise(nice: int) -> None:
    """Run at ``nice`` (negative needs root). With autogroups (sched_autogroup_enabled), the
    kernel first shares a CPU between sessions, and a nice value counts only inside its
    session: the process gets a session of its own, and that session the same nice."""
    os.setsid()
    os.nice(nice)
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass  # no autogroups: the nice value is enough


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s",
    )
    role = sys.argv[1]
    options = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    cpus = options.pop("cpus", None)
    if cpus:  # before any thread starts, so that every thread inherits it
        os.sched_setaffinity(0, cpus)
    nice = options.pop("nice", 0)
    if nice:
        prioritise(nice)
    asyncio.run(serve(role, options))


if __name__ == "__main__":
    main()
