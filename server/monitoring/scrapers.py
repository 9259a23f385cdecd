"""Who may read a node's own figures (``/metrics``, ``/debug/memory``): the addresses in
``HealthSettings.metrics_allow`` (loopback by default), or a caller with
``Authorization: Bearer <HealthSettings.metrics_token>``."""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
from collections.abc import Iterable

from aiohttp import web

from server.errors import Forbidden
from server.keys import CONFIG
from server.monitoring.settings import health_settings
from server.web import remote as client_of


def allowed(
    remote: str | None, authorization: str, token: str | None, allow: Iterable[str]
) -> bool:
    """Whether a scrape may read the metrics: a matching bearer token, or an allowed address."""
    scheme, _, given = authorization.partition(" ")
    if token and scheme.lower() == "bearer" and given.strip():
        if hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network in allow:
        with contextlib.suppress(ValueError):
            if address in ipaddress.ip_network(network, strict=False):
                return True
    return False


def may_scrape(request: web.Request, what: str) -> None:
    """Refuse (403) a caller that may not read ``what``."""
    settings = health_settings(request.app[CONFIG])
    authorization = request.headers.get("Authorization", "")
    token, allow = settings.metrics_token, settings.metrics_allow
    if not allowed(client_of(request), authorization, token, allow):
        raise Forbidden(
            f"{what} are open only to the addresses in CONCORD_METRICS_ALLOW, or with "
            "'Authorization: Bearer <CONCORD_METRICS_TOKEN>'"
        )
