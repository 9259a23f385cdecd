"""Schemathesis over every operation of the OpenAPI document, against a served demo (issue 13).

Positive and negative examples for each operation, a bounded number of each. Every answer must
be below 500, conform to the document (status, content type, headers, body schema), and a
refused (4xx) request must leave every table as it was (row counts and a digest of the rows,
so that inserts, updates and deletes all show).

The run authenticates as the demo's admin with an API token. The two operations that end a
credential (``DELETE /api/session`` and ``DELETE /api/tokens/{token_id}``) get a fresh token
of the demo organiser for each call, so the run cannot sign itself out.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup, ServerError
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from server.accounts import operations as account_ops
from server.app import create_app
from server.identity import Identity
from server.keys import DATABASE
from server.models import User
from server.route_table import NUMBER_RANGE
from server.settings import load_config
from tests.conftest import _TEST_ENVIRONMENT, Templates

#: Examples per operation and mode: about 2 × 80 × EXAMPLES requests in all (3,220 at 20:
#: 50-130 s on the shared 2-core machine). The same examples each run, so that CI is stable;
#: CONCORD_FUZZ_RANDOM=1 draws new ones (and CONCORD_FUZZ_EXAMPLES more of them) to hunt.
EXAMPLES = int(os.environ.get("CONCORD_FUZZ_EXAMPLES", "20"))
DERANDOMIZE = os.environ.get("CONCORD_FUZZ_RANDOM") != "1"
ADMIN = "admin@concord.example"
ORGANISER = "organiser@concord.example"
#: Where each path number's records are, and the column naming their conference (if any):
#: half the examples with valid path numbers name records that exist when they are sent.
SOURCES: dict[str, tuple[str, str, str | None]] = {
    "conference_id": ("conferences", "id", None),
    "session_id": ("agenda_sessions", "id", "conference_id"),
    "site_id": ("sites", "id", "conference_id"),
    "delegation_id": ("delegations", "id", "conference_id"),
    "assignment_id": ("interpreter_assignments", "id", "conference_id"),
    "invitation_id": ("invitations", "id", "conference_id"),
    "agreement_id": ("agreements", "id", "conference_id"),
    "recording_id": ("recordings", "id", "conference_id"),
    "application_id": ("permit_applications", "id", None),
    "attachment_id": ("permit_attachments", "id", None),
    "version_id": ("agreement_versions", "id", None),
    "signatory_id": ("agreement_signatories", "id", None),
    "token_id": ("api_tokens", "id", None),
    "feed_id": ("calendar_feeds", "id", None),
    "position": ("ledger_entries", "position", None),
    "number": ("minutes_revisions", "number", None),
    "a": ("minutes_revisions", "number", None),
    "b": ("minutes_revisions", "number", None),
}
# A PDF upload is raw bytes, sent as schemathesis sends application/octet-stream.
schemathesis.serializer.alias("application/pdf", "application/octet-stream")
OWN_TOKEN = {("DELETE", "/api/session"), ("DELETE", "/api/tokens/{token_id}")}


@schemathesis.check
def not_a_server_error_but_mail(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, except the documented 503 of a server configured to send no e-mail (this one)."""
    if response.status_code < 500:
        return None
    if response.status_code == 503 and b'"code": "mail_unavailable"' in response.content:
        return None
    raise ServerError(operation=case.operation.label, status_code=response.status_code)


