"""The ASGI application: Chroma's API v2 routes over one open Azurite database."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from azurite import _core
from azurite.errors import ChromaError
from azurite.server import handlers as h
from azurite.server import openapi
from azurite.server.auth import TokenAuthMiddleware
from azurite.server.config import ServerConfig
from azurite.server.errors import (
    GENERIC,
    HttpError,
    engine_error_response,
    error_response,
)
from azurite.server.openapi import (
    BACKUP_REQUEST,
    BACKUP_RESPONSE,
    FORK_COUNT_RESPONSE,
    FORK_REQUEST,
    PUBLISH_IMPORTS_REQUEST,
    SEARCH_REQUEST,
    SEARCH_RESPONSE,
    STAGE_IMPORT_REQUEST,
    Operation,
    OperationRoute,
)
from azurite.server.wire import JsonResponse, parse_json

logger = logging.getLogger("azurite.server")

Handler = Callable[[h.Call], Any]

API = "/api/v2"
TENANT = API + "/tenants/{tenant}"
DATABASE = TENANT + "/databases/{database}"
COLLECTIONS = DATABASE + "/collections"
RECORDS = COLLECTIONS + "/{collection_id}"


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to exceed ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HttpError(413, GENERIC, f"Request body exceeds the limit of {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HttpError(413, GENERIC, f"Request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise HttpError(415, GENERIC, "Expected request with `Content-Type: application/json`")


def _failure(error: Exception) -> Response:
    """The error response for anything a handler raised."""
    if isinstance(error, HttpError):
        return error_response(error.status, error.name, error.message)
    if isinstance(error, ChromaError):
        return engine_error_response(error)
    # The request was decoded into the engine's types before the engine saw it, so
    # anything else is a bug, not the client's fault.
    logger.error("unexpected error while serving a request", exc_info=error)
    return error_response(500, "InternalError", f"{type(error).__name__}: {error}")


def endpoint(
    handler: Handler, *, body: bool = False, status: int = 200, blocking: bool = True
) -> Callable[[Request], Any]:
    """Wraps a handler into a Starlette endpoint: reads and checks the body, runs the
    handler (on a worker thread when it reaches the engine) and renders its result."""

    async def serve(request: Request) -> Response:
        config: ServerConfig = request.app.state.config
        try:
            raw = b""
            if body:
                _require_json(request)
                raw = await _read_body(request, config.max_body_size)

            def run() -> Any:
                call = h.Call(
                    request.app.state.database,
                    config,
                    dict(request.path_params),
                    request.query_params,
                    parse_json(raw) if body else None,
                )
                return handler(call)

            result = await to_thread.run_sync(run) if blocking else run()
        except Exception as error:
            return _failure(error)
        return JsonResponse(result, status)

    return serve


async def _v1_gone(request: Request) -> Response:
    return error_response(410, "Unimplemented", "The v1 API is deprecated. Please use /v2 apis")


async def _empty(request: Request, exc: Exception) -> Response:
    """Unknown routes (404) and wrong methods (405) answer with an empty body, as Chroma's."""
    return Response(status_code=getattr(exc, "status_code", 404))


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _operation(
    method: str,
    path: str,
    handler: Handler,
    operation_id: str,
    summary: str,
    *,
    body: bool = False,
    status: int = 200,
    blocking: bool = True,
    query: tuple[str, ...] = (),
) -> OperationRoute:
    return OperationRoute(
        method,
        path,
        endpoint(handler, body=body, status=status, blocking=blocking),
        Operation(operation_id, summary, request_body=body, status=status, query=query),
    )


def _unsupported(method: str, path: str, operation_id: str, what: str) -> OperationRoute:
    """A route of hosted Chroma that Azurite answers with 501."""
    return OperationRoute(
        method,
        path,
        endpoint(h.unsupported(what), blocking=False),
        Operation(operation_id, f"{what} (not implemented by Azurite)", status=501),
    )


