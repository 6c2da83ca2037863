"""The API description served at ``/openapi.json`` and a Swagger UI page at ``/docs``.

The description is built from the application's routes: each API route is an
:class:`OperationRoute`, which carries what the description says about it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from azurite import __version__

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}
_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
#: Path parameters with a narrower type than a string.
_PATH_FORMATS = {"collection_id": "uuid"}


def _list_of(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


_STRINGS = _list_of({"type": "string"})

#: Chroma's ``SearchRequestPayload``: chromadb's ``Search.to_dict()`` payloads.
SEARCH_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["searches"],
    "properties": {
        "searches": _list_of(
            {
                "type": "object",
                "properties": {
                    "filter": _nullable(
                        {"type": "object", "description": "A where clause; #id and #document too"}
                    ),
                    "rank": _nullable(
                        {
                            "type": "object",
                            "description": "A rank expression: $knn {query, key, limit, "
                            "default, return_rank}, $val, $sum, $sub, $mul, $div, $abs, "
                            "$exp, $log, $max, $min",
                        }
                    ),
                    "group_by": {
                        "type": "object",
                        "properties": {
                            "keys": _STRINGS,
                            "aggregate": {
                                "type": "object",
                                "description": "{$min_k: {keys, k}} or {$max_k: {keys, k}}",
                            },
                        },
                    },
                    "limit": {
                        "type": "object",
                        "properties": {
                            "offset": {"type": "integer", "minimum": 0},
                            "limit": _nullable({"type": "integer", "minimum": 0}),
                        },
                    },
                    "select": {"type": "object", "properties": {"keys": _STRINGS}},
                },
            }
        ),
        "read_level": {
            "type": "string",
            "enum": ["index_and_wal", "index_only", "index_and_bounded_wal"],
            "default": "index_and_wal",
        },
    },
}

#: Chroma's ``SearchResponse``: one entry per search in each column.
SEARCH_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["ids", "documents", "embeddings", "metadatas", "scores", "select"],
    "properties": {
        "ids": _list_of(_STRINGS),
        "documents": _list_of(_nullable(_list_of(_nullable({"type": "string"})))),
        "embeddings": _list_of(_nullable(_list_of(_nullable(_list_of({"type": "number"}))))),
        "metadatas": _list_of(_nullable(_list_of(_nullable({"type": "object"})))),
        "scores": _list_of(_nullable(_list_of(_nullable({"type": "number"})))),
        "select": _list_of(_STRINGS),
    },
}

#: Chroma's ``ForkCollectionPayload``; the answer is the new collection.
FORK_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["new_name"],
    "properties": {"new_name": {"type": "string"}},
}

#: Azurite's staging of an imported collection: create_collection's fields but
#: ``get_or_create``.
STAGE_IMPORT_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "metadata": {"type": ["object", "null"]},
        "configuration": {"type": ["object", "null"]},
        "schema": {"type": ["object", "null"]},
    },
}

#: The staging collections to publish together.
PUBLISH_IMPORTS_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["ids"],
    "properties": {"ids": {"type": "array", "items": {"type": "string"}}},
}

#: Chroma's ``ForkCountResponse``.
FORK_COUNT_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["count"],
    "properties": {"count": {"type": "integer", "minimum": 0}},
}

#: Azurite's own route: a backup of the whole database into a directory of the server's
#: machine.
BACKUP_REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["path"],
    "properties": {
        "path": {"type": "string", "description": "A new or empty directory on the server"}
    },
}

BACKUP_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["seq", "collections", "bytes", "path", "writer_pause_ms"],
    "properties": {
        "seq": {"type": "integer", "minimum": 0, "description": "The last write the copy holds"},
        "collections": {"type": "integer", "minimum": 0},
        "bytes": {"type": "integer", "minimum": 0},
        "path": {"type": "string"},
        "writer_pause_ms": {"type": "number", "minimum": 0},
    },
}


@dataclass(frozen=True)
class Operation:
    """What the API description says about one route: its ``operationId`` and summary,
    whether it takes a JSON body, the status of its answer and its query parameters (all
    of them unsigned integers)."""

    operation_id: str
    summary: str
    request_body: bool = False
    status: int = 200
    query: tuple[str, ...] = ()
    #: The JSON schemas of the body and of the answer, where the description gives them.
    request_schema: dict[str, Any] | None = None
    response_schema: dict[str, Any] | None = None


class OperationRoute(Route):
    """A route of the API: one method on one path, and its :class:`Operation`. The API
    description is built from these, so no route goes undescribed."""

    def __init__(
        self, method: str, path: str, endpoint: Callable[..., Any], operation: Operation
    ) -> None:
        super().__init__(path, endpoint, methods=[method])
        self.method = method
        self.operation = operation


def _parameters(route: OperationRoute) -> list[dict[str, Any]]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {
                "type": "string",
                **({"format": _PATH_FORMATS[name]} if name in _PATH_FORMATS else {}),
            },
        }
        for name in route.param_convertors
    ]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 0},
        }
        for name in route.operation.query
    ]
    return parameters


def _operation(route: OperationRoute) -> dict[str, Any]:
    operation = route.operation
    if operation.status < 400:
        content = {} if operation.response_schema is None else {"schema": operation.response_schema}
        answer = {"description": "Success", "content": {"application/json": content}}
    else:
        # The only operations whose answer is an error are those Azurite does not offer.
        answer = {"description": "Not implemented by Azurite", "content": _ERROR_CONTENT}
    described: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "parameters": _parameters(route),
        "responses": {
            str(operation.status): answer,
            "default": {"description": "Error", "content": _ERROR_CONTENT},
        },
    }
    if operation.request_body:
        described["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": operation.request_schema or {"type": "object"}}
            },
        }
    return described


def build_document(routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the API ``routes`` serve."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        if isinstance(route, OperationRoute):
            paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Azurite",
            "description": "Chroma's API v2, served by Azurite",
            "version": __version__,
        },
        "paths": paths,
        "components": {"schemas": {"Error": _ERROR}},
    }


async def document(request: Request) -> Response:
    return JSONResponse(build_document(request.app.routes))


_DOCS_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Azurite API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>
"""


async def docs_page(request: Request) -> Response:
    """Swagger UI (loaded by the browser from a CDN) over ``/openapi.json``."""
    return HTMLResponse(_DOCS_PAGE)
