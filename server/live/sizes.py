"""How large a ``/room`` event may be (docs/signalling.md, "Connecting").

Two limits. The transport's (``server.accounts.socket_server.MAX_FRAME_BYTES``) is what
engine.io reads at all: a larger frame ends the connection, as it must, since it is refused
before it is parsed. Below it, each event's payload is measured here and one larger than
``MAX_EVENT_BYTES`` is answered ``too_large`` and not handled: a careless client learns what
went wrong and keeps its connection.
"""

from __future__ import annotations

from typing import Any

from server.live.members import Answer, refusal

MAX_EVENT_BYTES = 256 * 1024
"""The largest payload an event may carry, as JSON (an SDP offer with many slots fits)."""


def payload_size(data: Any, limit: int = MAX_EVENT_BYTES) -> int:
    """The payload's size in bytes as compact JSON (binary attachments at their length),
    counted until it passes ``limit``: a payload far over it is not walked to its end."""
    total, stack = 0, [data]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item.encode("utf-8", "surrogatepass")) + 2
        elif isinstance(item, bytes | bytearray | memoryview):
            total += len(item)
        elif isinstance(item, dict):
            total += 2 + len(item)  # braces, colons and commas
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            total += 2 + len(item)
            stack.extend(item)
        elif isinstance(item, int):  # bool too; digits from the bits (str() of a huge int raises)
            total += item.bit_length() * 10 // 33 + 2
        else:  # floats, null
            total += len(repr(item))
    return total


def too_large(event: str, data: Any) -> Answer | None:
    """The refusal for an event whose payload is over the limit, else None."""
    size = payload_size(data)
    if size <= MAX_EVENT_BYTES:
        return None
    return refusal(
        "too_large",
        f"the {event!r} message is over {MAX_EVENT_BYTES} bytes; events may carry at most"
        f" {MAX_EVENT_BYTES} bytes (256 KiB)",
    )
