"""Who is on the other end: the client's address, seen through trusted reverse proxies.

A reverse proxy connects to Concord itself, so the direct peer (``request.remote``) is the
proxy for every client behind it. The proxy appends the address it was connected from to
``X-Forwarded-For``. That header is believed only when the direct peer is one of the operator's
trusted proxies (``CONCORD_TRUSTED_PROXIES``); it is then walked from the right, past the
trusted proxies, and the first address that is not one of them is the client. Everything to
its left was written by the client and proves nothing. Without trusted proxies (the default)
the header is ignored and the peer is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

FORWARDED_FOR = "X-Forwarded-For"


def parse_networks(value: Any, where: str, problems: list[str]) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDR networks (a string, or a TOML list of strings).

    Problems are appended naming ``where`` (the variable or file key) and the bad entry."""
    if value is None:
        return ()
    entries = value.split(",") if isinstance(value, str) else value
    if not isinstance(entries, list | tuple):
        problems.append(f"{where} must be a comma-separated list of IP addresses or networks")
        return ()
    networks: list[Network] = []
    for entry in entries:
        text = str(entry).strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=True))
        except ValueError as exc:
            problems.append(
                f"{where}: {text!r} is not an IP address or network "
                f"(such as 10.0.0.5, 10.0.0.0/8 or fd00::/8): {exc}"
            )
    return tuple(networks)


def _address(text: str) -> Address | None:
    """An address as proxies write it: bare, ``[v6]``, ``[v6]:port`` or ``v4:port``."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with a port; bare IPv6 has several colons
        text = text.split(":", 1)[0]
    try:
        found = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], proxies: Sequence[Network]
) -> str:
    """The client's address for a connection from ``peer`` carrying these
    ``X-Forwarded-For`` header values (in the order received), given the trusted proxies."""
    if not peer:
        return ""
    hop = _address(peer)
    if hop is None:
        return peer  # a Unix socket or similar: nothing to compare
    if not proxies or not _trusted(hop, proxies):
        return str(hop)
    chain = [part for value in forwarded_for for part in value.split(",") if part.strip()]
    for entry in reversed(chain):
        found = _address(entry)
        if found is None:
            return str(hop)  # garbage where an address should be: the last hop we can name
        if not _trusted(found, proxies):
            return str(found)
        hop = found
    return str(hop)
