"""Search documents for the archive's records: the minutes (the current text of each agenda
item, in every language) and the agreements (title, kind, parties, donor, programme).

Pure functions of already loaded rows; ``server.search.index`` loads them and writes the
documents. A minutes document carries the conference's parties; an agreement's carries its
own parties (and their delegations) and its donor, so the party filter finds an agreement
by whoever is party to it, not by every delegation at its conference.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from server.folding import fold
from server.models import Agreement, Delegation

KIND_WORDS = {"mou": "memorandum of understanding (MoU)", "aid": "aid agreement"}
Doc = Callable[[str, int, str, str, list[str]], dict[str, Any]]
"""``index._doc`` bound to a conference: (kind, ref id, parties, title, body) -> row."""


def texts(value: Any) -> list[str]:
    """Every string inside ``value`` (nested dicts and lists), in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key in sorted(value) for s in texts(value[key])]
    if isinstance(value, list | tuple):
        return [s for v in value for s in texts(v)]
    return []


def _in_order(value: Any, languages: list[str]) -> list[str]:
    """A per-language text's strings, the document's languages first (in their order)."""
    if not isinstance(value, dict):
        return texts(value)
    first = [value[code] for code in languages if isinstance(value.get(code), str)]
    return first + [s for key in sorted(value) if key not in languages for s in texts(value[key])]


def minutes_documents(document: str, parties: str, doc: Doc) -> list[dict[str, Any]]:
    """One row per agenda item of the minutes' current text (canonical JSON); ``ref_id`` is
    the agenda session's id when the item names it, else the item's number from 1."""
    try:
        data = json.loads(document)
    except (TypeError, ValueError):
        return []
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    listed = data.get("languages")
    languages = (
        [code for code in listed if isinstance(code, str)] if isinstance(listed, list) else []
    )
    rows = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            continue
        titles = [t for t in _in_order(item.get("title"), languages) if t.strip()]
        session_id = item.get("session_id")
        ref = (
            session_id
            if isinstance(session_id, int) and not isinstance(session_id, bool)
            else number
        )
        listed = item.get("actions")
        actions = [a for a in listed if isinstance(a, dict)] if isinstance(listed, list) else []
        body = (
            titles[1:]
            + texts(item.get("discussion"))
            + texts(item.get("decisions"))
            + [s for a in actions for s in texts([a.get("what"), a.get("owner")])]
        )
        rows.append(doc("minutes", ref, parties, titles[0] if titles else "", body))
    return rows


def agreement_parties(agreement: Agreement, delegations: Sequence[Delegation]) -> list[str]:
    """The names a party filter should find the agreement by."""
    by_id = {d.id: d for d in delegations}
    names: list[str] = []
    for party in agreement.parties:
        names.append(party.name)
        delegation = by_id.get(party.delegation_id) if party.delegation_id else None
        if delegation is not None:
            names += [delegation.country, delegation.organisation]
    if agreement.donor:
        names.append(agreement.donor)
    return names


def agreement_document(
    agreement: Agreement, delegations: Sequence[Delegation], doc: Doc
) -> dict[str, Any]:
    names = agreement_parties(agreement, delegations)
    body = [
        KIND_WORDS.get(agreement.kind, agreement.kind),
        *(p.name for p in agreement.parties),
        agreement.donor,
        agreement.programme,
    ]
    return doc("agreement", agreement.id, fold(" ".join(names)), agreement.title, body)
