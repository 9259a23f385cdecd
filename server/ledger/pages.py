"""One ledger entry as a page: what it records, its signed head and proof, and how to check it
(public, as the API is: ``server/ledger/api.py``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.keys import DATABASE
from server.ledger import operations as ops
from server.ledger.api import KEY_PATH, entry_out
from server.route_table import PUBLIC, RouteTable
from server.web import int_param, render


def recorded(payload: Any, prefix: str = "") -> list[tuple[str, str]]:
    """The entry's payload as (what, value) rows for people: nested keys joined with " › ",
    underscores as spaces; the exact JSON stays on the page for verification."""
    if isinstance(payload, dict):
        rows: list[tuple[str, str]] = []
        for key, value in payload.items():
            name = str(key).replace("_", " ")
            rows.extend(recorded(value, f"{prefix} › {name}" if prefix else name))
        return rows
    if isinstance(payload, list):
        if all(not isinstance(v, dict | list) for v in payload):
            return [(prefix, ", ".join(str(v) for v in payload))]
        return [row for i, v in enumerate(payload) for row in recorded(v, f"{prefix} {i + 1}")]
    return [(prefix, "—" if payload is None else str(payload))]


async def entry_page(request: web.Request) -> web.Response:
    position = int_param(request, "position")
    async with request.app[DATABASE].session() as db:
        found = await ops.entry_with_proof(db, position)
    out = entry_out(found.entry)
    context = {
        "entry": out,
        "recorded": recorded(out.payload),
        "head": found.head,
        "root_hex": found.head.root_hash.hex(),
        "signature_hex": found.head.signature.hex(),
        "proof": [p.hex() for p in found.proof],
        "key_path": KEY_PATH,
        "api_path": f"/api/ledger/entries/{position}",
    }
    return render(request, "ledger_entry.html", context)


def add_routes(table: RouteTable) -> None:
    table.get("/ledger/{position}", entry_page, PUBLIC, name="ledger_entry")
