"""The engine contract: what a client asks of the database behind it.

A client and its collections prepare every call in Python, then hand it to an *engine*:
the compiled ``_core.Database`` in this process, or a server reached over HTTP
(``azurite.api.remote.RemoteDatabase`` / ``AsyncRemoteDatabase``). :class:`Engine` and
:class:`AsyncEngine` name the methods every engine has, and the dicts below name what
crosses the boundary, so that mypy rejects an engine that lacks a method or answers in
another shape.

The server-level calls (heartbeat, version, batch size, identity, reset) are not the
engine's: an embedded client answers them itself, a remote one asks its server.
:class:`Server` / :class:`AsyncServer` name them, and a :class:`Connection` /
:class:`AsyncConnection` is what a client is built with: an engine, a server, and how to
let go of both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict

import numpy as np
import numpy.typing as npt

#: What every call of a closed client raises.
CLIENT_CLOSED = "This client has been closed"

#: Rows of float32 vectors, C-contiguous: what the engine reads and returns.
Matrix = npt.NDArray[np.float32]
Metadata = dict[str, Any]

#: The read level of a search that names none (chromadb's ``ReadLevel.INDEX_AND_WAL``).
DEFAULT_READ_LEVEL = "index_and_wal"


class CollectionModel(TypedDict):
    """A collection as the engine describes it; the configuration and the schema (in
    chromadb's serialized form) are JSON text."""

    id: str
    name: str
    tenant: str
    database: str
    metadata: Metadata | None
    configuration_json: str
    schema_json: str
    dimension: int | None


class DatabaseModel(TypedDict):
    id: str
    name: str
    tenant: str


class GetColumns(TypedDict):
    """Records column by column; a column not asked for is ``None``."""

    ids: list[str]
    embeddings: Matrix | None
    documents: list[str | None] | None
    metadatas: list[Metadata | None] | None
    uris: list[str | None] | None


class QueryColumns(GetColumns):
    """The records found for one query, nearest first, with their distances."""

    distances: npt.NDArray[np.float32]


class SearchColumns(TypedDict):
    """The answer to a batch of searches, chromadb's ``SearchResult`` columns: one entry
    per search in each list; an entry of a column the search did not select is ``None``."""

    ids: list[list[str]]
    documents: list[list[str | None] | None]
    embeddings: list[list[list[float] | None] | None]
    metadatas: list[list[Metadata | None] | None]
    scores: list[list[float | None] | None]
    select: list[list[str]]


class IndexStats(TypedDict):
    """Live records, the index kind, vectors in the index, how many of them belong to
    deleted or replaced records, the memory the index holds beyond the vectors, the bytes
    each vector takes in float32 (with its inverse norm) and in the int8 copy that exact
    scans read first (with its scaling), and all the memory one vector costs: both copies
    and its share of the index."""

    live: int
    index: str
    points: int
    tombstones: int
    pending: int
    index_bytes: int
    f32_bytes_per_vector: int
    int8_bytes_per_vector: int
    bytes_per_vector: int


class BackupReport(TypedDict):
    """What a backup copied: the last write the copy holds (every write acknowledged
    before the backup began, none after this one), its collections, the bytes written,
    the directory it is in (on the machine of the engine that made it) and how long
    writers were held while that write was fixed."""

    seq: int
    collections: int
    bytes: int
    path: str
    writer_pause_ms: float


@dataclass
class UserIdentity:
    user_id: str
    tenant: str
    databases: list[str] = field(default_factory=list)


class Engine(Protocol):
    """The methods of ``_core.Database``; a remote engine answers them over HTTP."""

    def close(self) -> None: ...
    def reset(self) -> None: ...
    def backup(self, dest: str) -> BackupReport: ...
    def create_tenant(self, name: str) -> None: ...
    def get_tenant(self, name: str) -> None: ...
    def create_database(self, name: str, tenant: str) -> DatabaseModel: ...
    def get_database(self, name: str, tenant: str) -> DatabaseModel: ...
    def list_databases(
        self, tenant: str, limit: int | None = None, offset: int = 0
    ) -> list[DatabaseModel]: ...
    def delete_database(self, name: str, tenant: str) -> None: ...
    def create_collection(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: Metadata | None = None,
        get_or_create: bool = False,
        schema_json: str | None = None,
    ) -> CollectionModel: ...
    def get_collection(self, tenant: str, database: str, name: str) -> CollectionModel: ...
    def get_collection_by_id(self, tenant: str, database: str, id: str) -> CollectionModel: ...
    def list_collections(
        self, tenant: str, database: str, limit: int | None = None, offset: int = 0
    ) -> list[CollectionModel]: ...
    def count_collections(self, tenant: str, database: str) -> int: ...
    def delete_collection(self, tenant: str, database: str, name: str) -> None: ...
    def fork_collection(self, id: str, new_name: str) -> CollectionModel: ...
    def fork_count(self, id: str) -> int: ...
    def stage_import(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: Metadata | None = None,
        schema_json: str | None = None,
    ) -> CollectionModel: ...
    def publish_imports(self, ids: list[str]) -> list[CollectionModel]: ...
    def abandon_import(self, id: str) -> None: ...
    def modify_collection(
        self,
        id: str,
        new_name: str | None = None,
        new_metadata: Metadata | None = None,
        new_configuration_json: str | None = None,
    ) -> CollectionModel: ...
    def add(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None: ...
    def update(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None: ...
    def upsert(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None: ...
    def delete(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
    ) -> int: ...
    def count(self, collection: str) -> int: ...
    def index_stats(self, collection: str) -> IndexStats: ...
    def get(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        include: list[str] = ...,
    ) -> GetColumns: ...
    def query(
        self,
        collection: str,
        query_embeddings: Matrix,
        n_results: int,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        include: list[str] = ...,
    ) -> list[QueryColumns]: ...
    def search(
        self, collection: str, searches_json: str, read_level: str = ...
    ) -> SearchColumns: ...


class AsyncEngine(Protocol):
    """The methods of :class:`Engine`, as coroutines."""

    async def close(self) -> None: ...
    async def reset(self) -> None: ...
    async def backup(self, dest: str) -> BackupReport: ...
    async def create_tenant(self, name: str) -> None: ...
    async def get_tenant(self, name: str) -> None: ...
    async def create_database(self, name: str, tenant: str) -> DatabaseModel: ...
    async def get_database(self, name: str, tenant: str) -> DatabaseModel: ...
    async def list_databases(
        self, tenant: str, limit: int | None = None, offset: int = 0
    ) -> list[DatabaseModel]: ...
    async def delete_database(self, name: str, tenant: str) -> None: ...
    async def create_collection(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: Metadata | None = None,
        get_or_create: bool = False,
        schema_json: str | None = None,
    ) -> CollectionModel: ...
    async def get_collection(self, tenant: str, database: str, name: str) -> CollectionModel: ...
    async def get_collection_by_id(
        self, tenant: str, database: str, id: str
    ) -> CollectionModel: ...
    async def list_collections(
        self, tenant: str, database: str, limit: int | None = None, offset: int = 0
    ) -> list[CollectionModel]: ...
    async def count_collections(self, tenant: str, database: str) -> int: ...
    async def delete_collection(self, tenant: str, database: str, name: str) -> None: ...
    async def fork_collection(self, id: str, new_name: str) -> CollectionModel: ...
    async def fork_count(self, id: str) -> int: ...
    async def stage_import(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: Metadata | None = None,
        schema_json: str | None = None,
    ) -> CollectionModel: ...
    async def publish_imports(self, ids: list[str]) -> list[CollectionModel]: ...
    async def abandon_import(self, id: str) -> None: ...
    async def modify_collection(
        self,
        id: str,
        new_name: str | None = None,
        new_metadata: Metadata | None = None,
        new_configuration_json: str | None = None,
    ) -> CollectionModel: ...
    async def add(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None: ...
    async def update(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None: ...
    async def upsert(
        self,
        collection: str,
        ids: list[str],
        embeddings: Matrix | None = None,
        metadatas: list[Metadata | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None: ...
    async def delete(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
    ) -> int: ...
    async def count(self, collection: str) -> int: ...
    async def index_stats(self, collection: str) -> IndexStats: ...
    async def get(
        self,
        collection: str,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        include: list[str] = ...,
    ) -> GetColumns: ...
    async def query(
        self,
        collection: str,
        query_embeddings: Matrix,
        n_results: int,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        include: list[str] = ...,
    ) -> list[QueryColumns]: ...
    async def search(
        self, collection: str, searches_json: str, read_level: str = ...
    ) -> SearchColumns: ...


class Server(Protocol):
    """The server-level calls of a client."""

    def heartbeat(self) -> int: ...
    def version(self) -> str: ...
    def max_batch_size(self) -> int: ...
    def identity(self) -> UserIdentity: ...
    def reset(self) -> bool: ...


class AsyncServer(Protocol):
    """The calls of :class:`Server`, as coroutines."""

    async def heartbeat(self) -> int: ...
    async def version(self) -> str: ...
    async def max_batch_size(self) -> int: ...
    async def identity(self) -> UserIdentity: ...
    async def reset(self) -> bool: ...


@dataclass(frozen=True)
class Connection:
    """What a client works through: an engine, the server-level calls, and how to release
    them when the client closes."""

    engine: Engine
    server: Server
    release: Callable[[], None]


@dataclass(frozen=True)
class AsyncConnection:
    """What an asynchronous client works through (see :class:`Connection`)."""

    engine: AsyncEngine
    server: AsyncServer
    release: Callable[[], Awaitable[None]]
