"""The remote engine: Chroma's API v2 over httpx, for ``azurite run`` and Chroma servers.

:class:`RemoteDatabase` (or :class:`AsyncRemoteDatabase`) is an engine that answers the
engine's methods with HTTP requests, and :class:`RemoteServer` (or
:class:`AsyncRemoteServer`) asks the server its server-level calls; the connection
functions at the end hand both to a client (``azurite.api.http_client`` has the HTTP
client classes). Each call is described once, by :class:`Requests`, as a request plus a
decoder; the synchronous and asynchronous transports only differ in how they send it.
"""

from __future__ import annotations

import base64
import json
import os
import ssl as ssl_module
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlparse

import httpx
import numpy as np
import orjson

from azurite._version import __version__
from azurite.api.collection_core import GET_INCLUDE, QUERY_INCLUDE
from azurite.api.engine import (
    CLIENT_CLOSED,
    DEFAULT_READ_LEVEL,
    AsyncConnection,
    AsyncEngine,
    BackupReport,
    CollectionModel,
    Connection,
    DatabaseModel,
    Engine,
    GetColumns,
    IndexStats,
    Matrix,
    Metadata,
    QueryColumns,
    SearchColumns,
    UserIdentity,
)
from azurite.base_types import deserialize_metadata, serialize_metadata
from azurite.config import DEFAULT_DATABASE, DEFAULT_TENANT, Settings, as_settings
from azurite.errors import (
    AlreadyExistsError,
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


T = TypeVar("T")


@dataclass
class Request(Generic[T]):
    """One HTTP request and the function that turns its JSON answer into the engine's
    return value. A decoder may return another ``Request`` to be sent next (a call that
    needs two round trips, such as a write that first learns the server's encoding)."""

    method: str
    path: str
    body: Any = None
    params: dict[str, Any] | None = None
    decode: Callable[[Any], T | Request[T]] = field(default=lambda payload: payload)


def _nothing(payload: Any) -> None:
    return None


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
    cls = error_types.get(name)
    if status == 409 and cls in (None, ChromaError, InternalError):
        # Chroma's server names its conditional-write conflict only by this message.
        if message == "conditional write conflict":
            return ConditionalWriteConflictError(message)
        return AlreadyExistsError(message)
    return cls(message) if cls is not None else None


def _model(payload: dict[str, Any]) -> CollectionModel:
    """A collection as the engine returns it (configuration and schema as JSON text)."""
    return {
        "id": payload["id"],
        "name": payload["name"],
        "tenant": payload["tenant"],
        "database": payload["database"],
        "metadata": deserialize_metadata(payload.get("metadata")),
        "configuration_json": json.dumps(payload.get("configuration_json") or {}),
        "schema_json": json.dumps(payload.get("schema") or {}),
        "dimension": payload.get("dimension"),
    }


def _matrix(rows: Any) -> Matrix:
    if not rows:
        return np.zeros((0, 0), np.float32)
    return np.asarray(rows, dtype=np.float32)


def _base64_rows(matrix: Matrix) -> list[str]:
    little_endian = np.ascontiguousarray(matrix, dtype="<f4")
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in little_endian]


