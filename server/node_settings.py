"""This node's own settings in a cluster: its id and the URL clients reach it at (part of
the process's own configuration, like its host and port: ``server.config`` reads them).

``concord serve --workers N`` gives each worker its own (``server.cluster.workers``); one
node started by hand needs neither: its id is kept in its data directory
(``server.live.heartbeat.node_name``) and clients reach it at the public URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

SETTINGS = {
    "node_id": "CONCORD_NODE_ID",
    "node_url": "CONCORD_NODE_URL",
}
NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def read(text: Callable[[str, str | None], str | None], problems: list[str]) -> dict[str, Any]:
    """The ``Config`` fields of this module's settings; problems are appended, named."""
    node_id = text("node_id", None) or None
    if node_id is not None and not NODE_ID.fullmatch(node_id):
        problems.append(
            f"node id {node_id!r} must be 1–64 letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit)"
        )
    node_url = (text("node_url", None) or "").rstrip("/") or None
    if node_url is not None:
        parts = urlsplit(node_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"node URL {node_url!r} must be an absolute http:// or https:// URL")
    return {"node_id": node_id, "node_url": node_url}
