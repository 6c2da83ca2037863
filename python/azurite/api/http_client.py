"""HTTP clients: ``azurite.HttpClient`` and ``azurite.AsyncHttpClient``.

They speak Chroma's API v2, so they work against ``azurite run`` and against Chroma
servers alike, and they offer the API of the embedded client with the same errors.

How they reuse the embedded client: ``Client`` and ``Collection`` validate arguments,
run embedding functions and shape results, then call the engine (``_core.Database``)
for the actual work. The HTTP clients swap that engine for :class:`RemoteDatabase`,
which has the engine's methods and answers them with HTTP requests. Each engine
method is described once, by :class:`Requests`, as a request plus a decoder; the
synchronous and asynchronous transports only differ in how they send it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlparse

import httpx
import numpy as np
import orjson

from azurite import __version__
from azurite.api import embedding
from azurite.api.client import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    Client,
    TenantsAndDatabases,
    UserIdentity,
    _configuration_json,
)
from azurite.api.collection import (
    GET_INCLUDE,
    QUERY_INCLUDE,
    Collection,
)
from azurite.config import Settings
from azurite.errors import (
    ChromaError,
    ConditionalWriteConflictError,
    InternalError,
    error_types,
)

API_PATH = "/api/v2"
USER_AGENT = f"Azurite Python Client v{__version__}"
TOKEN_HEADERS = ("Authorization", "X-Chroma-Token")
#: Connections idle this long are dropped, as Chroma's client does.
KEEPALIVE_SECONDS = 40.0


# ---- one request and how to read its answer


@dataclass
class Request:
    """One HTTP request and the function that turns its JSON answer into the engine's
    return value. A decoder may return another ``Request`` to be sent next (a call that
    needs two round trips, such as a write that first learns the server's encoding)."""

    method: str
    path: str
    body: Any = None
    params: dict[str, Any] | None = None
    decode: Callable[[Any], Any] = field(default=lambda payload: payload)


def raise_for_error(response: httpx.Response) -> None:
    """Raises the Azurite error class named by an error response (as the embedded client
    would raise it), or a plain ``Exception`` with the body for anything else."""
    if response.is_success:
        return
    try:
        body = response.json()
        name, message = body["error"], body["message"]
    except (ValueError, KeyError, TypeError):
        raise Exception(response.text) from None
    error = _error_for(response.status_code, name, message)
    if error is None:
        raise Exception(response.text)
    error.trace_id = response.headers.get("chroma-trace-id")
    raise error


def _error_for(status: int, name: str, message: str) -> ChromaError | None:
    if status == 409 and name == "ChromaError":
        if message == "conditional write conflict":
            return ConditionalWriteConflictError(message)
        # The embedded engine reports duplicates as InternalError (as Chroma's does).
        return InternalError(message)
    cls = error_types.get(name)
    return cls(message) if cls is not None else None


def _model(payload: dict[str, Any]) -> dict[str, Any]:
    """A collection as the engine returns it (configuration as JSON text)."""
    return {
        "id": payload["id"],
        "name": payload["name"],
        "tenant": payload["tenant"],
        "database": payload["database"],
        "metadata": payload.get("metadata"),
        "configuration_json": json.dumps(payload.get("configuration_json") or {}),
        "dimension": payload.get("dimension"),
    }


def _matrix(rows: Any) -> np.ndarray:
    if not rows:
        return np.zeros((0, 0), np.float32)
    return np.asarray(rows, dtype=np.float32)


def _base64_rows(matrix: np.ndarray) -> list[str]:
    little_endian = np.ascontiguousarray(matrix, dtype="<f4")
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in little_endian]