def _loads(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def _wire_include(include: list[str]) -> list[str]:
    # "data" is loaded by the client from URIs; servers do not know it.
    return [item for item in include if item != "data"]


class Requests:
    """The engine's methods (and the server-level calls) as HTTP requests against one
    server."""

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

    def _remember(self, payload: dict[str, Any]) -> CollectionModel:
        model = _model(payload)
        self.locations[model["id"]] = (model["tenant"], model["database"])
        return model

    # ---- server

    def heartbeat(self) -> Request[int]:
        return Request("GET", "/heartbeat", decode=lambda p: int(p["nanosecond heartbeat"]))

    def version(self) -> Request[str]:
        return Request("GET", "/version", decode=str)

    def identity(self) -> Request[UserIdentity]:
        return Request("GET", "/auth/identity", decode=lambda p: UserIdentity(**p))

    def _remember_pre_flight(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.pre_flight = payload
        return payload

    def pre_flight_checks(self) -> Request[dict[str, Any]]:
        return Request("GET", "/pre-flight-checks", decode=self._remember_pre_flight)

    def reset(self) -> Request[bool]:
        return Request("POST", "/reset", decode=bool)

    def backup(self, dest: str) -> Request[BackupReport]:
        return Request("POST", "/backup", {"path": dest})

    # ---- tenants and databases

    def create_tenant(self, name: str) -> Request[None]:
        return Request("POST", "/tenants", {"name": name}, decode=_nothing)

    def get_tenant(self, name: str) -> Request[None]:
        return Request("GET", f"/tenants/{name}", decode=_nothing)

    def create_database(self, name: str, tenant: str) -> Request[DatabaseModel]:
        return Request("POST", f"/tenants/{tenant}/databases", {"name": name})

    def get_database(self, name: str, tenant: str) -> Request[DatabaseModel]:
        return Request("GET", f"/tenants/{tenant}/databases/{name}")

    def list_databases(
        self, tenant: str, limit: int | None = None, offset: int = 0
    ) -> Request[list[DatabaseModel]]:
        params = {"limit": limit, "offset": offset}
        return Request("GET", f"/tenants/{tenant}/databases", params=params)

    def delete_database(self, name: str, tenant: str) -> Request[None]:
        return Request("DELETE", f"/tenants/{tenant}/databases/{name}", decode=_nothing)

    # ---- collections

    def create_collection(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: Metadata | None = None,
        get_or_create: bool = False,
        schema_json: str | None = None,
    ) -> Request[CollectionModel]:
        body = {
            "name": name,
            "metadata": serialize_metadata(metadata),
            "configuration": _loads(configuration_json),
            "schema": _loads(schema_json),
            "get_or_create": get_or_create,
        }
        return Request("POST", self._collections(tenant, database), body, decode=self._remember)

    def get_collection(self, tenant: str, database: str, name: str) -> Request[CollectionModel]:
        path = f"{self._collections(tenant, database)}/{name}"
        return Request("GET", path, decode=self._remember)

    def get_collection_by_id(self, tenant: str, database: str, id: str) -> Request[CollectionModel]:
        path = f"{self._collections(tenant, database)}/by-id/{id}"
        return Request("GET", path, decode=self._remember)

    def list_collections(
        self, tenant: str, database: str, limit: int | None = None, offset: int = 0
    ) -> Request[list[CollectionModel]]:
        return Request(
            "GET",
            self._collections(tenant, database),
            params={"limit": limit, "offset": offset},
            decode=lambda payload: [self._remember(item) for item in payload],
        )

    def count_collections(self, tenant: str, database: str) -> Request[int]:
        return Request("GET", f"/tenants/{tenant}/databases/{database}/collections_count")

    def delete_collection(self, tenant: str, database: str, name: str) -> Request[None]:
        path = f"{self._collections(tenant, database)}/{name}"
        return Request("DELETE", path, decode=_nothing)

    def modify_collection(
        self,
        id: str,
        new_name: str | None = None,
        new_metadata: Metadata | None = None,
        new_configuration_json: str | None = None,
    ) -> Request[CollectionModel]:
        body = {
            "new_name": new_name,
            "new_metadata": serialize_metadata(new_metadata),
            "new_configuration": _loads(new_configuration_json),
        }
        tenant, database = self.locations.get(id, (DEFAULT_TENANT, DEFAULT_DATABASE))
        # The server answers {}; the engine returns the changed collection, so read it.
        then = self.get_collection_by_id(tenant, database, id)
        return Request("PUT", self._records(id), body, decode=lambda p: then)

    def fork_collection(self, id: str, new_name: str) -> Request[CollectionModel]:
        body = {"new_name": new_name}
        return Request("POST", f"{self._records(id)}/fork", body, decode=self._remember)

    def fork_count(self, id: str) -> Request[int]:
        return Request("GET", f"{self._records(id)}/fork_count", decode=lambda p: int(p["count"]))

    # ---- imports (Azurite's own routes: staging collections published all at once)

    def stage_import(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: Metadata | None = None,
        schema_json: str | None = None,
    ) -> Request[CollectionModel]:
        body = {
            "name": name,
            "metadata": serialize_metadata(metadata),
            "configuration": _loads(configuration_json),
            "schema": _loads(schema_json),
        }
        path = f"/tenants/{tenant}/databases/{database}/imports"
        return Request("POST", path, body, decode=self._remember)

    def publish_imports(self, ids: list[str]) -> Request[list[CollectionModel]]:
        return Request(
            "POST",
            "/imports/publish",
            {"ids": ids},
            decode=lambda payload: [self._remember(item) for item in payload],
        )

    def abandon_import(self, id: str) -> Request[None]:
        return Request("DELETE", f"/imports/{id}", decode=_nothing)

    # ---- records

    def _write(
        self,
        route: str,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None,
        metadatas: list[Metadata | None] | None,
        documents: list[str | None] | None,
        uris: list[str | None] | None,
    ) -> Request[None]:
        def send(pre_flight: dict[str, Any]) -> Request[None]:
            rows = None
            if embeddings is not None:
                encode = pre_flight.get("supports_base64_encoding", False)
                rows = _base64_rows(embeddings) if encode else embeddings.tolist()
            body = {
                "ids": ids,
                "embeddings": rows,
                "metadatas": _metadatas_to_wire(metadatas),
                "documents": documents,
                "uris": uris,
            }
            return Request("POST", f"{self._records(collection)}/{route}", body, decode=_nothing)

        if self.pre_flight is not None:
            return send(self.pre_flight)
        first = self.pre_flight_checks()
        return Request(
            first.method,
            first.path,
            decode=lambda payload: send(self._remember_pre_flight(payload)),
        )

    def add(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> Request[None]:
        return self._write("add", collection, ids, embeddings, metadatas, documents, uris)

    def update(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> Request[None]:
        return self._write("update", collection, ids, embeddings, metadatas, documents, uris)

    def upsert(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> Request[None]:
        return self._write("upsert", collection, ids, embeddings, metadatas, documents, uris)

    def delete(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
    ) -> Request[int]:
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

    def count(self, collection: str) -> Request[int]:
        return Request("GET", f"{self._records(collection)}/count")

    def index_stats(self, collection: str) -> Request[IndexStats]:
        return Request("GET", f"{self._records(collection)}/index_stats")

    def get(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        include: list[str] = GET_INCLUDE,
    ) -> Request[GetColumns]:
        body = {
            "ids": ids,
            "where": _loads(where_json),
            "where_document": _loads(where_document_json),
            "limit": limit,
            "offset": offset,
            "include": _wire_include(include),
        }

        def columns(payload: dict[str, Any]) -> GetColumns:
            found = payload.get("embeddings")
            return {
                "ids": payload["ids"],
                "embeddings": _matrix(found) if found is not None else None,
                "documents": payload.get("documents"),
                "metadatas": _metadatas_from_wire(payload.get("metadatas")),
                "uris": payload.get("uris"),
            }

        return Request("POST", f"{self._records(collection)}/get", body, decode=columns)

    def query(
        self,
        collection: str,
        query_embeddings: Matrix,
        n_results: int,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        include: list[str] = QUERY_INCLUDE,
    ) -> Request[list[QueryColumns]]:
        body = {
            "ids": ids,
            "query_embeddings": np.asarray(query_embeddings, np.float32).tolist(),
            "n_results": n_results,
            "where": _loads(where_json),
            "where_document": _loads(where_document_json),
            "include": _wire_include(include),
        }
        return Request("POST", f"{self._records(collection)}/query", body, decode=_query_columns)

    def search(
        self, collection: str, searches_json: str, read_level: str = DEFAULT_READ_LEVEL
    ) -> Request[SearchColumns]:
        body = {"searches": json.loads(searches_json), "read_level": read_level}

        def columns(payload: dict[str, Any]) -> SearchColumns:
            return {
                "ids": payload["ids"],
                "documents": payload["documents"],
                "embeddings": payload["embeddings"],
                "metadatas": [_metadatas_from_wire(m) for m in payload["metadatas"]],
                "scores": payload["scores"],
                "select": payload["select"],
            }

        return Request("POST", f"{self._records(collection)}/search", body, decode=columns)


def _metadatas_to_wire(metadatas: list[Any] | None) -> list[Any] | None:
    return None if metadatas is None else [serialize_metadata(m) for m in metadatas]


def _metadatas_from_wire(metadatas: list[Any] | None) -> list[Any] | None:
    return None if metadatas is None else [deserialize_metadata(m) for m in metadatas]


def _query_columns(payload: dict[str, Any]) -> list[QueryColumns]:
    """The server's column-per-field answer as the engine's list of per-query columns."""

    def column(name: str, position: int) -> Any:
        values = payload.get(name)
        return values[position] if values is not None else None

    results: list[QueryColumns] = []
    for position, ids in enumerate(payload["ids"]):
        embeddings = column("embeddings", position)
        distances = column("distances", position)
        results.append(
            {
                "ids": ids,
                "embeddings": _matrix(embeddings) if embeddings is not None else None,
                "documents": column("documents", position),
                "metadatas": _metadatas_from_wire(column("metadatas", position)),
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
    """What an httpx client of this server is built with: the connection limits and the
    certificate check of the settings, as chromadb's client reads them."""
    keepalive = settings.chroma_http_keepalive_secs
    limits: dict[str, Any] = {
        "keepalive_expiry": keepalive if keepalive is not None else KEEPALIVE_SECONDS
    }
    if settings.chroma_http_max_connections is not None:
        limits["max_connections"] = settings.chroma_http_max_connections
    if settings.chroma_http_max_keepalive_connections is not None:
        limits["max_keepalive_connections"] = settings.chroma_http_max_keepalive_connections
    options: dict[str, Any] = {
        "base_url": resolve_url(host, port, ssl),
        "headers": {
            **(headers or {}),
            **auth_headers(settings),
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        },
        "timeout": None,
        "limits": httpx.Limits(**limits),
    }
    # Unset, httpx checks certificates against its own bundle.
    verify = settings.chroma_server_ssl_verify
    if isinstance(verify, str):
        # A CA bundle (file or directory); httpx deprecates taking the path itself.
        if os.path.isdir(verify):
            options["verify"] = ssl_module.create_default_context(capath=verify)
        else:
            options["verify"] = ssl_module.create_default_context(cafile=verify)
    elif verify is not None:
        options["verify"] = bool(verify)
    return options


def _send_options(request: Request[Any]) -> dict[str, Any]:
    options: dict[str, Any] = {"url": quote(request.path, safe="/")}
    if request.body is not None:
        options["content"] = orjson.dumps(request.body, option=orjson.OPT_SERIALIZE_NUMPY)
    if request.params is not None:
        options["params"] = {k: v for k, v in request.params.items() if v is not None}
    return options


def _connect_error() -> ValueError:
    return ValueError("Could not connect to a Chroma server. Are you sure it is running?")


class RemoteDatabase:
    """The engine, answered by a server over a synchronous httpx client."""

    def __init__(self, session: httpx.Client) -> None:
        self.session = session
        self.requests = Requests()

    def send(self, request: Request[T]) -> T:
        while True:
            if self.session.is_closed:
                raise ChromaError(CLIENT_CLOSED)
            try:
                response = self.session.request(request.method, **_send_options(request))
            except httpx.ConnectError:
                raise _connect_error() from None
            raise_for_error(response)
            result = request.decode(orjson.loads(response.content) if response.content else None)
            if not isinstance(result, Request):
                return result
            request = result

    def close(self) -> None:
        self.session.close()

    def reset(self) -> None:
        self.send(self.requests.reset())

    def backup(self, dest: str) -> BackupReport:
        return self.send(self.requests.backup(dest))

    def create_tenant(self, name: str) -> None:
        self.send(self.requests.create_tenant(name))

    def get_tenant(self, name: str) -> None:
        self.send(self.requests.get_tenant(name))

    def create_database(self, name: str, tenant: str) -> DatabaseModel:
        return self.send(self.requests.create_database(name, tenant))

    def get_database(self, name: str, tenant: str) -> DatabaseModel:
        return self.send(self.requests.get_database(name, tenant))

    def list_databases(
        self, tenant: str, limit: int | None = None, offset: int = 0
    ) -> list[DatabaseModel]:
        return self.send(self.requests.list_databases(tenant, limit, offset))

    def delete_database(self, name: str, tenant: str) -> None:
        self.send(self.requests.delete_database(name, tenant))

    def create_collection(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: Metadata | None = None,
        get_or_create: bool = False,
        schema_json: str | None = None,
    ) -> CollectionModel:
        return self.send(
            self.requests.create_collection(
                tenant, database, name, configuration_json, metadata, get_or_create, schema_json
            )
        )

    def get_collection(self, tenant: str, database: str, name: str) -> CollectionModel:
        return self.send(self.requests.get_collection(tenant, database, name))

    def get_collection_by_id(self, tenant: str, database: str, id: str) -> CollectionModel:
        return self.send(self.requests.get_collection_by_id(tenant, database, id))

    def list_collections(
        self, tenant: str, database: str, limit: int | None = None, offset: int = 0
    ) -> list[CollectionModel]:
        return self.send(self.requests.list_collections(tenant, database, limit, offset))

    def count_collections(self, tenant: str, database: str) -> int:
        return self.send(self.requests.count_collections(tenant, database))

    def delete_collection(self, tenant: str, database: str, name: str) -> None:
        self.send(self.requests.delete_collection(tenant, database, name))

    def fork_collection(self, id: str, new_name: str) -> CollectionModel:
        return self.send(self.requests.fork_collection(id, new_name))

    def fork_count(self, id: str) -> int:
        return self.send(self.requests.fork_count(id))

    def stage_import(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: Metadata | None = None,
        schema_json: str | None = None,
    ) -> CollectionModel:
        return self.send(
            self.requests.stage_import(
                tenant, database, name, configuration_json, metadata, schema_json
            )
        )

    def publish_imports(self, ids: list[str]) -> list[CollectionModel]:
        return self.send(self.requests.publish_imports(ids))

    def abandon_import(self, id: str) -> None:
        self.send(self.requests.abandon_import(id))

    def modify_collection(
        self,
        id: str,
        new_name: str | None = None,
        new_metadata: Metadata | None = None,
        new_configuration_json: str | None = None,
    ) -> CollectionModel:
        return self.send(
            self.requests.modify_collection(id, new_name, new_metadata, new_configuration_json)
        )

    def add(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None:
        self.send(self.requests.add(collection, ids, embeddings, metadatas, documents, uris))

    def update(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None:
        self.send(self.requests.update(collection, ids, embeddings, metadatas, documents, uris))

    def upsert(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None:
        self.send(self.requests.upsert(collection, ids, embeddings, metadatas, documents, uris))

    def delete(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
    ) -> int:
        return self.send(
            self.requests.delete(collection, ids, where_json, where_document_json, limit)
        )

    def count(self, collection: str) -> int:
        return self.send(self.requests.count(collection))

    def index_stats(self, collection: str) -> IndexStats:
        return self.send(self.requests.index_stats(collection))

    def get(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        include: list[str] = GET_INCLUDE,
    ) -> GetColumns:
        return self.send(
            self.requests.get(
                collection, ids, where_json, where_document_json, limit, offset, include
            )
        )

    def query(
        self,
        collection: str,
        query_embeddings: Matrix,
        n_results: int,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        include: list[str] = QUERY_INCLUDE,
    ) -> list[QueryColumns]:
        return self.send(
            self.requests.query(
                collection,
                query_embeddings,
                n_results,
                ids,
                where_json,
                where_document_json,
                include,
            )
        )

    def search(
        self, collection: str, searches_json: str, read_level: str = DEFAULT_READ_LEVEL
    ) -> SearchColumns:
        return self.send(self.requests.search(collection, searches_json, read_level))


class AsyncRemoteDatabase:
    """The engine as coroutines, answered by a server over an asynchronous httpx client."""

    def __init__(self, session: httpx.AsyncClient) -> None:
        self.session = session
        self.requests = Requests()

    async def send(self, request: Request[T]) -> T:
        while True:
            if self.session.is_closed:
                raise ChromaError(CLIENT_CLOSED)
            try:
                response = await self.session.request(request.method, **_send_options(request))
            except httpx.ConnectError:
                raise _connect_error() from None
            raise_for_error(response)
            result = request.decode(orjson.loads(response.content) if response.content else None)
            if not isinstance(result, Request):
                return result
            request = result

    async def close(self) -> None:
        await self.session.aclose()

    async def reset(self) -> None:
        await self.send(self.requests.reset())

    async def backup(self, dest: str) -> BackupReport:
        return await self.send(self.requests.backup(dest))

    async def create_tenant(self, name: str) -> None:
        await self.send(self.requests.create_tenant(name))

    async def get_tenant(self, name: str) -> None:
        await self.send(self.requests.get_tenant(name))

    async def create_database(self, name: str, tenant: str) -> DatabaseModel:
        return await self.send(self.requests.create_database(name, tenant))

    async def get_database(self, name: str, tenant: str) -> DatabaseModel:
        return await self.send(self.requests.get_database(name, tenant))

    async def list_databases(
        self, tenant: str, limit: int | None = None, offset: int = 0
    ) -> list[DatabaseModel]:
        return await self.send(self.requests.list_databases(tenant, limit, offset))

    async def delete_database(self, name: str, tenant: str) -> None:
        await self.send(self.requests.delete_database(name, tenant))

    async def create_collection(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: Metadata | None = None,
        get_or_create: bool = False,
        schema_json: str | None = None,
    ) -> CollectionModel:
        return await self.send(
            self.requests.create_collection(
                tenant, database, name, configuration_json, metadata, get_or_create, schema_json
            )
        )

    async def get_collection(self, tenant: str, database: str, name: str) -> CollectionModel:
        return await self.send(self.requests.get_collection(tenant, database, name))

    async def get_collection_by_id(self, tenant: str, database: str, id: str) -> CollectionModel:
        return await self.send(self.requests.get_collection_by_id(tenant, database, id))

    async def list_collections(
        self, tenant: str, database: str, limit: int | None = None, offset: int = 0
    ) -> list[CollectionModel]:
        return await self.send(self.requests.list_collections(tenant, database, limit, offset))

    async def count_collections(self, tenant: str, database: str) -> int:
        return await self.send(self.requests.count_collections(tenant, database))

    async def delete_collection(self, tenant: str, database: str, name: str) -> None:
        await self.send(self.requests.delete_collection(tenant, database, name))

    async def fork_collection(self, id: str, new_name: str) -> CollectionModel:
        return await self.send(self.requests.fork_collection(id, new_name))

    async def fork_count(self, id: str) -> int:
        return await self.send(self.requests.fork_count(id))

    async def stage_import(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: Metadata | None = None,
        schema_json: str | None = None,
    ) -> CollectionModel:
        return await self.send(
            self.requests.stage_import(
                tenant, database, name, configuration_json, metadata, schema_json
            )
        )

    async def publish_imports(self, ids: list[str]) -> list[CollectionModel]:
        return await self.send(self.requests.publish_imports(ids))

    async def abandon_import(self, id: str) -> None:
        await self.send(self.requests.abandon_import(id))

    async def modify_collection(
        self,
        id: str,
        new_name: str | None = None,
        new_metadata: Metadata | None = None,
        new_configuration_json: str | None = None,
    ) -> CollectionModel:
        return await self.send(
            self.requests.modify_collection(id, new_name, new_metadata, new_configuration_json)
        )

    async def add(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None:
        await self.send(self.requests.add(collection, ids, embeddings, metadatas, documents, uris))

    async def update(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None:
        await self.send(
            self.requests.update(collection, ids, embeddings, metadatas, documents, uris)
        )

    async def upsert(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None:
        await self.send(
            self.requests.upsert(collection, ids, embeddings, metadatas, documents, uris)
        )

    async def delete(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
    ) -> int:
        return await self.send(
            self.requests.delete(collection, ids, where_json, where_document_json, limit)
        )

    async def count(self, collection: str) -> int:
        return await self.send(self.requests.count(collection))

    async def index_stats(self, collection: str) -> IndexStats:
        return await self.send(self.requests.index_stats(collection))

    async def get(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        include: list[str] = GET_INCLUDE,
    ) -> GetColumns:
        return await self.send(
            self.requests.get(
                collection, ids, where_json, where_document_json, limit, offset, include
            )
        )

    async def query(
        self,
        collection: str,
        query_embeddings: Matrix,
        n_results: int,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        include: list[str] = QUERY_INCLUDE,
    ) -> list[QueryColumns]:
        return await self.send(
            self.requests.query(
                collection,
                query_embeddings,
                n_results,
                ids,
                where_json,
                where_document_json,
                include,
            )
        )

    async def search(
        self, collection: str, searches_json: str, read_level: str = DEFAULT_READ_LEVEL
    ) -> SearchColumns:
        return await self.send(self.requests.search(collection, searches_json, read_level))


class RemoteServer:
    """The server-level calls, asked of the server of a :class:`RemoteDatabase`."""

    def __init__(self, remote: RemoteDatabase) -> None:
        self._remote = remote

    def heartbeat(self) -> int:
        return self._remote.send(self._remote.requests.heartbeat())

    def version(self) -> str:
        return self._remote.send(self._remote.requests.version())

    def max_batch_size(self) -> int:
        checks = self._remote.send(self._remote.requests.pre_flight_checks())
        return int(checks.get("max_batch_size", -1))

    def identity(self) -> UserIdentity:
        return self._remote.send(self._remote.requests.identity())

    def reset(self) -> bool:
        """Deletes everything, if the server allows it."""
        return self._remote.send(self._remote.requests.reset())


class AsyncRemoteServer:
    """The server-level calls, asked of the server of an :class:`AsyncRemoteDatabase`."""

    def __init__(self, remote: AsyncRemoteDatabase) -> None:
        self._remote = remote

    async def heartbeat(self) -> int:
        return await self._remote.send(self._remote.requests.heartbeat())

    async def version(self) -> str:
        return await self._remote.send(self._remote.requests.version())

    async def max_batch_size(self) -> int:
        checks = await self._remote.send(self._remote.requests.pre_flight_checks())
        return int(checks.get("max_batch_size", -1))

    async def identity(self) -> UserIdentity:
        return await self._remote.send(self._remote.requests.identity())

    async def reset(self) -> bool:
        """Deletes everything, if the server allows it."""
        return await self._remote.send(self._remote.requests.reset())


def remote_connection(
    host: str, port: int, ssl: bool, headers: dict[str, str] | None, settings: Settings
) -> Connection:
    """A connection to the server at ``host``:``port``."""
    remote = RemoteDatabase(httpx.Client(**session_options(host, port, ssl, headers, settings)))
    engine: Engine = remote
    return Connection(engine=engine, server=RemoteServer(remote), release=remote.close)


def async_remote_connection(
    host: str, port: int, ssl: bool, headers: dict[str, str] | None, settings: Settings
) -> AsyncConnection:
    """An asynchronous connection to the server at ``host``:``port``."""
    session = httpx.AsyncClient(**session_options(host, port, ssl, headers, settings))
    remote = AsyncRemoteDatabase(session)
    engine: AsyncEngine = remote
    return AsyncConnection(engine=engine, server=AsyncRemoteServer(remote), release=remote.close)


def server_connection(settings: Settings) -> Connection:
    """A connection to the server that ``settings`` name, as chromadb's ``FastAPI``
    client reads them."""
    host = settings.require("chroma_server_host")
    port = settings.require("chroma_server_http_port")
    ssl = bool(settings.chroma_server_ssl_enabled)
    return remote_connection(str(host), int(port), ssl, settings.chroma_server_headers, settings)


def server_settings(
    settings: Settings | None,
    impl: str,
    host: str,
    port: int,
    ssl: bool,
    headers: dict[str, str] | None,
) -> Settings:
    """The settings an HTTP client keeps: the given ones (not changed) with the server
    filled in, as chromadb's ``HttpClient`` fills them in."""
    settings = as_settings(settings).copy()
    if settings.chroma_server_host and settings.chroma_server_host != host:
        raise ValueError(
            f"Chroma server host provided in settings[{settings.chroma_server_host}] is "
            f"different to the one provided in HttpClient: [{host}]"
        )
    if settings.chroma_server_http_port and settings.chroma_server_http_port != port:
        raise ValueError(
            f"Chroma server http port provided in settings[{settings.chroma_server_http_port}] "
            f"is different to the one provided in HttpClient: [{port}]"
        )
    settings.chroma_api_impl = impl
    settings.chroma_server_host = host
    settings.chroma_server_http_port = port
    settings.chroma_server_ssl_enabled = ssl
    settings.chroma_server_headers = headers
    return settings