def api_routes() -> list[OperationRoute]:
    """Chroma's API v2, one route per operation."""

    def get(
        path: str,
        handler: Handler,
        operation_id: str,
        summary: str,
        *,
        blocking: bool = True,
        query: tuple[str, ...] = (),
    ) -> OperationRoute:
        return _operation(
            "GET", path, handler, operation_id, summary, blocking=blocking, query=query
        )

    def post(
        path: str, handler: Handler, operation_id: str, summary: str, status: int = 200
    ) -> OperationRoute:
        return _operation("POST", path, handler, operation_id, summary, body=True, status=status)

    page = ("limit", "offset")
    return [
        get(API, h.heartbeat, "heartbeat_root", "Heartbeat (asynchronous clients)", blocking=False),
        get(
            API + "/heartbeat",
            h.heartbeat,
            "heartbeat",
            "Nanoseconds since the epoch",
            blocking=False,
        ),
        get(API + "/version", h.version, "version", "Server version", blocking=False),
        get(
            API + "/pre-flight-checks",
            h.pre_flight_checks,
            "pre_flight_checks",
            "Client limits",
            blocking=False,
        ),
        get(API + "/auth/identity", h.identity, "identity", "Caller identity", blocking=False),
        get(API + "/healthcheck", h.healthcheck, "healthcheck", "Readiness", blocking=False),
        _operation("POST", API + "/reset", h.reset, "reset", "Delete everything (if allowed)"),
        OperationRoute(
            "POST",
            API + "/backup",
            endpoint(h.backup, body=True),
            Operation(
                "backup",
                "Copy the database into a new directory of the server's machine, consistent "
                "while writes go on (Azurite)",
                request_body=True,
                request_schema=BACKUP_REQUEST,
                response_schema=BACKUP_RESPONSE,
            ),
        ),
        post(API + "/tenants", h.create_tenant, "create_tenant", "Create a tenant"),
        get(TENANT, h.get_tenant, "get_tenant", "Get a tenant"),
        _operation("PATCH", TENANT, h.update_tenant, "update_tenant", "Update a tenant", body=True),
        post(TENANT + "/databases", h.create_database, "create_database", "Create a database"),
        get(
            TENANT + "/databases", h.list_databases, "list_databases", "List databases", query=page
        ),
        get(DATABASE, h.get_database, "get_database", "Get a database"),
        _operation("DELETE", DATABASE, h.delete_database, "delete_database", "Delete a database"),
        get(
            DATABASE + "/collections_count",
            h.count_collections,
            "count_collections",
            "Count collections",
        ),
        get(COLLECTIONS, h.list_collections, "list_collections", "List collections", query=page),
        post(COLLECTIONS, h.create_collection, "create_collection", "Create (or get) a collection"),
        get(
            COLLECTIONS + "/by-id/{collection_id}",
            h.get_collection_by_id,
            "get_collection_by_id",
            "Get a collection by id",
        ),
        post(RECORDS + "/add", h.add, "collection_add", "Add records", status=201),
        post(RECORDS + "/update", h.update, "collection_update", "Update records"),
        post(RECORDS + "/upsert", h.upsert, "collection_upsert", "Update or add records"),
        post(RECORDS + "/get", h.get, "collection_get", "Get records by ids and filters"),
        post(
            RECORDS + "/query",
            h.query,
            "collection_query",
            "Nearest neighbours of query embeddings",
        ),
        post(RECORDS + "/delete", h.delete, "collection_delete", "Delete records"),
        get(RECORDS + "/count", h.count, "collection_count", "Count records"),
        get(
            RECORDS + "/index_stats",
            h.index_stats,
            "collection_index_stats",
            "Azurite: the state of the vector index",
        ),
        _unsupported(
            "GET", API + "/collections/{crn}", "get_collection_by_crn", "Collection lookup by CRN"
        ),
        OperationRoute(
            "POST",
            RECORDS + "/fork",
            endpoint(h.fork_collection, body=True),
            Operation(
                "fork_collection",
                "Fork a collection: a new one with its records, metadata and configuration",
                request_body=True,
                request_schema=FORK_REQUEST,
            ),
        ),
        OperationRoute(
            "GET",
            RECORDS + "/fork_count",
            endpoint(h.fork_count),
            Operation(
                "fork_count",
                "How many forks the collection's lineage has made",
                response_schema=FORK_COUNT_RESPONSE,
            ),
        ),
        OperationRoute(
            "POST",
            DATABASE + "/imports",
            endpoint(h.stage_import, body=True),
            Operation(
                "stage_import",
                "Azurite: stage an import into a collection (a new one, or a copy of the "
                "existing one), invisible until published",
                request_body=True,
                request_schema=STAGE_IMPORT_REQUEST,
            ),
        ),
        OperationRoute(
            "POST",
            API + "/imports/publish",
            endpoint(h.publish_imports, body=True),
            Operation(
                "publish_imports",
                "Azurite: publish staged imports, all of them or none",
                request_body=True,
                request_schema=PUBLISH_IMPORTS_REQUEST,
            ),
        ),
        _operation(
            "DELETE",
            API + "/imports/{collection_id}",
            h.abandon_import,
            "abandon_import",
            "Azurite: abandon a staged import",
        ),
        _unsupported("GET", RECORDS + "/indexing_status", "indexing_status", "Indexing status"),
        OperationRoute(
            "POST",
            RECORDS + "/search",
            endpoint(h.search, body=True),
            Operation(
                "collection_search",
                "Search records: filter, dense or sparse Knn ranks and their arithmetic, "
                "group_by, limit and select",
                request_body=True,
                request_schema=SEARCH_REQUEST,
                response_schema=SEARCH_RESPONSE,
            ),
        ),
        _unsupported(
            "POST", RECORDS + "/conditional/{operation}", "conditional_write", "Conditional writes"
        ),
        _unsupported(
            "POST", RECORDS + "/functions/attach", "attach_function", "Attached functions"
        ),
        _unsupported(
            "GET", RECORDS + "/functions/{name}", "get_attached_function", "Attached functions"
        ),
        _unsupported(
            "POST",
            RECORDS + "/attached_functions/{name}/{operation}",
            "attached_function_operation",
            "Attached functions",
        ),
        # Name routes last: a collection name never contains "/", so the more specific
        # id routes above win for ids.
        get(
            COLLECTIONS + "/{name}", h.get_collection, "get_collection", "Get a collection by name"
        ),
        _operation(
            "PUT",
            RECORDS,
            h.modify_collection,
            "modify_collection",
            "Rename, replace metadata or configuration",
            body=True,
        ),
        _operation(
            "DELETE",
            COLLECTIONS + "/{name}",
            h.delete_collection,
            "delete_collection",
            "Delete a collection by name",
        ),
    ]


