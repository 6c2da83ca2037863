"""Collections: records with ids, embeddings, metadata, documents and URIs.

``Collection`` (of a synchronous client) and ``AsyncCollection`` (of an asynchronous
one) are siblings with the same methods: each prepares its call with
:class:`~azurite.api.collection_core.CollectionCore`, hands it to its client's engine, and
shapes the answer, so only the engine call differs (awaited or not).
"""

from __future__ import annotations

from typing import Any, Protocol

from azurite.api import embedding
from azurite.api.collection_core import (
    GET_INCLUDE,
    QUERY_INCLUDE,
    CollectionCore,
)
from azurite.api.engine import AsyncEngine, CollectionModel, Engine, IndexStats
from azurite.api.types import SearchResult


class EngineSource(Protocol):
    """A synchronous client, as its collections see it."""

    @property
    def _engine(self) -> Engine: ...


class AsyncEngineSource(Protocol):
    """An asynchronous client, as its collections see it."""

    @property
    def _engine(self) -> AsyncEngine: ...


class Collection(CollectionCore):
    """A named set of records in one database; created through a client."""

    def __init__(
        self,
        client: EngineSource,
        model: CollectionModel,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> None:
        super().__init__(model, embedding_function, data_loader)
        self._client = client

    @property
    def _engine(self) -> Engine:
        return self._client._engine

    # ---- writes

    def add(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> None:
        """Adds records; ids that exist already are left unchanged."""
        call = self._prepare_add(ids, embeddings, metadatas, documents, images, uris)
        self._engine.add(*call)

    def update(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> None:
        """Updates existing records (missing ids are ignored); metadata is merged key by
        key and a ``None`` value deletes its key."""
        call = self._prepare_update(ids, embeddings, metadatas, documents, images, uris)
        self._engine.update(*call)

    def upsert(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> None:
        """Updates the records that exist and adds the others."""
        call = self._prepare_upsert(ids, embeddings, metadatas, documents, images, uris)
        self._engine.upsert(*call)

    def delete(
        self,
        ids: Any = None,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> dict[str, int]:
        """Deletes by ids and/or filter; with a filter, ``limit`` caps how many go (first
        in insertion order). Returns ``{"deleted": n}`` as chromadb 1.5 does."""
        call = self._prepare_delete(ids, where, where_document, limit)
        return {"deleted": self._engine.delete(*call)}

    # ---- reads

    def count(self, read_level: Any = None) -> int:
        """The number of records. ``read_level`` is accepted for compatibility: local reads
        always see every acknowledged write."""
        return self._engine.count(self._key)

    def index_stats(self) -> IndexStats:
        """Azurite: the state of the vector index. ``live`` records; ``index`` kind;
        ``points`` vectors in the index; ``tombstones`` among them that belong to deleted
        or replaced records (searches skip them; past 30% the index is rebuilt without
        them, giving the memory back); ``pending`` live records an import wrote that the
        index builder has not inserted yet (searches scan them exactly meanwhile);
        ``index_bytes`` the index's own memory;
        ``f32_bytes_per_vector`` and ``int8_bytes_per_vector`` what each vector takes in
        float32 and in the int8 copy exact scans read first; ``bytes_per_vector`` all of
        it, with each vector's share of the index."""
        return self._engine.index_stats(self._key)

    def get(
        self,
        ids: Any = None,
        where: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] = GET_INCLUDE,
    ) -> dict[str, Any]:
        """Records by ids and/or filter, in insertion order, after ``offset``, at most
        ``limit``."""
        request = self._prepare_get(ids, where, limit, offset, where_document, include)
        return self._get_result(self._engine.get(*request.call), request.include)

    def peek(self, limit: int = 10) -> dict[str, Any]:
        """The first ``limit`` records, with their embeddings."""
        return self._peek_result(self._engine.get(*self._prepare_peek(limit)))

    def query(
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
        """The ``n_results`` nearest records to each query, nearest first, among those
        passing ``ids``, ``where`` and ``where_document``."""
        request = self._prepare_query(
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
        return self._query_result(self._engine.query(*request.call), request.include)

    # ---- the collection itself

    def modify(
        self,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> None:
        """Renames the collection, replaces its metadata, or changes its mutable
        configuration (``ef_search``, ``max_neighbors``, ``num_threads``, ...)."""
        call = self._prepare_modify(name, metadata, configuration)
        self._after_modify(self._engine.modify_collection(*call), configuration)

    def fork(self, new_name: str) -> Collection:
        """A new collection named ``new_name`` in this one's database, with its records,
        metadata, configuration and schema, independent from now on. It shares this
        collection's embedding function and data loader, as chromadb's does."""
        model = self._engine.fork_collection(self._model["id"], new_name)
        return Collection(self._client, model, self._embedding_function, self._data_loader)

    def fork_count(self) -> int:
        """How many forks this collection's lineage (the collection it was forked from,
        first of all, and every fork of it or of its forks) has made, deleted ones
        included."""
        return self._engine.fork_count(self._model["id"])

    def search(self, searches: Any, read_level: Any = None) -> SearchResult:
        """Runs one ``Search`` or a list of them (filter, rank, group_by, limit, select) and
        returns chromadb's column-major ``SearchResult``, one entry per search. Every read
        level reads every acknowledged write."""
        return self._search_result(self._engine.search(*self._prepare_search(searches, read_level)))

    # ---- export and import (azurite.io, which needs pyarrow: pip install azurite[arrow])

    def to_arrow(
        self,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] | None = None,
    ) -> Any:
        """Azurite: the records (those passing the filters) as a ``pyarrow.Table`` in the
        layout of ``docs/formats.md``, with the collection's configuration in its schema
        metadata. ``include`` chooses among documents, uris, embeddings and metadatas
        (all by default)."""
        from azurite.io import to_arrow

        return to_arrow(self, where=where, where_document=where_document, include=include)

    def to_pandas(
        self,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] | None = None,
    ) -> Any:
        """Azurite: :meth:`to_arrow` as a pandas DataFrame whose columns keep their Arrow
        types (``pandas.ArrowDtype``): numpy-backed columns would turn the integers of a
        metadata kind that some records lack into floats, losing large ones."""
        table = self.to_arrow(where, where_document, include)
        from azurite.io.exporting import pandas_frame

        return pandas_frame(table)

    def to_polars(
        self,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] | None = None,
    ) -> Any:
        """Azurite: :meth:`to_arrow` as a polars DataFrame."""
        table = self.to_arrow(where, where_document, include)
        from azurite.io.exporting import polars_frame

        return polars_frame(table)

    def export_to(
        self,
        path_or_sink: Any,
        format: str | None = None,
        batch_size: int = 10_000,
        include: list[str] | None = None,
    ) -> int:
        """Azurite: writes the records to a Parquet, Arrow IPC or JSONL file (the format
        from the extension, or ``format=``) or a binary stream, ``batch_size`` at a time;
        returns how many were written. See ``azurite.io.export_collection``."""
        from azurite.io import export_collection

        return export_collection(self, path_or_sink, format, batch_size, include)

    def import_from(
        self,
        source: Any,
        mode: str = "upsert",
        format: str | None = None,
        batch_size: int = 10_000,
    ) -> None:
        """Azurite: loads a Parquet, Arrow IPC or JSONL file, a pyarrow Table or a pandas /
        polars DataFrame into this collection, all or nothing: ``mode="upsert"`` updates
        the records whose id exists and adds the others, ``"add"`` skips them. See
        ``azurite.io.import_into``."""
        from azurite.io import import_into

        import_into(self, source, mode, format, batch_size)


class AsyncCollection(CollectionCore):
    """A collection of an asynchronous client: the methods of ``Collection``, as
    coroutines."""

    def __init__(
        self,
        client: AsyncEngineSource,
        model: CollectionModel,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> None:
        super().__init__(model, embedding_function, data_loader)
        self._client = client

    @property
    def _engine(self) -> AsyncEngine:
        return self._client._engine

    # ---- writes

    async def add(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> None:
        """Adds records; ids that exist already are left unchanged."""
        call = self._prepare_add(ids, embeddings, metadatas, documents, images, uris)
        await self._engine.add(*call)

    async def update(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> None:
        """Updates existing records (missing ids are ignored); metadata is merged key by
        key and a ``None`` value deletes its key."""
        call = self._prepare_update(ids, embeddings, metadatas, documents, images, uris)
        await self._engine.update(*call)

    async def upsert(
        self,
        ids: Any,
        embeddings: Any = None,
        metadatas: Any = None,
        documents: Any = None,
        images: Any = None,
        uris: Any = None,
    ) -> None:
        """Updates the records that exist and adds the others."""
        call = self._prepare_upsert(ids, embeddings, metadatas, documents, images, uris)
        await self._engine.upsert(*call)

    async def delete(
        self,
        ids: Any = None,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> dict[str, int]:
        """Deletes by ids and/or filter; with a filter, ``limit`` caps how many go (first
        in insertion order). Returns ``{"deleted": n}`` as chromadb 1.5 does."""
        call = self._prepare_delete(ids, where, where_document, limit)
        return {"deleted": await self._engine.delete(*call)}

    # ---- reads

    async def count(self, read_level: Any = None) -> int:
        """The number of records. ``read_level`` is accepted for compatibility: local reads
        always see every acknowledged write."""
        return await self._engine.count(self._key)

    async def index_stats(self) -> IndexStats:
        """Azurite: the state of the vector index. ``live`` records; ``index`` kind;
        ``points`` vectors in the index; ``tombstones`` among them that belong to deleted
        or replaced records (searches skip them; past 30% the index is rebuilt without
        them, giving the memory back); ``pending`` live records an import wrote that the
        index builder has not inserted yet (searches scan them exactly meanwhile);
        ``index_bytes`` the index's own memory;
        ``f32_bytes_per_vector`` and ``int8_bytes_per_vector`` what each vector takes in
        float32 and in the int8 copy exact scans read first; ``bytes_per_vector`` all of
        it, with each vector's share of the index."""
        return await self._engine.index_stats(self._key)

    async def get(
        self,
        ids: Any = None,
        where: dict[str, Any] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] = GET_INCLUDE,
    ) -> dict[str, Any]:
        """Records by ids and/or filter, in insertion order, after ``offset``, at most
        ``limit``."""
        request = self._prepare_get(ids, where, limit, offset, where_document, include)
        return self._get_result(await self._engine.get(*request.call), request.include)

    async def peek(self, limit: int = 10) -> dict[str, Any]:
        """The first ``limit`` records, with their embeddings."""
        return self._peek_result(await self._engine.get(*self._prepare_peek(limit)))

    async def query(
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
        """The ``n_results`` nearest records to each query, nearest first, among those
        passing ``ids``, ``where`` and ``where_document``."""
        request = self._prepare_query(
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
        return self._query_result(await self._engine.query(*request.call), request.include)

    # ---- the collection itself

    async def modify(
        self,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> None:
        """Renames the collection, replaces its metadata, or changes its mutable
        configuration (``ef_search``, ``max_neighbors``, ``num_threads``, ...)."""
        call = self._prepare_modify(name, metadata, configuration)
        self._after_modify(await self._engine.modify_collection(*call), configuration)

    async def fork(self, new_name: str) -> AsyncCollection:
        """A new collection named ``new_name``; see ``Collection.fork``."""
        model = await self._engine.fork_collection(self._model["id"], new_name)
        return AsyncCollection(self._client, model, self._embedding_function, self._data_loader)

    async def fork_count(self) -> int:
        """How many forks this collection's lineage has made; see
        ``Collection.fork_count``."""
        return await self._engine.fork_count(self._model["id"])

    async def search(self, searches: Any, read_level: Any = None) -> SearchResult:
        """Runs one ``Search`` or a list of them; see ``Collection.search``."""
        call = self._prepare_search(searches, read_level)
        return self._search_result(await self._engine.search(*call))

    # ---- export and import (see Collection's; pages and batches go over the network
    # awaited, and are read from or written to files in the event loop's thread)

    async def to_arrow(
        self,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] | None = None,
    ) -> Any:
        """Azurite: the records as a ``pyarrow.Table``; see ``Collection.to_arrow``."""
        from azurite.io import to_arrow_async

        return await to_arrow_async(self, where, where_document, include)

    async def to_pandas(
        self,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] | None = None,
    ) -> Any:
        """Azurite: :meth:`to_arrow` as a pandas DataFrame whose columns keep their Arrow
        types; see ``Collection.to_pandas``."""
        table = await self.to_arrow(where, where_document, include)
        from azurite.io.exporting import pandas_frame

        return pandas_frame(table)

    async def to_polars(
        self,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        include: list[str] | None = None,
    ) -> Any:
        """Azurite: :meth:`to_arrow` as a polars DataFrame."""
        table = await self.to_arrow(where, where_document, include)
        from azurite.io.exporting import polars_frame

        return polars_frame(table)

    async def export_to(
        self,
        path_or_sink: Any,
        format: str | None = None,
        batch_size: int = 10_000,
        include: list[str] | None = None,
    ) -> int:
        """Azurite: writes the records to a file or a binary stream; see
        ``Collection.export_to``."""
        from azurite.io import export_collection_async

        return await export_collection_async(self, path_or_sink, format, batch_size, include)

    async def import_from(
        self,
        source: Any,
        mode: str = "upsert",
        format: str | None = None,
        batch_size: int = 10_000,
    ) -> None:
        """Azurite: loads a file, a table or a data frame into this collection, all or
        nothing; see ``Collection.import_from``."""
        from azurite.io import import_into_async

        await import_into_async(self, source, mode, format, batch_size)


__all__ = ["AsyncCollection", "Collection"]
