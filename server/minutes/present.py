"""The minutes' JSON answers."""

from __future__ import annotations

import json
from typing import Any

from server.minutes.revisions import RevisionChange
from server.minutes.store import Current
from server.models import MinutesComment, MinutesRevision


def revision_out(revision: MinutesRevision, *, document: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "number": revision.number,
        "author": revision.author_name or revision.author,
        "saved_at": revision.saved_at.isoformat(),
        "kind": revision.kind,
        "digest": revision.digest,
    }
    if document:
        out["document"] = json.loads(revision.document)
    return out


def comment_out(comment: MinutesComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "round": comment.round,
        "delegation_id": comment.delegation_id,
        "author": comment.author_name or comment.author,
        "path": comment.path,
        "text": comment.text,
        "at": comment.at.isoformat(),
    }


def minutes_out(found: Current) -> dict[str, Any]:
    row = found.row
    return {
        "conference_id": row.conference_id,
        "state": row.state,
        "revision": row.revision,
        "round": row.round,
        "delegations": list(row.delegations or []),
        "digest": row.digest,
        "finalised_at": row.finalised_at.isoformat() if row.finalised_at else None,
        "ledger_position": row.ledger_position,
        "saved_by": found.revision.author_name or found.revision.author,
        "saved_at": found.revision.saved_at.isoformat(),
        "revision_digest": found.revision.digest,
        "document": found.minutes.to_dict(),
    }


def change_out(change: RevisionChange) -> dict[str, Any]:
    return {
        "path": change.path,
        "kind": change.kind,
        "old": change.old,
        "new": change.new,
        "lines": list(change.lines),
    }
