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
from server.keys import ROUTES
from server.routing import PUBLIC, ApiDoc, Entry, RouteTable

PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable machine-readable error code"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status", "code", "detail"],
}
PATH_PARAM = re.compile(r"{(\w+)}")


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
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Problem"] = PROBLEM
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
    if params:
        operation["parameters"] = [
            {
                "name": p,
                "in": "path",
                "required": True,
                "schema": {"type": "string" if p == "token" else "integer"},
            }
            for p in params
        ]
    if doc.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(doc.body)}},
        }
    success: dict[str, Any] = {"description": doc.summary}
    if doc.response is not None:
        schema: dict[str, Any] = _ref(doc.response)
        if doc.list_response:
            schema = {"type": "array", "items": schema}
        success["content"] = {"application/json": {"schema": schema}}
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    operation["responses"] = {
        str(doc.status): success,
        "4XX": {"description": "The request was refused", "content": problem},
    }
    if entry.rule is PUBLIC:
        operation["security"] = []
    else:
        operation["security"] = [{"session": []}, {"token": []}]
    return operation


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(build_document(request.app[ROUTES]))


def add_routes(table: RouteTable) -> None:
    table.get("/api/openapi.json", openapi_json, PUBLIC, name="openapi")
