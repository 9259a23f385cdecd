"""The request pipeline: errors → identity → CSRF → access rule → handler.

``errors`` turns every failure into an RFC 9457 problem (API) or an error page (browser);
``guard`` resolves who is asking, enforces CSRF on cookie-authenticated writes, checks the
route's declared access rule, and picks the UI language.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.web_middlewares import Handler
from sqlalchemy.ext.asyncio import AsyncSession

from server.csrf import CSRF_COOKIE, CSRF_HEADER
from server.error_words import explain
from server.errors import (
    BadRequest,
    DomainError,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
from server.i18n import negotiate
from server.i18n_strings import N_
from server.identity import ANONYMOUS, Identity
from server.keys import (
    ACCESS_RULES,
    CATALOGUES,
    CONFIG,
    DATABASE,
    IDENTITY,
    LOCALE,
    PRE_SESSION_CSRF,
    ROUTES,
    TRANSLATIONS,
)
from server.models import Role
from server.route_table import Rule, out_of_range
from server.web import render, safe_next, undecodable

log = logging.getLogger(__name__)

LANG_COOKIE = "concord_lang"
DEVICE_COOKIE = "concord_device"  # (server.accounts.devices: a browser that signed in before)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
#: Read by machines (probes, Prometheus), answered in JSON like the API.
MACHINE_PATHS = frozenset({"/healthz", "/metrics", "/debug/memory"})
#: Routes that read the Authorization header themselves (a scraper's token, not an API token).
OWN_AUTHORIZATION = frozenset({"/metrics", "/debug/memory"})


@dataclass(frozen=True)
class Gatekeeper:
    """What ``guard`` asks of the layers above this one, given by the app factory: who is
    asking (accounts), and whether they hold one of some roles in a conference (conferences;
    it raises the refusal)."""

    identify: Callable[[AsyncSession, web.Request], Awaitable[Identity]]
    require_conference_role: Callable[
        [AsyncSession, Identity, int, frozenset[Role]], Awaitable[object]
    ]


GATEKEEPER: web.AppKey[Gatekeeper] = web.AppKey("gatekeeper")


def wants_json(request: web.Request) -> bool:
    if request.path.startswith(("/api/", "/socket.io/")) or request.path in MACHINE_PATHS:
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _problem_response(request: web.Request, error: DomainError) -> web.StreamResponse:
    if wants_json(request):
        body = error.problem(request.path)
        translations = request.get(TRANSLATIONS)
        if translations is not None:  # for a page's script: the refusal in its reader's words
            try:
                body["message"] = explain(error, translations.gettext)
            except (KeyError, TypeError, ValueError):  # a catalogue's bad placeholder
                log.exception("the refusal %r could not be told in words", error.code)
                body["message"] = error.message
        response = web.json_response(
            body,
            status=error.status,
            content_type="application/problem+json",
        )
    elif isinstance(error, Unauthorized) and request.method == "GET":
        raise web.HTTPSeeOther(f"/login?next={safe_next(request.path_qs)}")
    else:
        response = render(request, "error.html", {"error": error}, status=error.status)
    response.headers.update(error.headers)
    return response


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as error:
        return _problem_response(request, error)
    except web.HTTPRequestEntityTooLarge:
        rule = request.app[ACCESS_RULES].get(request.match_info.route)
        config = request.app[CONFIG]
        limit = config.upload_max_bytes if rule and rule.uploads else config.max_body_bytes
        return _problem_response(
            request,
            PayloadTooLarge(
                N_("the request body is larger than the %(limit)s-byte limit"),
                params={"limit": str(limit)},
            ),
        )
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.allowed_methods | {"OPTIONS"}))
        if request.method == "OPTIONS":
            return web.Response(status=204, headers={"Allow": allowed})
        refusal = MethodNotAllowed(
            N_("%(method)s is not allowed here; use %(allowed)s"),
            headers={"Allow": allowed},
            params={"method": request.method, "allowed": allowed},
        )
        return _problem_response(request, refusal)
    except web.HTTPNotFound:
        return _problem_response(
            request, NotFound(N_("nothing at %(path)s"), params={"path": request.path})
        )
    except web.HTTPException:
        raise  # redirects and other deliberate HTTP answers
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        failure = InternalError(N_("something went wrong on our side; it has been logged"))
        return _problem_response(request, failure)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    match = request.match_info
    rule = request.app[ACCESS_RULES].get(match.route)
    if rule is not None and rule.uploads:
        # Before anything reads the form (the CSRF check may): a clone with a larger limit.
        request = request.clone(client_max_size=request.app[CONFIG].upload_max_bytes)
    files: list[web.FileField] = []
    try:
        async with request.app[DATABASE].session() as db:
            if request.path in OWN_AUTHORIZATION:
                who = ANONYMOUS
            else:
                who = await request.app[GATEKEEPER].identify(db, request)
            request[IDENTITY] = who
            _choose_language(request, who)
            if match.http_exception is not None:
                raise match.http_exception  # unknown route or method, answered in their language
            if rule is None:
                raise DomainError(
                    f"route {request.path} declares no access rule", code="no_access_rule"
                )
            too_large = out_of_range(match, request.app[ROUTES].numbers)
            if too_large is not None:
                raise NotFound(f"{too_large['field']} {too_large['message']}", errors=[too_large])
            if request.method in UNSAFE:
                files = await _decode_form(request)
            if request.method in UNSAFE and rule.csrf:
                await _check_csrf(request, who)
            await _check_access(db, request, rule, who)
        response = await handler(request)
        if who.via == "anonymous" and CSRF_COOKIE not in request.cookies:
            pre_session = request.get(PRE_SESSION_CSRF)
            if pre_session:
                response.set_cookie(
                    CSRF_COOKIE, pre_session, httponly=True, samesite="Lax", secure=request.secure
                )
        return response
    finally:
        # aiohttp closes the uploaded files of the request it handed in, but not of a clone's
        # form (above): until the garbage collector came, each held a temporary file open.
        for upload in files:
            upload.file.close()


async def _decode_form(request: web.Request) -> list[web.FileField]:
    """Parse a form body once, up front (aiohttp keeps it for the handler), so that a body
    that is not in its declared character set is refused here, whichever handler reads it.
    Returns the form's uploaded files, for the caller to close once the request is done."""
    if request.content_type not in FORM_TYPES:
        return []
    try:
        form = await request.post()
    except (UnicodeDecodeError, LookupError) as exc:
        problem = undecodable("form", request.charset or "utf-8", exc)
        raise BadRequest(problem, code="bad_encoding") from None
    return [field for field in form.values() if isinstance(field, web.FileField)]