def _loads(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def _wire_include(include: list[str]) -> list[str]:
    # "data" is loaded by the client from URIs; servers do not know it.
    return [item for item in include if item != "data"]


class Requests:
    """The engine's methods as HTTP requests against one server."""

    def __init__(self) -> None:
        #: Where each collection id lives (tenant, database), learnt from the collection
        #: records the server returns: record routes name both in their paths.
        self.locations: dict[str, tuple[str, str]] = {}
        #: The server's pre-flight answer, fetched once before the first write.
        self.pre_flight: dict[str, Any] | None = None

    # ---- paths

    @staticmethod
    def _collections(tenant: str, database: str) -> str:
        return f"/tenants/{tenant}/databases/{database}/collections"

    def _records(self, collection_id: str) -> str:
        tenant, database = self.locations.get(collection_id, (DEFAULT_TENANT, DEFAULT_DATABASE))
        return f"{self._collections(tenant, database)}/{collection_id}"

    def _remember(self, payload: dict[str, Any]) -> dict[str, Any]:
        model = _model(payload)
        self.locations[model["id"]] = (model["tenant"], model["database"])
        return model

    # ---- server

    def heartbeat(self) -> Request:
        return Request("GET", "/heartbeat", decode=lambda p: int(p["nanosecond heartbeat"]))

    def version(self) -> Request:
        return Request("GET", "/version")

    def identity(self) -> Request:
        return Request("GET", "/auth/identity", decode=lambda p: UserIdentity(**p))

    def pre_flight_checks(self) -> Request:
        def remember(payload: dict[str, Any]) -> dict[str, Any]:
            self.pre_flight = payload
            return payload

        return Request("GET", "/pre-flight-checks", decode=remember)

    def reset(self) -> Request:
        return Request("POST", "/reset", decode=bool)

    # ---- tenants and databases

    def create_tenant(self, name: str) -> Request:
        return Request("POST", "/tenants", {"name": name}, decode=lambda p: None)

    def get_tenant(self, name: str) -> Request:
        return Request("GET", f"/tenants/{name}", decode=lambda p: None)

    def create_database(self, name: str, tenant: str) -> Request:
        return Request("POST", f"/tenants/{tenant}/databases", {"name": name})

    def get_database(self, name: str, tenant: str) -> Request:
        return Request("GET", f"/tenants/{tenant}/databases/{name}")

    def list_databases(self, tenant: str, limit: int | None = None, offset: int = 0) -> Request:
        params = {"limit": limit, "offset": offset}
        return Request("GET", f"/tenants/{tenant}/databases", params=params)

    def delete_database(self, name: str, tenant: str) -> Request:
        return Request("DELETE", f"/tenants/{tenant}/databases/{name}", decode=lambda p: None)

    # ---- collections

    def create_collection(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: dict[str, Any] | None = None,
        get_or_create: bool = False,
    ) -> Request:
        body = {
            "name": name,
            "metadata": metadata,
            "configuration": _loads(configuration_json),
            "schema": None,
            "get_or_create": get_or_create,
        }
        return Request("POST", self._collections(tenant, database), body, decode=self._remember)

    def get_collection(self, tenant: str, database: str, name: str) -> Request:
        path = f"{self._collections(tenant, database)}/{name}"
        return Request("GET", path, decode=self._remember)

    def get_collection_by_id(self, tenant: str, database: str, id: str) -> Request:
        path = f"{self._collections(tenant, database)}/by-id/{id}"
        return Request("GET", path, decode=self._remember)

    def list_collections(
        self, tenant: str, database: str, limit: int | None = None, offset: int = 0
    ) -> Request:
        return Request(
            "GET",
            self._collections(tenant, database),
            params={"limit": limit, "offset": offset},
            decode=lambda payload: [self._remember(item) for item in payload],
        )

    def count_collections(self, tenant: str, database: str) -> Request:
        return Request("GET", f"/tenants/{tenant}/databases/{database}/collections_count")

    def delete_collection(self, tenant: str, database: str, name: str) -> Request:
        path = f"{self._collections(tenant, database)}/{name}"
        return Request("DELETE", path, decode=lambda p: None)

    def modify_collection(
        self,
        id: str,
        new_name: str | None = None,
        new_metadata: dict[str, Any] | None = None,
        new_configuration_json: str | None = None,
    ) -> Request:
        body = {
            "new_name": new_name,
            "new_metadata": new_metadata,
            "new_configuration": _loads(new_configuration_json),
        }
        tenant, database = self.locations.get(id, (DEFAULT_TENANT, DEFAULT_DATABASE))
        # The server answers {}; the engine returns the changed collection, so read it.
        then = self.get_collection_by_id(tenant, database, id)
        return Request("PUT", self._records(id), body, decode=lambda p: then)

    # ---- records

    def _write(
        self,
        route: str,
        collection: str,
        ids: list[str],
        embeddings: np.ndarray | None,
        metadatas: Any,
        documents: Any,
        uris: Any,
    ) -> Request:
        def send(pre_flight: dict[str, Any]) -> Request:
            rows = None
            if embeddings is not None:
                encode = pre_flight.get("supports_base64_encoding", False)
                rows = _base64_rows(embeddings) if encode else embeddings.tolist()
            body = {
                "ids": ids,
                "embeddings": rows,
                "metadatas": metadatas,
                "documents": documents,
                "uris": uris,
            }
            return Request(
                "POST", f"{self._records(collection)}/{route}", body, decode=lambda p: None
            )

        if self.pre_flight is not None:
            return send(self.pre_flight)
        first = self.pre_flight_checks()
        remember = first.decode
        first.decode = lambda payload: send(remember(payload))
        return first

    def add(self, collection: str, ids: list[str], embeddings: Any = None, *rest: Any) -> Request:
        return self._write("add", collection, ids, embeddings, *rest)

    def update(
        self, collection: str, ids: list[str], embeddings: Any = None, *rest: Any
    ) -> Request:
        return self._write("update", collection, ids, embeddings, *rest)

    def upsert(
        self, collection: str, ids: list[str], embeddings: Any = None, *rest: Any
    ) -> Request:
        return self._write("upsert", collection, ids, embeddings, *rest)

    def delete(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
    ) -> Request:
        body: dict[str, Any] = {
            "ids": ids,
            "where": _loads(where_json),
            "where_document": _loads(where_document_json),
        }
        if limit is not None:
            body["limit"] = limit
        return Request(
            "POST",
            f"{self._records(collection)}/delete",
            body,
            decode=lambda p: (p or {}).get("deleted", 0),
        )

    def count(self, collection: str) -> Request:
        return Request("GET", f"{self._records(collection)}/count")

    def get(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        include: list[str] = GET_INCLUDE,
    ) -> Request:
        body = {
            "ids": ids,
            "where": _loads(where_json),
            "where_document": _loads(where_document_json),
            "limit": limit,
            "offset": offset,
            "include": _wire_include(include),
        }

        def columns(payload: dict[str, Any]) -> dict[str, Any]:
            found = payload.get("embeddings")
            return {
                "ids": payload["ids"],
                "embeddings": _matrix(found) if found is not None else None,
                "documents": payload.get("documents"),
                "metadatas": payload.get("metadatas"),
                "uris": payload.get("uris"),
            }

        return Request("POST", f"{self._records(collection)}/get", body, decode=columns)

    def query(
        self,
        collection: str,
        query_embeddings: np.ndarray,
        n_results: int,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        include: list[str] = QUERY_INCLUDE,
    ) -> Request:
        body = {
            "ids": ids,
            "query_embeddings": np.asarray(query_embeddings, np.float32).tolist(),
            "n_results": n_results,
            "where": _loads(where_json),
            "where_document": _loads(where_document_json),
            "include": _wire_include(include),
        }
        return Request("POST", f"{self._records(collection)}/query", body, decode=_query_columns)


def _query_columns(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The server's column-per-field answer as the engine's list of per-query columns."""

    def column(name: str, position: int) -> Any:
        values = payload.get(name)
        return values[position] if values is not None else None

    results = []
    for position, ids in enumerate(payload["ids"]):
        embeddings = column("embeddings", position)
        distances = column("distances", position)
        results.append(
            {
                "ids": ids,
                "embeddings": _matrix(embeddings) if embeddings is not None else None,
                "documents": column("documents", position),
                "metadatas": column("metadatas", position),
                "uris": column("uris", position),
                "distances": np.asarray(distances if distances is not None else [], np.float32),
            }
        )
    return results


# ---- transports


def resolve_url(host: str, port: int, ssl: bool) -> str:
    """The API base URL, with Chroma's client rules: a host that is already a URL keeps
    its scheme and path (``/api/v2`` is appended unless present) and no port is added."""
    parsed = urlparse(host)
    if "/" in host and parsed.scheme not in ("http", "https"):
        raise ValueError(
            "Invalid URL. Seems that you are trying to pass URL as a host but without "
            "specifying the protocol. Please add http:// or https:// to the host."
        )
    if host.startswith("http"):
        scheme = "https" if ssl else parsed.scheme
        path = parsed.path.rstrip("/")
        if not path.endswith(API_PATH):
            path += API_PATH
        return f"{scheme}://{parsed.netloc}{quote(path)}"
    return f"{'https' if ssl else 'http'}://{host}:{port}{API_PATH}"


def auth_headers(settings: Settings) -> dict[str, str]:
    """Credential headers configured the way Chroma's client configures them."""
    credentials = settings.chroma_client_auth_credentials
    provider = settings.chroma_client_auth_provider
    if not credentials or not provider:
        return {}
    if "basic" in provider.lower():
        return {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    header = settings.chroma_auth_token_transport_header or "Authorization"
    if header not in TOKEN_HEADERS:
        raise ValueError(f"Invalid header: {header}. Must be one of {list(TOKEN_HEADERS)}")
    if not credentials.isprintable() or not credentials.isascii() or " " in credentials:
        raise ValueError("Invalid token. Must contain only ASCII letters, digits, and punctuation.")
    return {header: f"Bearer {credentials}" if header == "Authorization" else credentials}


def session_options(
    host: str, port: int, ssl: bool, headers: dict[str, str] | None, settings: Settings
) -> dict[str, Any]:
    """What an httpx client of this server is built with."""
    return {
        "base_url": resolve_url(host, port, ssl),
        "headers": {
            **(headers or {}),
            **auth_headers(settings),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        },
        "timeout": None,
        "limits": httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS),
    }


def _send_options(request: Request) -> dict[str, Any]:
    options: dict[str, Any] = {"url": quote(request.path, safe="/")}
    if request.body is not None:
        options["content"] = orjson.dumps(request.body, option=orjson.OPT_SERIALIZE_NUMPY)
    if request.params is not None:
        options["params"] = {k: v for k, v in request.params.items() if v is not None}
    return options


class RemoteDatabase:
    """The engine's interface, answered by a server over a synchronous httpx client."""

    def __init__(self, session: httpx.Client) -> None:
        self.session = session
        self.requests = Requests()

    def send(self, request: Request) -> Any:
        while True:
            try:
                response = self.session.request(request.method, **_send_options(request))
            except httpx.ConnectError:
                raise ValueError(
                    "Could not connect to a Chroma server. Are you sure it is running?"
                ) from None
            raise_for_error(response)
            result = request.decode(orjson.loads(response.content) if response.content else None)
            if not isinstance(result, Request):
                return result
            request = result

    def __getattr__(self, name: str) -> Callable[..., Any]:
        build = getattr(self.requests, name)
        return lambda *args: self.send(build(*args))

    def close(self) -> None:
        self.session.close()


class AsyncRemoteDatabase:
    """The engine's interface as coroutines, over an asynchronous httpx client."""

    def __init__(self, session: httpx.AsyncClient) -> None:
        self.session = session
        self.requests = Requests()

    async def send(self, request: Request) -> Any:
        while True:
            try:
                response = await self.session.request(request.method, **_send_options(request))
            except httpx.ConnectError:
                raise ValueError(
                    "Could not connect to a Chroma server. Are you sure it is running?"
                ) from None
            raise_for_error(response)
            result = request.decode(orjson.loads(response.content) if response.content else None)
            if not isinstance(result, Request):
                return result
            request = result

    def __getattr__(self, name: str) -> Callable[..., Any]:
        build = getattr(self.requests, name)
        return lambda *args: self.send(build(*args))

    async def close(self) -> None:
        await self.session.aclose()


# ---- the synchronous client


class HttpClientAPI(Client):
    """A client of a server speaking Chroma's API v2, with the embedded client's API."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 8000,
        ssl: bool = False,
        headers: dict[str, str] | None = None,
        settings: Settings | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> None:
        # No local system: the server owns the database.
        self._settings = settings if settings is not None else Settings()
        self._system = None
        self._remote: RemoteDatabase | None = RemoteDatabase(
            httpx.Client(**session_options(host, port, ssl, headers, self._settings))
        )
        try:
            self._check_tenant_and_database(str(tenant), str(database))
        except BaseException:
            self.close()
            raise
        self.tenant = str(tenant)
        self.database = str(database)

    @property
    def _db(self) -> Any:
        if self._remote is None:
            raise ChromaError("This client has been closed")
        return self._remote

    def close(self) -> None:
        """Closes the connections to the server."""
        if self._remote is not None:
            self._remote.close()
            self._remote = None

    def heartbeat(self) -> int:
        return self._db.heartbeat()

    def get_version(self) -> str:
        return self._db.version()

    def get_max_batch_size(self) -> int:
        return int(self._db.pre_flight_checks().get("max_batch_size", -1))

    def get_user_identity(self) -> UserIdentity:
        return self._db.identity()

    def reset(self) -> bool:
        """Deletes everything, if the server allows it."""
        return self._db.reset()


def HttpClient(
    host: str = "localhost",
    port: int = 8000,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> HttpClientAPI:
    """A client of the server at ``host``:``port`` (``azurite run`` or a Chroma server)."""
    return HttpClientAPI(host, port, ssl, headers, settings, tenant, database)


class AdminHttpClient(TenantsAndDatabases, HttpClientAPI):
    """Tenants and databases of a server (``AdminClient`` over HTTP)."""


# ---- the asynchronous client


class AsyncCollection(Collection):
    """A collection of an :class:`AsyncClientAPI`: the same methods as ``Collection``,
    as coroutines. ``Collection`` validates, embeds and builds each engine call and shapes
    its result; only the call to the server is awaited."""

    async def add(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> None:
        record = self._prepare_add(ids, embeddings, metadatas, documents, images, uris)
        await self._db.add(*self._write_arguments(record))

    async def update(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> None:
        record = self._prepare_update(ids, embeddings, metadatas, documents, images, uris)
        await self._db.update(*self._write_arguments(record))

    async def upsert(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> None:
        record = self._prepare_upsert(ids, embeddings, metadatas, documents, images, uris)
        await self._db.upsert(*self._write_arguments(record))

    async def delete(  # type: ignore[override]
        self,
        ids: Any = None,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> dict[str, int]:
        arguments = self._delete_arguments(ids, where, where_document, limit)
        return {"deleted": await self._db.delete(*arguments)}

    async def count(self, read_level: Any = None) -> int:  # type: ignore[override]
        return await self._db.count(self._key)

    async def get(  # type: ignore[override]
        self,
        ids: Any = None,
        where: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] = GET_INCLUDE,
    ) -> dict[str, Any]:
        arguments, include = self._get_request(ids, where, limit, offset, where_document, include)
        return self._get_result(await self._db.get(*arguments), include)

    async def peek(self, limit: int = 10) -> dict[str, Any]:  # type: ignore[override]
        return self._peek_result(await self._db.get(*self._peek_arguments(limit)))

    async def query(  # type: ignore[override]
        self,
        query_embeddings: Any = None,
        query_texts: Any = None,
        query_images: Any = None,
        query_uris: Any = None,
        ids: Any = None,
        n_results: int = 10,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] = QUERY_INCLUDE,
    ) -> dict[str, Any]:
        request = self._query_request(
            query_embeddings,
            query_texts,
            query_images,
            query_uris,
            ids,
            n_results,
            where,
            where_document,
            include,
        )
        if request.empty_results is not None:
            return self._query_result(request.empty_results, request.include)
        return self._query_result(await self._db.query(*request.arguments), request.include)

    async def modify(  # type: ignore[override]
        self,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> None:
        arguments = self._modify_arguments(name, metadata, configuration)
        self._after_modify(await self._db.modify_collection(*arguments), configuration)


class AsyncClientAPI:
    """An asynchronous client of a server speaking Chroma's API v2; create it with
    ``await azurite.AsyncHttpClient(...)``. Methods are those of the embedded client, as
    coroutines."""

    def __init__(
        self,
        host: str = "localhost",
        port: int = 8000,
        ssl: bool = False,
        headers: dict[str, str] | None = None,
        settings: Settings | None = None,
        tenant: str = DEFAULT_TENANT,
        database: str = DEFAULT_DATABASE,
    ) -> None:
        self._settings = settings if settings is not None else Settings()
        self._remote: AsyncRemoteDatabase | None = AsyncRemoteDatabase(
            httpx.AsyncClient(**session_options(host, port, ssl, headers, self._settings))
        )
        self.tenant = str(tenant)
        self.database = str(database)

    @property
    def _db(self) -> Any:
        if self._remote is None:
            raise ChromaError("This client has been closed")
        return self._remote

    async def _check_tenant_and_database(self, tenant: str, database: str) -> None:
        await self._db.get_tenant(tenant)
        await self._db.get_database(database, tenant)

    async def close(self) -> None:
        """Closes the connections to the server."""
        if self._remote is not None:
            await self._remote.close()
            self._remote = None

    async def __aenter__(self) -> AsyncClientAPI:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def get_settings(self) -> Settings:
        return self._settings

    # ---- server-level calls

    async def heartbeat(self) -> int:
        return await self._db.heartbeat()

    async def get_version(self) -> str:
        return await self._db.version()

    async def get_max_batch_size(self) -> int:
        return int((await self._db.pre_flight_checks()).get("max_batch_size", -1))

    async def get_user_identity(self) -> UserIdentity:
        return await self._db.identity()

    async def reset(self) -> bool:
        return await self._db.reset()

    async def set_tenant(self, tenant: str, database: str = DEFAULT_DATABASE) -> None:
        await self._check_tenant_and_database(tenant, database)
        self.tenant, self.database = tenant, database

    async def set_database(self, database: str) -> None:
        await self._check_tenant_and_database(self.tenant, database)
        self.database = database

    # ---- collections

    def _collection(
        self, model: dict[str, Any], embedding_function: Any, data_loader: Any
    ) -> AsyncCollection:
        return AsyncCollection(self, model, embedding_function, data_loader)  # type: ignore[arg-type]

    async def list_collections(
        self, limit: int | None = None, offset: int | None = None
    ) -> list[AsyncCollection]:
        models = await self._db.list_collections(self.tenant, self.database, limit, offset or 0)
        return [self._collection(m, embedding.DEFAULT_EMBEDDING_FUNCTION, None) for m in models]

    async def count_collections(self) -> int:
        return await self._db.count_collections(self.tenant, self.database)

    async def create_collection(
        self,
        name: str,
        schema: Any = None,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
        get_or_create: bool = False,
    ) -> AsyncCollection:
        model = await self._db.create_collection(
            self.tenant,
            self.database,
            name,
            _configuration_json(configuration, metadata, embedding_function),
            metadata,
            get_or_create,
        )
        return self._collection(model, embedding_function, data_loader)

    async def get_or_create_collection(
        self,
        name: str,
        schema: Any = None,
        configuration: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> AsyncCollection:
        return await self.create_collection(
            name,
            schema=schema,
            configuration=configuration,
            metadata=metadata,
            embedding_function=embedding_function,
            data_loader=data_loader,
            get_or_create=True,
        )

    async def get_collection(
        self,
        name: str,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> AsyncCollection:
        model = await self._db.get_collection(self.tenant, self.database, name)
        return self._collection(model, embedding_function, data_loader)

    async def get_collection_by_id(
        self,
        id: Any,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> AsyncCollection:
        model = await self._db.get_collection_by_id(self.tenant, self.database, str(id))
        return self._collection(model, embedding_function, data_loader)

    async def delete_collection(self, name: str) -> None:
        await self._db.delete_collection(self.tenant, self.database, name)


async def AsyncHttpClient(
    host: str = "localhost",
    port: int = 8000,
    ssl: bool = False,
    headers: dict[str, str] | None = None,
    settings: Settings | None = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> AsyncClientAPI:
    """An asynchronous client of the server at ``host``:``port``; checks the tenant and
    database on creation, as ``HttpClient`` does."""
    client = AsyncClientAPI(host, port, ssl, headers, settings, tenant, database)
    try:
        await client._check_tenant_and_database(client.tenant, client.database)
    except BaseException:
        await client.close()
        raise
    return client


__all__ = [
    "AdminHttpClient",
    "AsyncClientAPI",
    "AsyncCollection",
    "AsyncHttpClient",
    "HttpClient",
    "HttpClientAPI",
]
