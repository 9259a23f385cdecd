"""Small helpers every handler uses: who is asking, parsing bodies, rendering answers."""

from __future__ import annotations

import json
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from pydantic import BaseModel, ValidationError

from server.client_address import FORWARDED_FOR, client_address
from server.errors import BadRequest, InvalidInput, UnsupportedMediaType
from server.i18n_strings import N_
from server.identity import ANONYMOUS, Identity
from server.keys import CONFIG, IDENTITY

M = TypeVar("M", bound=BaseModel)


def identity(request: web.Request) -> Identity:
    return request.get(IDENTITY, ANONYMOUS)


def remote(request: web.Request) -> str:
    """The client's address: the direct peer, or behind a trusted proxy (CONCORD_TRUSTED_PROXIES)
    the address its X-Forwarded-For names (``server.client_address``). Use this, never
    ``request.remote``, wherever the client's address matters (throttles, audit, allow-lists)."""
    proxies = request.app[CONFIG].trusted_proxies
    return client_address(request.remote, request.headers.getall(FORWARDED_FOR, []), proxies)


def int_param(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(
            N_("%(name)s must be a number, got %(value)s"),
            code="bad_path",
            params={"name": name, "value": repr(raw)},
        ) from None


def undecodable(what: str, charset: str, exc: UnicodeDecodeError | LookupError) -> str:
    """Say why a body could not be read as text, naming the byte that stopped it."""
    if isinstance(exc, UnicodeDecodeError):
        bad = exc.object[exc.start : exc.start + 1].hex()
        where = f"byte 0x{bad} at offset {exc.start} is not {charset.upper()}"
        return f"the {what} is not valid {charset.upper()} text: {where}"
    return f"the {what} declares an unknown character set, {charset!r}"


def query_number(
    request: web.Request, name: str, default: int | None, low: int, high: int
) -> int | None:
    """A whole number from the query string, in ``low..high``; ``default`` when absent.

    Only ASCII digits count (``str.isdigit`` also takes "²", which ``int`` refuses), and the
    range keeps every number within what a database column and SQLite's driver can take."""
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        template = N_("%(name)s must be a whole number from %(low)s to %(high)s, not %(value)s")
        params = {"name": name, "low": str(low), "high": str(high), "value": repr(raw[:40])}
        message = template % params
        error = {"field": name, "message": message, "template": template, "params": params}
        raise InvalidInput(message, errors=[error])
    return int(raw)


def validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Each error's field (a dotted path), pydantic's message, and its type and simple
    context values (for ``server.error_words``, which says it in the reader's words)."""
    return [
        {
            "field": ".".join(str(p) for p in err["loc"]) or "(body)",
            "message": err["msg"],
            "type": err["type"],
            "ctx": {
                k: v
                for k, v in (err.get("ctx") or {}).items()
                if isinstance(v, str | int | float) and not isinstance(v, bool)
            },
        }
        for err in exc.errors(include_url=False)
    ]


def _validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = validation_errors(exc)
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(f"the request body is invalid: {summary}", errors=errors) from None


async def json_body(request: web.Request, model: type[M]) -> M:
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"send the body as application/json, not {request.content_type or 'nothing'}"
        )
    raw = await request.read()
    charset = request.charset or "utf-8"
    try:
        text = raw.decode(charset)
    except (UnicodeDecodeError, LookupError) as exc:
        raise BadRequest(undecodable("body", charset, exc), code="bad_encoding") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            code="bad_json",
        ) from None
    return _validate(model, data)


async def form_body(request: web.Request, model: type[M]) -> M:
    form = await request.post()
    data = {k: v for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}
    return _validate(model, data)


def json_response(
    data: BaseModel | list[BaseModel] | dict[str, Any], status: int = 200
) -> web.Response:
    if isinstance(data, BaseModel):
        body: Any = data.model_dump(mode="json")
    elif isinstance(data, list):
        body = [item.model_dump(mode="json") for item in data]
    else:
        body = data
    return web.json_response(body, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))


def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    from server.templating import page_context

    full = {**page_context(request), **(context or {})}
    response = aiohttp_jinja2.render_template(template, request, full, status=status)
    assert isinstance(response, web.Response)
    return response


def disposition(file_name: str, kind: str = "attachment") -> str:
    """A Content-Disposition value for any file name: an ASCII fallback for old clients and
    the exact UTF-8 name (RFC 6266/5987) for the others."""
    fallback = file_name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name)}"


def pdf_response(pdf: bytes, file_name: str, kind: str = "attachment") -> web.Response:
    """A printed document (decision, minutes, certificate): private, never cached."""
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": disposition(file_name, kind),
            "Cache-Control": "private, no-store",
        },
    )


def redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in; anything else (other hosts) becomes '/'."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
