"""The OpenAPI 3.1 document, generated from the route table and its pydantic schemas.

The models that validate request bodies are the ones described here, so the document cannot
drift from what the server accepts.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from server import __version__
from server.fields import SHARED, TIME_ZONE_SCHEMA
from server.keys import ROUTES
from server.route_table import NUMBER_RANGE, PUBLIC, TEXT_PARAMS, ApiDoc, Entry, RouteTable

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable machine-readable error code"},
        "detail": {"type": "string", "description": "in English, stable for programs"},
        "message": {
            "type": "string",
            "description": "the same for people, in the requester's language (its fields named)",
        },
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {"type": "object"},
            "description": "per field: field, message; and template, params for a message with"
            " values in it",
        },
    },
    "required": ["type", "title", "status", "code", "detail"],
}
PATH_PARAM = re.compile(r"{(\w+)}")
#: Every error status the server answers, and when.
ERRORS = {
    400: "The body cannot be read: not JSON, or not UTF-8 (bad_json, bad_encoding)",
    401: "Sign in first, or send an API token (unauthorized)",
    403: "Not allowed: wrong role, a guest, or a missing CSRF token on a cookie write",
    404: "Nothing with that number here, or a path number out of range",
    405: "This path does not take that method; the Allow header lists those it takes",
    409: "The record's state does not allow this now (e.g. illegal_transition)",
    413: "The request body is larger than the server's limit",
    415: "The body is not application/json",
    422: "The input breaks a rule; `errors` names each field",
    429: "Too many attempts; try again later (Retry-After)",
    502: "The mail server failed; nothing was sent or recorded",
    503: "The server cannot do this now: no e-mail configured (mail_unavailable), mail failed,"
    " or PDF printing unavailable",
}
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_statuses(entry: Entry) -> list[int]:
    """The error statuses of one operation: those its shape implies, and its declared ones."""
    assert entry.doc is not None
    codes = {405, *entry.doc.errors}
    if entry.doc.body is not None or entry.doc.raw_body is not None:
        codes |= {400, 413, 415, 422}
    if entry.doc.query:
        codes.add(422)
    if entry.method in UNSAFE:
        codes |= {409, 413, 422}
        if entry.rule.csrf:
            codes.add(403)
    if entry.rule.scope != "public":
        codes |= {401, 403}
    if PATH_PARAM.search(entry.path) or entry.rule.scope == "conference":
        codes.add(404)
    return sorted(codes)


def build_document(table: RouteTable) -> dict[str, Any]:
    entries = list(table.api())
    models: set[type[BaseModel]] = set()
    for entry in entries:
        assert entry.doc is not None
        models.update(m for m in (entry.doc.body, entry.doc.response) if m is not None)
    ordered = sorted(models, key=lambda m: m.__name__)
    _, defs = models_json_schema(
        [(m, "validation") for m in ordered], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = _shared(dict(defs.get("$defs", {})))
    schemas["Problem"] = PROBLEM
    schemas["TimeZone"] = TIME_ZONE_SCHEMA
    paths: dict[str, dict[str, Any]] = {}
    for entry in entries:
        paths.setdefault(entry.path, {})[entry.method.lower()] = _operation(entry)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Concord API",
            "version": __version__,
            "description": "Scheduling, bridge rooms, interpretation and archive of "
            "international conferences. Authenticate with the session cookie (browser; "
            "send X-CSRF-Token on writes) or a personal API token as a Bearer token.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                f"Error{status}": {"description": text, "content": PROBLEM_CONTENT}
                for status, text in ERRORS.items()
            },
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "concord_session"},
                "token": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(entry: Entry) -> dict[str, Any]:
    doc = entry.doc
    assert isinstance(doc, ApiDoc)
    operation: dict[str, Any] = {
        "summary": doc.summary,
        "tags": [doc.tag],
        "operationId": f"{entry.method.lower()}_{entry.handler.__module__.split('.')[-2]}"
        f"_{entry.handler.__name__}",
        "x-access": entry.rule.describe(),
    }
    params = PATH_PARAM.findall(entry.path)
    parameters: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": _param_schema(p)} for p in params
    ]
    for query in doc.query:
        parameter = {"name": query.name, "in": "query", "required": query.required}
        if query.description:
            parameter["description"] = query.description
        parameters.append({**parameter, "schema": query.schema})
    if parameters:
        operation["parameters"] = parameters
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(doc.body)}},
        }
    elif doc.raw_body is not None:
        binary = {"schema": {"type": "string", "format": "binary"}}
        operation["requestBody"] = {"required": True, "content": {doc.raw_body: binary}}
    success: dict[str, Any] = {"description": doc.summary}
    if doc.response is not None:
        schema: dict[str, Any] = _ref(doc.response)
        if doc.list_response:
            schema = {"type": "array", "items": schema}
        success["content"] = {"application/json": {"schema": schema}}
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    operation["responses"] = {str(doc.status): success}
    for status in doc.empty:
        operation["responses"][str(status)] = {"description": f"{doc.summary}: no content"}
    for status in error_statuses(entry):
        operation["responses"][str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    operation["responses"]["4XX"] = {"description": "Refused otherwise", "content": problem}
    if entry.rule is PUBLIC:
        operation["security"] = []
    else:
        operation["security"] = [{"session": []}, {"token": []}]
    return operation


def _shared(node: Any) -> Any:
    """``node`` with every schema marked ``SHARED`` replaced by a reference to its component
    (the time zones' list is written once, not at each field)."""
    if isinstance(node, list):
        return [_shared(item) for item in node]
    if not isinstance(node, dict):
        return node
    if SHARED in node:
        kept = {k: v for k, v in node.items() if k in ("title", "description", "default")}
        return {"$ref": f"#/components/schemas/{node[SHARED]}", **kept}
    return {key: _shared(value) for key, value in node.items()}


def _param_schema(name: str) -> dict[str, Any]:
    if name in TEXT_PARAMS:
        return {"type": "string", "minLength": 1}
    low, high = NUMBER_RANGE
    return {"type": "integer", "minimum": low, "maximum": high}


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(build_document(request.app[ROUTES]))


def add_routes(table: RouteTable) -> None:
    table.get("/api/openapi.json", openapi_json, PUBLIC, name="openapi")