CHECKS = [
    not_a_server_error_but_mail,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


class Served:
    """The app on 127.0.0.1 in a thread of its own, with its own copy of the demo database."""

    def __init__(self, directory: Path, templates: Templates) -> None:
        self.file = directory / "fuzz.db"
        url = f"sqlite+aiosqlite:///{self.file}"
        asyncio.run(templates.restore(url, "demo"))
        environ = {
            **_TEST_ENVIRONMENT,
            "CONCORD_DATA_DIR": str(directory / "data"),
            "CONCORD_DATABASE_URL": url,
        }
        self.app = create_app(load_config(environ=environ))
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(self.app)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.base_url = self.run(self._start())

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    async def _start(self) -> str:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        return f"http://{host}:{port}"

    def token(self, email: str) -> str:
        async def make() -> str:
            async with self.app[DATABASE].session() as db, db.begin():
                user_id = await db.scalar(select(User.id).where(User.email == email))
                made = await account_ops.create_api_token(
                    db, Identity(via="bearer", user_id=user_id), "fuzz"
                )
            return made.token

        token: str = self.run(make())
        return token

    def close(self) -> None:
        self.run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


#: Columns any authenticated request may touch (a token's last use), left out of the snapshot.
BOOKKEEPING = {"api_tokens": {"last_used_at"}}


def snapshot(file: Path) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of its rows: a rejected request must change
    neither (an insert, an update and a delete all show)."""
    found: dict[str, tuple[int, str]] = {}
    with sqlite3.connect(file, timeout=10) as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            skip = BOOKKEEPING.get(table, set())
            columns = [
                c[1] for c in db.execute(f'PRAGMA table_info("{table}")') if c[1] not in skip
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            rows = sorted(map(repr, db.execute(f'SELECT {listed} FROM "{table}"')))
            found[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return found


def valid_number(value: object) -> bool:
    low, high = NUMBER_RANGE
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def existing(file: Path, names: list[str], seed: int) -> dict[str, int]:
    """A number for each of ``names`` that names a record (of one conference, where it
    matters), chosen by ``seed``; names without records are left out."""
    chosen: dict[str, int] = {}
    pick = random.Random(seed)
    with sqlite3.connect(file, timeout=10) as db:
        conferences = [row[0] for row in db.execute("SELECT id FROM conferences")]
        if not conferences:
            return chosen
        conference = pick.choice(conferences)
        for name in names:
            table, column, scope = SOURCES[name]
            if name == "conference_id":
                chosen[name] = conference
                continue
            sql, args = f'SELECT "{column}" FROM "{table}"', tuple[int, ...]()
            if scope is not None:
                sql, args = f'{sql} WHERE "{scope}" = ?', (conference,)
            values = [row[0] for row in db.execute(sql, args)]
            if values:
                chosen[name] = pick.choice(values)
    return chosen


@dataclass
class Findings:
    requests: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)  # one per operation and kind

    def add(self, label: str, kind: str, detail: str) -> None:
        self.problems.setdefault(f"{label}: {kind}", detail[:1500])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, templates: Templates) -> Iterator[Served]:
    made = Served(tmp_path_factory.mktemp("fuzz"), templates)
    try:
        yield made
    finally:
        made.close()


@dataclass
class Run:
    served: Served
    findings: Findings
    admin: dict[str, str]
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, case: Any, label: str, own_token: bool) -> None:
        headers = dict(self.admin)
        if own_token:
            headers["Authorization"] = f"Bearer {self.served.token(ORGANISER)}"
        before = snapshot(self.served.file)
        response = case.call(base_url=self.served.base_url, session=self.session, headers=headers)
        findings = self.findings
        findings.requests += 1
        status = response.status_code
        findings.by_status[status] = findings.by_status.get(status, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                findings.add(label, failure.title, f"{failure.message} {case.as_curl_command()}")
        except Failure as failure:
            findings.add(label, failure.title, f"{failure.message} {case.as_curl_command()}")
        if 400 <= status < 500:
            after = snapshot(self.served.file)
            changed = {
                table: f"{before[table][0] if table in before else 0} → {rows} rows"
                for table, (rows, digest) in after.items()
                if before.get(table, (0, ""))[1] != digest
            }
            if changed:
                findings.add(label, f"{status} wrote rows", f"{changed} {case.as_curl_command()}")

    def probe(self, operation: Any, mode: GenerationMode) -> None:
        label = f"{operation.method.upper()} {operation.path}"
        own_token = (operation.method.upper(), operation.path) in OWN_TOKEN

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=DERANDOMIZE,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=operation.as_strategy(generation_mode=mode),
            seed=st.none() | st.integers(0, 2**32),
        )
        def examples(case: Any, seed: int | None) -> None:
            numbers = {k: v for k, v in (case.path_parameters or {}).items() if k in SOURCES}
            if seed is not None and numbers and all(map(valid_number, numbers.values())):
                # Examples whose path numbers are valid (in negative mode: where the body or
                # query is what was made wrong) name, half of the time, records that exist, so
                # that they get past the lookup and into the operation.
                case.path_parameters.update(existing(self.served.file, list(numbers), seed))
            self.call(case, label, own_token)

        try:
            examples()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE or operation.path_parameters or operation.body:
                self.findings.add(label, f"{mode.value} generation", "unsatisfiable")
            # else: nothing to negate (no parameters, no body)
        except Exception as exc:  # a schema it cannot generate from is a finding too
            self.findings.add(label, f"{mode.value} generation", repr(exc))


def test_every_operation_survives_schemathesis(served: Served) -> None:
    started = time.monotonic()
    admin = {"Authorization": f"Bearer {served.token(ADMIN)}"}
    schema = schemathesis.openapi.from_url(f"{served.base_url}/api/openapi.json")
    findings = Findings()
    run = Run(served, findings, admin)
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            findings.add("document", "invalid operation", str(result.err()))
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run.probe(result.ok(), mode)
    took = time.monotonic() - started
    print(f"schemathesis: {findings.requests} requests in {took:.0f} s; {findings.by_status}")
    report = "\n\n".join(f"{k}\n  {v}" for k, v in sorted(findings.problems.items()))
    assert not findings.problems, f"{len(findings.problems)} findings:\n{report}"
