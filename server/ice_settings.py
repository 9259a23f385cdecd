"""The ICE part of Concord's configuration: the STUN/TURN servers handed to browsers and the
addresses the server's own peers gather candidates on. Problems are appended to ``problems``
(``server.config`` reports them all together)."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

ICE_SCHEMES = ("stun", "stuns", "turn", "turns")
LOOPBACK_ONLY = ("127.0.0.1",)


@dataclass(frozen=True)
class IceServer:
    """One STUN/TURN server handed to clients, in the shape of WebRTC's ``RTCIceServer``."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"urls": list(self.urls)}
        if self.username is not None:
            out["username"] = self.username
        if self.credential is not None:
            out["credential"] = self.credential
        return out


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ice_host_addresses_of(
    item: tuple[Any, str] | None, host: str, problems: list[str]
) -> tuple[str, ...]:
    """The addresses aiortc peers gather candidates on (``CONCORD_ICE_HOST_ADDRESSES``): by
    default 127.0.0.1 alone for a server on loopback, else every address."""
    if item is None:
        return LOOPBACK_ONLY if is_loopback(host) else ()
    value, where = item
    entries = value.split(",") if isinstance(value, str) else value
    if not isinstance(entries, list | tuple):
        problems.append(f"{where} must be a comma-separated list of IP addresses")
        return LOOPBACK_ONLY
    out: list[str] = []
    for entry in entries:
        entry = str(entry).strip()
        if not entry:
            continue
        try:
            out.append(str(ipaddress.ip_address(entry)))
        except ValueError:
            problems.append(f"{where}: {entry!r} is not an IP address")
    return tuple(out)


def ice_servers_of(item: tuple[Any, str] | None, problems: list[str]) -> tuple[IceServer, ...]:
    """The STUN/TURN servers handed to browsers (``CONCORD_ICE_SERVERS``: URLs, or JSON)."""
    if item is None:
        return ()
    value, where = item
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError as exc:
                problems.append(f"{where} is not valid JSON: {exc}")
                return ()
        else:
            value = [{"urls": u.strip()} for u in stripped.split(",") if u.strip()]
    if not isinstance(value, list):
        problems.append(f"{where} must be a list of ICE servers")
        return ()
    servers: list[IceServer] = []
    for index, entry in enumerate(value):
        label = f"{where}[{index}]"
        if isinstance(entry, str):
            entry = {"urls": entry}
        if not isinstance(entry, dict):
            problems.append(f"{label} must be a URL or a table with 'urls'")
            continue
        urls = entry.get("urls")
        url_list = [urls] if isinstance(urls, str) else urls
        if not isinstance(url_list, list) or not url_list:
            problems.append(f"{label} needs 'urls'")
            continue
        bad = [
            u for u in url_list if not (isinstance(u, str) and u.split(":", 1)[0] in ICE_SCHEMES)
        ]
        if bad:
            problems.append(f"{label}: {bad[0]!r} is not a stun:, stuns:, turn: or turns: URL")
            continue
        username, credential = entry.get("username"), entry.get("credential")
        if any(u.startswith("turn") for u in url_list) and not (username and credential):
            problems.append(f"{label}: a TURN server needs 'username' and 'credential'")
            continue
        servers.append(IceServer(tuple(url_list), username, credential))
    return tuple(servers)