def routes() -> list[BaseRoute]:
    """The API routes, then the routes outside it: the retired v1 API and the API's own
    description."""
    return [
        *api_routes(),
        Route("/api/v1/{rest:path}", _v1_gone, methods=ALL_METHODS),
        Route("/api/v1", _v1_gone, methods=ALL_METHODS),
        Route("/openapi.json", openapi.document, methods=["GET"]),
        Route("/docs", openapi.docs_page, methods=["GET"]),
    ]


def create_app(
    config: ServerConfig | None = None, database: _core.Database | None = None
) -> Starlette:
    """The server application over ``database``, or over the directory ``config.path``
    opened when the server starts (ASGI lifespan). Either way the database is closed when
    the server stops."""
    config = config if config is not None else ServerConfig()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.database = database if database is not None else _core.Database(config.path)
        try:
            yield
        finally:
            app.state.database.close()

    middleware = []
    if config.cors_allow_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_allow_origins),
                allow_methods=["*"],
                allow_headers=["*"],
            )
        )
    if config.auth_token is not None:
        middleware.append(Middleware(TokenAuthMiddleware, token=config.auth_token))
    app = Starlette(
        routes=routes(),
        middleware=middleware,
        exception_handlers={404: _empty, 405: _empty},
        lifespan=lifespan,
    )
    app.state.config = config
    return app
