"""Type stub of the compiled engine module (checked against it with mypy.stubtest)."""

from os import PathLike
from typing import Any, final

import numpy as np
import numpy.typing as npt

from azurite.api.engine import (
    BackupReport,
    CollectionModel,
    DatabaseModel,
    GetColumns,
    IndexStats,
    QueryColumns,
    SearchColumns,
)

__all__ = ["Database", "__version__", "hnsw_defaults", "repair"]
__version__: str

def repair(path: str | PathLike[str]) -> tuple[list[str], list[str]]:
    """Repairs a damaged database directory: what was done, and what was lost."""

def hnsw_defaults() -> dict[str, Any]:
    """The HNSW parameters the engine gives a collection created with no configuration:
    ``space`` (str), ``ef_construction``, ``ef_search``, ``max_neighbors``,
    ``num_threads``, ``batch_size``, ``sync_threshold`` (int), ``resize_factor`` (float)."""

@final
class Database:
    """An open database: a directory, or in memory when ``path`` is None. Every method
    that reaches storage releases the GIL."""

    def __new__(
        cls,
        path: str | PathLike[str] | None = None,
        durability: str = "process",
        read_only: bool = False,
    ) -> Database: ...
    @property
    def path(self) -> str | None: ...
    def close(self) -> None: ...
    def reset(self) -> None: ...
    def backup(self, dest: str | PathLike[str]) -> BackupReport:
        """Copies the database into ``dest`` (a new or empty directory) while other
        threads keep writing; the copy holds every write acknowledged before the call."""
    def create_tenant(self, name: str) -> None: ...
    def get_tenant(self, name: str) -> None: ...
    def create_database(self, name: str, tenant: str) -> DatabaseModel: ...
    def get_database(self, name: str, tenant: str) -> DatabaseModel: ...
    def list_databases(
        self, tenant: str, limit: int | None = None, offset: int | None = None
    ) -> list[DatabaseModel]: ...
    def delete_database(self, name: str, tenant: str) -> None: ...
    def create_collection(
        self,
        tenant: str,
        database: str,
        name: str,
        configuration_json: str | None = None,
        metadata: dict[str, Any] | None = None,
        get_or_create: bool = False,
        schema_json: str | None = None,
    ) -> CollectionModel: ...
    def get_collection(self, tenant: str, database: str, name: str) -> CollectionModel: ...
    def get_collection_by_id(self, tenant: str, database: str, id: str) -> CollectionModel: ...
    def list_collections(
        self, tenant: str, database: str, limit: int | None = None, offset: int | None = None
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
        metadata: dict[str, Any] | None = None,
        schema_json: str | None = None,
    ) -> CollectionModel: ...
    def publish_imports(self, ids: list[str]) -> list[CollectionModel]: ...
    def abandon_import(self, id: str) -> None: ...
    def modify_collection(
        self,
        id: str,
        new_name: str | None = None,
        new_metadata: dict[str, Any] | None = None,
        new_configuration_json: str | None = None,
    ) -> CollectionModel: ...
    def add(
        self,
        collection: str,
        ids: list[str],
        embeddings: npt.NDArray[np.float32] | None = None,
        metadatas: list[dict[str, Any] | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None: ...
    def update(
        self,
        collection: str,
        ids: list[str],
        embeddings: npt.NDArray[np.float32] | None = None,
        metadatas: list[dict[str, Any] | None] | None = None,
        documents: list[str | None] | None = None,
        uris: list[str | None] | None = None,
    ) -> None: ...
    def upsert(
        self,
        collection: str,
        ids: list[str],
        embeddings: npt.NDArray[np.float32] | None = None,
        metadatas: list[dict[str, Any] | None] | None = None,
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
        offset: int | None = None,
        include: list[str] = ...,
    ) -> GetColumns: ...
    def query(
        self,
        collection: str,
        query_embeddings: npt.NDArray[np.float32],
        n_results: int,
        ids: list[str] | None = None,
        where_json: str | None = None,
        where_document_json: str | None = None,
        include: list[str] = ...,
    ) -> list[QueryColumns]: ...
    def search(
        self, collection: str, searches_json: str, read_level: str = "index_and_wal"
    ) -> SearchColumns: ...
