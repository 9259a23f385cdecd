"""The ``concord`` command: serve, demo, db upgrade, user add, ledger verify, search reindex,
archive prune."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from server.accounts import operations as accounts
from server.accounts.passwords import Passwords
from server.config import Config, ConfigError
from server.db import Database
from server.errors import DomainError
from server.models import Role
from server.settings import load_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="concord", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate the database and serve the application")
    serve.add_argument("--host", help="address to listen on (CONCORD_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (CONCORD_PORT)")
    serve.add_argument(
        "--workers",
        type=_workers,
        help="run N nodes on this machine on the one port ('auto': one per core); needs "
        "PostgreSQL and Redis; worker i also listens on --port + i",
    )
    serve.add_argument("--worker-port", type=int, help=argparse.SUPPRESS)  # (a worker's own)

    commands.add_parser("demo", help="load the demo conferences and users (idempotent)")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply every pending migration")

    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_commands.add_parser("add", help="create a user")
    add.add_argument("--email", required=True)
    add.add_argument(
        "--role",
        required=True,
        action="append",
        choices=[r.value for r in Role],
        help="may be given more than once",
    )
    add.add_argument("--password", help="asked for when omitted and a terminal is attached")
    add.add_argument("--name", default="", help="display name")
    add.add_argument("--locale", default="en", choices=["en", "vi", "lo"])
    ledger = commands.add_parser("ledger", help="the signed ledger")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True, metavar="ACTION")
    verify = ledger_commands.add_parser(
        "verify", help="check every entry, signed head and proof; name what was tampered with"
    )
    verify.add_argument(
        "--public-key",
        type=Path,
        help="verify with this published public key (PEM) instead of the data directory's key",
    )
    verify.add_argument(
        "--head",
        action="append",
        metavar="FILE|JSON",
        help="also prove the log extends this kept signed tree head (a file of one or many "
        "JSON heads, or inline JSON); may be given more than once",
    )
    search = commands.add_parser("search", help="the search index")
    search_commands = search.add_subparsers(dest="search_command", required=True, metavar="ACTION")
    search_commands.add_parser("reindex", help="rebuild the search index of every conference")
    archive = commands.add_parser("archive", help="retention of the archive")
    archive_commands = archive.add_subparsers(
        dest="archive_command", required=True, metavar="ACTION"
    )
    prune = archive_commands.add_parser(
        "prune", help="delete what has passed its retention period (conferences on hold kept)"
    )
    prune.add_argument("--dry-run", action="store_true", help="show what would go; delete nothing")
    prune.add_argument(
        "--now", help="count retention up to this ISO 8601 time (with zone), not the clock"
    )
    nodes = commands.add_parser(
        "nodes", help="list the nodes of the cluster (needs CONCORD_REDIS_URL)"
    )
    nodes_commands = nodes.add_subparsers(dest="nodes_command", metavar="ACTION")
    drain = nodes_commands.add_parser(
        "drain", help="ask a node to hand its rooms to the others and stop"
    )
    drain.add_argument("node", help="the node's id, as `concord nodes` lists it")
    drain.add_argument(
        "--wait", type=float, default=30.0, help="seconds to wait for it to stop (default 30)"
    )
    simulate = commands.add_parser(
        "simulate-sites", help="join N synthetic sites to a conference (test pattern and tone)"
    )
    simulate.add_argument("--conference", type=int, required=True, help="conference number")
    simulate.add_argument("--sites", type=_positive, required=True, help="how many sites")
    simulate.add_argument("--duration", type=float, default=30.0, help="seconds (default 30)")
    simulate.add_argument("--url", help="the server's base URL (default: CONCORD_PUBLIC_URL)")
    simulate.add_argument(
        "--token",
        default=os.environ.get("CONCORD_API_TOKEN"),
        help="API token of an organiser/technician: admit the sites "
        "automatically (default: CONCORD_API_TOKEN)",
    )
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 500:
        raise argparse.ArgumentTypeError("give between 1 and 500 sites")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # a line per layout step
    overrides = {}
    if args.command == "serve":
        overrides = {"host": args.host, "port": args.port}
    try:
        config = load_config(config_file=args.config, overrides=overrides)
    except ConfigError as exc:
        print(f"concord: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            return _serve(config, args.workers, args.worker_port, args.config)
        if args.command == "db":
            asyncio.run(_upgrade(config))
            print("database is up to date")
            return 0
        if args.command == "demo":
            return asyncio.run(_demo(config))
        if args.command == "user":
            return asyncio.run(_add_user(config, args))
        if args.command == "ledger":
            from server.ledger.cli import verify_command

            return verify_command(config, args.public_key, args.head or [])
        if args.command == "search":
            from server.search.index import reindex_command

            return asyncio.run(reindex_command(config.database_url))
        if args.command == "archive":
            from server.archive.cli import prune_command

            return prune_command(config, args.dry_run, args.now)
        if args.command == "simulate-sites":
            return asyncio.run(_simulate(config, args))
        if args.command == "nodes":
            from server.cluster.cli import drain_command, nodes_command

            if args.nodes_command == "drain":
                return drain_command(config, args.node, args.wait)
            return nodes_command(config)
    except DomainError as exc:
        print(f"concord: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"concord: {exc}", file=sys.stderr)
        return 1
    return 2


def _serve(
    config: Config, workers: int | None, worker_port: int | None, config_file: Path | None
) -> int:
    from server.app import create_app
    from server.cluster.workers import Workers, listening, refusal
    from server.shutdown import SHUTDOWN_TIMEOUT, stop_once_on_sigterm

    if workers is not None and workers != 1:
        problem = refusal(config, workers)
        if problem is not None:
            print(f"concord serve: {problem}", file=sys.stderr)
            return 2
        asyncio.run(_upgrade(config))  # once, before the workers start
        return Workers(config, workers, config_file).run()
    app = create_app(config, migrate=True)
    app.on_startup.append(_freeze_heap)
    app.on_startup.append(stop_once_on_sigterm)
    # SIGTERM and SIGINT: server.shutdown tells the clients, stops recordings, closes sockets.
    if worker_port is not None:  # a worker of --workers: the shared public port, and its own
        sockets = [
            listening(config.host, config.port, shared=True),
            listening(config.host, worker_port, shared=False),
        ]
        web.run_app(app, sock=sockets, print=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        return 0
    print(f"Concord is serving on {config.public_url}", flush=True)
    web.run_app(
        app,
        host=config.host,
        port=config.port,
        print=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
    )
    return 0


def _workers(text: str) -> int:
    if text == "auto":
        return os.cpu_count() or 1
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers or 'auto'") from None
    if not 1 <= count <= 256:
        raise argparse.ArgumentTypeError(f"{count} workers: give 1 to 256, or 'auto'")
    return count


async def _freeze_heap(app: web.Application) -> None:
    """Leave what start-up made (modules, mappers, catalogues) out of garbage collection.

    A full collection walks every object in the heap; with start-up's objects in it, each one
    stalls the event loop for ~60 ms, in the middle of requests and of media forwarding. After
    ``gc.freeze()`` it takes ~5 ms. Only for the served process: tests create many apps.
    """
    gc.collect()
    gc.freeze()


async def _upgrade(config: Config) -> None:
    database = Database(config.database_url)
    try:
        await database.upgrade()
    finally:
        await database.close()


async def _demo(config: Config) -> int:
    from server.demo.archive import archive_demo
    from server.demo.loader import load_demo
    from server.ledger.operations import ledger_signer
    from server.search.index import keep_index

    database = keep_index(Database(config.database_url))
    passwords = Passwords.from_config(config)
    try:
        await database.upgrade()
        report = await load_demo(database, passwords)
        archived = await archive_demo(
            database,
            passwords,
            ledger_signer(config.data_dir, config.ledger_witness),
            config.data_dir,
        )
    finally:
        await database.close()
    print("\n".join([report.summary(), *archived]))
    return 0


async def _simulate(config: Config, args: argparse.Namespace) -> int:
    from server.live.simulate import SimulationError
    from server.live.simulate_cli import SimulateError, failed, simulate

    if args.duration <= 0:
        print("concord: --duration must be positive", file=sys.stderr)
        return 2
    try:
        reports = await simulate(
            config,
            args.conference,
            args.sites,
            args.duration,
            args.url or config.public_url,
            args.token,
        )
    except (SimulateError, SimulationError) as exc:
        print(f"concord: {exc}", file=sys.stderr)
        return 1
    for report in reports:
        print(report.line())
    silent = failed(reports)
    if silent:
        print(f"concord: no video or no audio at: {', '.join(silent)}", file=sys.stderr)
    revoked = [f"{r.site} ({r.revoked})" for r in reports if r.revoked]
    if revoked:
        print(f"concord: access withdrawn at: {', '.join(revoked)}", file=sys.stderr)
    return 1 if silent or revoked else 0


async def _add_user(config: Config, args: argparse.Namespace) -> int:
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            print("concord: --password is required when no terminal is attached", file=sys.stderr)
            return 2
        password = getpass.getpass("Password: ")
    database = Database(config.database_url)
    try:
        await database.upgrade()
        async with database.session() as db, db.begin():
            user = await accounts.create_user(
                db,
                Passwords.from_config(config),
                None,
                email=args.email,
                roles=[Role(r) for r in args.role],
                password=password,
                display_name=args.name,
                locale=args.locale,
            )
            print(f"created user {user.email} ({', '.join(args.role)})")
    finally:
        await database.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
