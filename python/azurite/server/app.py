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
    unprocessable,
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
    if isinstance(error, TypeError):
        # The engine refused a value of the wrong type: the body did not fit the API types.
        failure = unprocessable(str(error))
        return error_response(failure.status, failure.name, failure.message)
    if isinstance(error, (ValueError, OverflowError)):
        return error_response(400, "InvalidArgumentError", str(error))
    logger.exception("unexpected error while serving a request", exc_info=error)
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


def routes() -> list[BaseRoute]:
    def get(path: str, handler: Handler, **options: Any) -> Route:
        return Route(path, endpoint(handler, **options), methods=["GET"])

    def post(path: str, handler: Handler, status: int = 200) -> Route:
        return Route(path, endpoint(handler, body=True, status=status), methods=["POST"])

    def unsupported(path: str, method: str, what: str) -> Route:
        return Route(path, endpoint(h.unsupported(what), blocking=False), methods=[method])

    return [
        get(API, h.heartbeat, blocking=False),
        get(API + "/heartbeat", h.heartbeat, blocking=False),
        get(API + "/version", h.version, blocking=False),
        get(API + "/pre-flight-checks", h.pre_flight_checks, blocking=False),
        get(API + "/auth/identity", h.identity, blocking=False),
        get(API + "/healthcheck", h.healthcheck, blocking=False),
        Route(API + "/reset", endpoint(h.reset), methods=["POST"]),
        post(API + "/tenants", h.create_tenant),
        get(TENANT, h.get_tenant),
        Route(TENANT, endpoint(h.update_tenant, body=True), methods=["PATCH"]),
        post(TENANT + "/databases", h.create_database),
        get(TENANT + "/databases", h.list_databases),
        get(DATABASE, h.get_database),
        Route(DATABASE, endpoint(h.delete_database), methods=["DELETE"]),
        get(DATABASE + "/collections_count", h.count_collections),
        get(COLLECTIONS, h.list_collections),
        post(COLLECTIONS, h.create_collection),
        get(COLLECTIONS + "/by-id/{collection_id}", h.get_collection_by_id),
        post(RECORDS + "/add", h.add, status=201),
        post(RECORDS + "/update", h.update),
        post(RECORDS + "/upsert", h.upsert),
        post(RECORDS + "/get", h.get),
        post(RECORDS + "/query", h.query),
        post(RECORDS + "/delete", h.delete),
        get(RECORDS + "/count", h.count),
        unsupported(API + "/collections/{crn}", "GET", "Collection lookup by CRN"),
        unsupported(RECORDS + "/fork", "POST", "Collection forking"),
        unsupported(RECORDS + "/fork_count", "GET", "Collection forking"),
        unsupported(RECORDS + "/indexing_status", "GET", "Indexing status"),
        unsupported(RECORDS + "/search", "POST", "Search"),
        unsupported(RECORDS + "/conditional/{operation}", "POST", "Conditional writes"),
        unsupported(RECORDS + "/functions/attach", "POST", "Attached functions"),
        unsupported(RECORDS + "/functions/{name}", "GET", "Attached functions"),
        unsupported(
            RECORDS + "/attached_functions/{name}/{operation}", "POST", "Attached functions"
        ),
        # Name routes last: a collection name never contains "/", so the more specific
        # id routes above win for ids.
        get(COLLECTIONS + "/{name}", h.get_collection),
        Route(RECORDS, endpoint(h.modify_collection, body=True), methods=["PUT"]),
        Route(COLLECTIONS + "/{name}", endpoint(h.delete_collection), methods=["DELETE"]),
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
