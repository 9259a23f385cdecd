"""Public verification of the ledger: the public key, the latest signed head, and one entry
with its inclusion proof (JSON); ``pages.py`` shows the same entry as a page explaining how to
check it.

All of it is public, on purpose: the ledger exists so that people who do not trust
Concord's database (a delegation, an auditor, years later) can check it. That is safe
because entries carry only ids, outcomes, times and SHA-256 hashes, never names, e-mail
addresses or texts: a permit decision names its decider by user id and attests its
comment by hash (``server.permits.operations.decide``). Whoever adds a kind of entry must
keep it that way, or put these routes behind ``SIGNED_IN``.
"""

from __future__ import annotations

from aiohttp import web

from recordings.ledger.tree_head import SignedTreeHead
from server.errors import NotFound
from server.i18n_strings import N_
from server.keys import DATABASE, LEDGER_SIGNER
from server.ledger import operations as ops
from server.ledger.schemas import EntryOut, EntryProofOut, HeadOut
from server.models import LedgerEntry
from server.route_table import PUBLIC, ApiDoc, RouteTable
from server.web import int_param, json_response

KEY_PATH = "/.well-known/concord-ledger-key.pem"


def head_out(head: SignedTreeHead) -> HeadOut:
    return HeadOut.model_validate(head.to_dict())


def entry_out(entry: LedgerEntry) -> EntryOut:
    return EntryOut(
        position=entry.position,
        kind=entry.kind,
        ref=entry.ref,
        payload=entry.payload,
        data=bytes(entry.data).decode("utf-8", errors="replace"),
        leaf_hash=bytes(entry.leaf_hash).hex(),
        appended_at=entry.appended_at,
    )


async def public_key(request: web.Request) -> web.Response:
    """The Ed25519 public key (SubjectPublicKeyInfo PEM) that signs every tree head."""
    return web.Response(
        body=request.app[LEDGER_SIGNER].public_key_pem(),
        content_type="application/x-pem-file",
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def latest(request: web.Request) -> web.Response:
    async with request.app[DATABASE].session() as db:
        head = await ops.latest_head(db)
    if head is None:
        raise NotFound(N_("the ledger is empty: no tree head is signed yet"), code="ledger_empty")
    return json_response(head_out(head))


async def entry_api(request: web.Request) -> web.Response:
    position = int_param(request, "position")
    async with request.app[DATABASE].session() as db:
        found = await ops.entry_with_proof(db, position)
    out = entry_out(found.entry)
    return json_response(
        EntryProofOut(
            entry=out,
            leaf_hash=out.leaf_hash,
            head=head_out(found.head),
            inclusion_proof=[p.hex() for p in found.proof],
        )
    )


def add_routes(table: RouteTable) -> None:
    tag = "ledger"
    table.get(KEY_PATH, public_key, PUBLIC, name="ledger_key")
    table.get(
        "/api/ledger/heads/latest",
        latest,
        PUBLIC,
        doc=ApiDoc("The latest signed tree head of the ledger", tag, response=HeadOut),
    )
    table.get(
        "/api/ledger/entries/{position}",
        entry_api,
        PUBLIC,
        doc=ApiDoc(
            "One ledger entry, its leaf hash, the latest signed head and the entry's "
            "inclusion proof in it",
            tag,
            response=EntryProofOut,
        ),
    )
