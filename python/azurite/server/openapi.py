"""The API description served at ``/openapi.json`` and a Swagger UI page at ``/docs``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from azurite import __version__

_TENANT = {"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"}}
_DATABASE = {"name": "database", "in": "path", "required": True, "schema": {"type": "string"}}
_COLLECTION_ID = {
    "name": "collection_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_LIMIT_OFFSET = [
    {"name": n, "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}}
    for n in ("limit", "offset")
]
_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}

#: (method, path, operation id, summary, path parameters, has a JSON body, success status)
_OPERATIONS: list[tuple[str, str, str, str, list[dict[str, Any]], bool, int]] = [
    ("get", "/api/v2", "heartbeat_root", "Heartbeat (asynchronous clients)", [], False, 200),
    ("get", "/api/v2/heartbeat", "heartbeat", "Nanoseconds since the epoch", [], False, 200),
    ("get", "/api/v2/version", "version", "Server version", [], False, 200),
    ("get", "/api/v2/pre-flight-checks", "pre_flight_checks", "Client limits", [], False, 200),
    ("get", "/api/v2/auth/identity", "identity", "Caller identity", [], False, 200),
    ("get", "/api/v2/healthcheck", "healthcheck", "Readiness", [], False, 200),
    ("post", "/api/v2/reset", "reset", "Delete everything (if allowed)", [], False, 200),
    ("post", "/api/v2/tenants", "create_tenant", "Create a tenant", [], True, 200),
    ("get", "/api/v2/tenants/{tenant}", "get_tenant", "Get a tenant", [_TENANT], False, 200),
    ("patch", "/api/v2/tenants/{tenant}", "update_tenant", "Update a tenant", [_TENANT], True, 200),
    (
        "post",
        "/api/v2/tenants/{tenant}/databases",
        "create_database",
        "Create a database",
        [_TENANT],
        True,
        200,
    ),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases",
        "list_databases",
        "List databases",
        [_TENANT, *_LIMIT_OFFSET],
        False,
        200,
    ),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases/{database}",
        "get_database",
        "Get a database",
        [_TENANT, _DATABASE],
        False,
        200,
    ),
    (
        "delete",
        "/api/v2/tenants/{tenant}/databases/{database}",
        "delete_database",
        "Delete a database",
        [_TENANT, _DATABASE],
        False,
        200,
    ),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases/{database}/collections",
        "list_collections",
        "List collections",
        [_TENANT, _DATABASE, *_LIMIT_OFFSET],
        False,
        200,
    ),
    (
        "post",
        "/api/v2/tenants/{tenant}/databases/{database}/collections",
        "create_collection",
        "Create (or get) a collection",
        [_TENANT, _DATABASE],
        True,
        200,
    ),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases/{database}/collections_count",
        "count_collections",
        "Count collections",
        [_TENANT, _DATABASE],
        False,
        200,
    ),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{name}",
        "get_collection",
        "Get a collection by name",
        [_TENANT, _DATABASE, _NAME],
        False,
        200,
    ),
    (
        "delete",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{name}",
        "delete_collection",
        "Delete a collection by name",
        [_TENANT, _DATABASE, _NAME],
        False,
        200,
    ),
    (
        "get",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/by-id/{collection_id}",
        "get_collection_by_id",
        "Get a collection by id",
        [_TENANT, _DATABASE, _COLLECTION_ID],
        False,
        200,
    ),
    (
        "put",
        "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}",
        "modify_collection",
        "Rename, replace metadata or configuration",
        [_TENANT, _DATABASE, _COLLECTION_ID],
        True,
        200,
    ),
]
_RECORDS = "/api/v2/tenants/{tenant}/databases/{database}/collections/{collection_id}"
_RECORD_PARAMETERS = [_TENANT, _DATABASE, _COLLECTION_ID]
for _op, _summary, _status in [
    ("add", "Add records", 201),
    ("update", "Update records", 200),
    ("upsert", "Update or add records", 200),
    ("get", "Get records by ids and filters", 200),
    ("query", "Nearest neighbours of query embeddings", 200),
    ("delete", "Delete records", 200),
]:
    _OPERATIONS.append(
        (
            "post",
            f"{_RECORDS}/{_op}",
            f"collection_{_op}",
            _summary,
            _RECORD_PARAMETERS,
            True,
            _status,
        )
    )
_OPERATIONS.append(
    (
        "get",
        f"{_RECORDS}/count",
        "collection_count",
        "Count records",
        _RECORD_PARAMETERS,
        False,
        200,
    )
)


def _operation(
    operation_id: str, summary: str, parameters: list[dict[str, Any]], body: bool, status: int
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "parameters": parameters,
        "responses": {
            str(status): {"description": "Success", "content": {"application/json": {}}},
            "default": {
                "description": "Error",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    return operation


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of every route the server answers."""
    paths: dict[str, dict[str, Any]] = {}
    for method, path, operation_id, summary, parameters, body, status in _OPERATIONS:
        paths.setdefault(path, {})[method] = _operation(
            operation_id, summary, parameters, body, status
        )
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
    return JSONResponse(build_document())


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