def _choose_language(request: web.Request, who: Identity) -> None:
    preferred = who.locale or request.cookies.get(LANG_COOKIE)
    locale = negotiate(preferred, request.headers.get("Accept-Language", ""))
    request[LOCALE] = locale
    request[TRANSLATIONS] = request.app[CATALOGUES].get(locale)


async def _check_csrf(request: web.Request, who: Identity) -> None:
    if who.via == "bearer":
        return  # no ambient credentials: a bearer token cannot be sent by another site
    if who.via == "anonymous":
        # A script signing in with JSON carries no cookie to abuse. The device cookie does not
        # count: it authenticates nothing (it only tells the login throttle this browser
        # signed in before), and a browser keeps it after signing out.
        if request.content_type == "application/json" and not request.cookies.keys() - {
            DEVICE_COOKIE
        }:
            return
        expected = request.cookies.get(CSRF_COOKIE)
    else:
        expected = who.csrf_token
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in FORM_TYPES:
        value = (await request.post()).get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise Forbidden(
            N_("the CSRF token is missing or wrong; reload the page and try again"),
            code="csrf_failed",
        )


async def _check_access(db: AsyncSession, request: web.Request, rule: Rule, who: Identity) -> None:
    if rule.scope == "public":
        return
    if not who.signed_in:
        raise Unauthorized(N_("sign in first"))
    if rule.scope == "anyone_signed_in":
        return
    if rule.scope == "users":
        if who.guest is not None:
            raise Forbidden(
                N_("guests from an invitation cannot do this"), code="guest_not_allowed"
            )
        if not who.has_any(rule.roles):
            names = ", ".join(sorted(r.value for r in rule.roles))
            raise Forbidden(
                N_("this needs one of these roles: %(roles)s"),
                code="wrong_role",
                params={"roles": names},
            )
        return
    raw = request.match_info.get("conference_id", "")
    if not raw.isdigit():
        raise NotFound(
            N_("%(value)s is not a conference number"),
            code="conference_not_found",
            params={"value": repr(raw)},
        )
    await request.app[GATEKEEPER].require_conference_role(db, who, int(raw), rule.roles)
