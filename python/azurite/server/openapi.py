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
        answer = {"description": "Success", "content": {"application/json": {}}}
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
            "content": {"application/json": {"schema": {"type": "object"}}},
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
