"""A collection: records with ids, embeddings, metadata, documents and URIs.

Each method normalises and validates its arguments in the order chromadb does (so the
same bad input raises the same error), embeds documents when needed, and hands numpy
float32 arrays and JSON filters to the core. Validation errors raised here end in
`` in <method>.``; errors from the engine do not, as in chromadb.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

import numpy as np

from azurite.api import embedding
from azurite.api import validation as v
from azurite.errors import InvalidArgumentError

if TYPE_CHECKING:
    from azurite.api.client import Client

GET_INCLUDE = ["metadatas", "documents"]
QUERY_INCLUDE = ["metadatas", "documents", "distances"]
PEEK_INCLUDE = ["metadatas", "documents", "embeddings"]
UPDATE_CONFIGURATION_KEYS = ("hnsw", "spann", "embedding_function")


def _as_matrix(embeddings: list[np.ndarray]) -> np.ndarray:
    """One C-contiguous float32 matrix, the form the core reads without another copy."""
    if len(embeddings) == 1:  # the common single query: a view, not a stacked copy
        return np.ascontiguousarray(embeddings[0].reshape(1, -1), dtype=np.float32)
    if len({e.shape[0] for e in embeddings}) > 1:
        raise InvalidArgumentError("Inconsistent dimensions in provided embeddings")
    return np.ascontiguousarray(np.stack(embeddings), dtype=np.float32)


def _validate_record_set(record: dict[str, Any]) -> None:
    """The checks shared by writes and queries: aligned non-empty fields, then each field.
    The order of `record`'s keys is the order chromadb names fields in its messages."""
    v.validate_record_set_lengths(**record)
    if record["embeddings"] is not None:
        v.validate_embeddings(record["embeddings"])
    if record["documents"] is not None:
        v.validate_documents(record["documents"], nullable=record["embeddings"] is not None)
    if record["images"] is not None:
        v.validate_images(record["images"])


def _filter_json(clause: dict[str, Any] | None) -> str | None:
    # An empty clause means no filter, as in chromadb's engine call.
    return json.dumps(clause) if clause else None


class QueryRequest(NamedTuple):
    """A validated query: the engine's arguments, the include list the result reports,
    and the results themselves when the query rules out every record."""

    arguments: tuple[Any, ...]
    include: list[str]
    empty_results: list[dict[str, Any]] | None


class Collection:
    """A named set of records in one database; created through a client."""

    def __init__(
        self,
        client: Client,
        model: dict[str, Any],
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> None:
        embedding.validate_signature(embedding_function)
        self._client = client
        self._model = model
        self._embedding_function = embedding_function
        self._data_loader = data_loader
        self._rebuilt: tuple[Any, Any] | None = None

    # ---- properties

    @property
    def id(self) -> UUID:
        return UUID(self._model["id"])

    @property
    def name(self) -> str:
        return self._model["name"]

    @property
    def metadata(self) -> dict[str, Any] | None:
        return self._model["metadata"]

    @property
    def tenant(self) -> str:
        return self._model["tenant"]

    @property
    def database(self) -> str:
        return self._model["database"]

    @property
    def configuration_json(self) -> dict[str, Any]:
        return json.loads(self._model["configuration_json"])

    @property
    def configuration(self) -> dict[str, Any]:
        stored = self.configuration_json
        return {
            "hnsw": stored.get("hnsw"),
            "spann": stored.get("spann"),
            "embedding_function": self._embedding_function,
        }

    @property
    def _db(self) -> Any:
        return self._client._db

    @property
    def _key(self) -> str:
        return self._model["id"]

    def __repr__(self) -> str:
        return f"Collection(name={self.name})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Collection)
            and self._model == other._model
            and self._embedding_function == other._embedding_function
            and self._data_loader == other._data_loader
        )

    def __hash__(self) -> int:
        return hash(self._key)

    # ---- preparing writes

    def _embedding_function_to_use(self) -> Any:
        """As in Chroma: a function given explicitly (other than the default) wins; else
        the one stored with the collection is rebuilt, so a collection opened without a
        function embeds as it did when created; else the one given (default or None)."""
        given = self._embedding_function
        if given is not None and not isinstance(given, embedding.DefaultEmbeddingFunction):
            return given
        stored = (self.configuration_json or {}).get("embedding_function")
        if given is not None and (stored or {}).get("name") == "default":
            return given  # the stored default itself, with the caller's display options
        # Rebuilding can load a model: keep the function while its record is unchanged.
        if self._rebuilt is None or self._rebuilt[0] != stored:
            self._rebuilt = (stored, embedding.function_from_configuration(stored))
        rebuilt = self._rebuilt[1]
        return rebuilt if rebuilt is not None else given

    def _embed(self, inputs: list, *, is_query: bool) -> list[np.ndarray]:
        function = self._embedding_function_to_use()
        return embedding.embed(function, inputs, is_query=is_query)

    def _embed_record_set(self, documents: Any, images: Any, uris: Any, *, is_query: bool) -> Any:
        """Embeds the one field that is present among documents, images and URIs."""
        if documents is not None:
            return self._embed(documents, is_query=is_query)
        if images is not None:
            return self._embed(images, is_query=is_query)
        if self._data_loader is None:
            raise ValueError("You must set a data loader on the collection if loading from URIs.")
        return self._embed(self._data_loader(uris), is_query=is_query)

    def _normalised_write(
        self, ids: Any, embeddings: Any, metadatas: Any, documents: Any, images: Any, uris: Any
    ) -> dict[str, Any]:
        normalised_embeddings = v.normalize_embeddings(embeddings)
        record = {
            "ids": v.maybe_cast_one_to_many(ids),
            "metadatas": v.maybe_cast_one_to_many(metadatas),
            "embeddings": normalised_embeddings,
            "documents": v.maybe_cast_one_to_many(documents),
            "images": v.maybe_cast_one_to_many(images),
            "uris": v.maybe_cast_one_to_many(uris),
        }
        v.check_sparse_vectors(record["metadatas"])
        _validate_record_set(record)
        v.validate_ids(record["ids"])
        return record

    @v.suffix_method("add")
    def _prepare_add(self, *args: Any) -> dict[str, Any]:
        record = self._normalised_write(*args)
        if record["metadatas"] is not None:
            v.validate_metadatas(record["metadatas"], update=False)
        if record["embeddings"] is None:
            self._require_one_source(record, ("documents", "images", "uris"))
            record["embeddings"] = self._embed_record_set(
                record["documents"], record["images"], record["uris"], is_query=False
            )
        return record

    @v.suffix_method("update")
    def _prepare_update(self, *args: Any) -> dict[str, Any]:
        record = self._normalised_write(*args)
        if record["metadatas"] is not None:
            v.validate_metadatas(record["metadatas"], update=True)
        if record["embeddings"] is None and (
            record["documents"] is not None or record["images"] is not None
        ):
            self._require_one_source(record, ("documents", "images"))
            record["embeddings"] = self._embed_record_set(
                record["documents"], record["images"], None, is_query=False
            )
        return record

    @v.suffix_method("upsert")
    def _prepare_upsert(self, *args: Any) -> dict[str, Any]:
        record = self._normalised_write(*args)
        if record["metadatas"] is not None:
            v.validate_metadatas(record["metadatas"], update=True)
        if record["embeddings"] is None:
            self._require_one_source(record, ("documents", "images"))
            record["embeddings"] = self._embed_record_set(
                record["documents"], record["images"], None, is_query=False
            )
        return record

    @staticmethod
    def _require_one_source(record: dict[str, Any], fields: tuple[str, ...]) -> None:
        present = [f for f in fields if record.get(f) is not None]
        if len(present) != 1:
            raise ValueError(f"Exactly one of {', '.join(fields)} must be provided")

    def _write_arguments(self, record: dict[str, Any]) -> tuple[Any, ...]:
        """The engine's arguments for add/update/upsert of a prepared record set."""
        embeddings = record["embeddings"]
        return (
            self._key,
            record["ids"],
            _as_matrix(embeddings) if embeddings is not None else None,
            record["metadatas"],
            record["documents"],
            record["uris"],
        )

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
        record = self._prepare_add(ids, embeddings, metadatas, documents, images, uris)
        self._db.add(*self._write_arguments(record))

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
        record = self._prepare_update(ids, embeddings, metadatas, documents, images, uris)
        self._db.update(*self._write_arguments(record))

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
        record = self._prepare_upsert(ids, embeddings, metadatas, documents, images, uris)
        self._db.upsert(*self._write_arguments(record))

    @v.suffix_method("delete")
    def _prepare_delete(
        self, ids: Any, where: Any, where_document: Any, limit: Any
    ) -> list[str] | None:
        if ids is None and where is None and where_document is None:
            raise ValueError("At least one of ids, where, or where_document must be provided")
        v.validate_delete_limit(limit, has_filter=where is not None or where_document is not None)
        ids = v.maybe_cast_one_to_many(ids)
        if ids is not None:
            v.validate_ids(ids)
        if where is not None:
            v.validate_where(where)
        if where_document is not None:
            v.validate_where_document(where_document)
        return ids

    def delete(
        self,
        ids: Any = None,
        where: dict[str, Any] | None = None,
        where_document: dict[str, Any] | None = None,
        limit: int | None = None,
    ) -> dict[str, int]:
        """Deletes by ids and/or filter; with a filter, ``limit`` caps how many go (first
        in insertion order). Returns ``{"deleted": n}`` as chromadb 1.5 does."""
        return {
            "deleted": self._db.delete(*self._delete_arguments(ids, where, where_document, limit))
        }

    def _delete_arguments(
        self, ids: Any, where: Any, where_document: Any, limit: Any
    ) -> tuple[Any, ...]:
        ids = self._prepare_delete(ids, where, where_document, limit)
        return (self._key, ids, _filter_json(where), _filter_json(where_document), limit)

    # ---- reads

    def count(self, read_level: Any = None) -> int:
        """The number of records. ``read_level`` is accepted for compatibility: local reads
        always see every acknowledged write."""
        return self._db.count(self._key)

    def index_stats(self) -> dict[str, Any]:
        """Azurite: the state of the vector index. ``live`` records; ``index`` kind;
        ``points`` vectors in the index; ``tombstones`` among them that belong to deleted
        or replaced records (searches skip them; past 30% the index is rebuilt without
        them, giving the memory back)."""
        return self._db.index_stats(self._key)

    @v.suffix_method("get")
    def _prepare_get(
        self, ids: Any, where: Any, where_document: Any, include: Any
    ) -> tuple[list[str] | None, list[str]]:
        ids = v.maybe_cast_one_to_many(ids)
        if ids is not None:
            v.validate_ids(ids)
        if where is not None:
            v.validate_where(where)
        if where_document is not None:
            v.validate_where_document(where_document)
        v.validate_include(include, allow_distances=False)
        if "data" in include and self._data_loader is None:
            raise ValueError("You must set a data loader on the collection if loading from URIs.")
        if "data" in include and "uris" not in include:
            include.append("uris")
        return ids, include

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
        arguments, include = self._get_request(ids, where, limit, offset, where_document, include)
        return self._get_result(self._db.get(*arguments), include)

    def _get_request(
        self, ids: Any, where: Any, limit: Any, offset: Any, where_document: Any, include: Any
    ) -> tuple[tuple[Any, ...], list[str]]:
        """The engine's arguments for `get`, and the include list the result reports."""
        include = list(include) if isinstance(include, list) else include
        ids, include = self._prepare_get(ids, where, where_document, include)
        arguments = (
            self._key,
            ids,
            _filter_json(where),
            _filter_json(where_document),
            limit,
            offset or 0,  # as chromadb: 0.0 passes, another float is a TypeError
            include,
        )
        return arguments, include

    def _get_result(self, columns: dict[str, Any], include: list[str]) -> dict[str, Any]:
        embeddings = columns["embeddings"]
        if embeddings is not None:
            embeddings = (
                embeddings.astype(np.float64) if len(embeddings) else np.array([], np.float64)
            )
        data = None
        if "data" in include and self._data_loader is not None:
            data = self._data_loader(columns["uris"])
        return {
            "ids": columns["ids"],
            "embeddings": embeddings,
            "documents": columns["documents"],
            "uris": columns["uris"] if "uris" in include else None,
            "included": include,
            "data": data,
            "metadatas": columns["metadatas"],
        }

    def peek(self, limit: int = 10) -> dict[str, Any]:
        """The first ``limit`` records, with their embeddings."""
        return self._peek_result(self._db.get(*self._peek_arguments(limit)))

    def _peek_arguments(self, limit: int) -> tuple[Any, ...]:
        return (self._key, None, None, None, limit, 0, list(PEEK_INCLUDE))

    def _peek_result(self, columns: dict[str, Any]) -> dict[str, Any]:
        result = self._get_result(columns, list(PEEK_INCLUDE))
        result["uris"] = None
        return result

    @v.suffix_method("query")
    def _prepare_query(
        self,
        query_embeddings: Any,
        query_texts: Any,
        query_images: Any,
        query_uris: Any,
        n_results: Any,
        where: Any,
        where_document: Any,
        include: Any,
    ) -> tuple[list[np.ndarray], list[str]]:
        record = {
            "embeddings": v.normalize_embeddings(query_embeddings),
            "documents": v.maybe_cast_one_to_many(query_texts),
            "images": v.maybe_cast_one_to_many(query_images),
            "uris": v.maybe_cast_one_to_many(query_uris),
        }
        _validate_record_set(record)
        if where is not None:
            v.validate_where(where)
        if where_document is not None:
            v.validate_where_document(where_document)
        v.validate_include(include, allow_distances=True)
        v.validate_n_results(n_results)
        embeddings = record["embeddings"]
        if embeddings is None:
            self._require_one_source(record, ("documents", "images", "uris"))
            embeddings = self._embed_record_set(
                record["documents"], record["images"], record["uris"], is_query=True
            )
        if "data" in include and "uris" not in include:
            include.append("uris")
        return embeddings, include

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
        return self._query_result(self._db.query(*request.arguments), request.include)

    def _query_request(
        self,
        query_embeddings: Any,
        query_texts: Any,
        query_images: Any,
        query_uris: Any,
        ids: Any,
        n_results: Any,
        where: Any,
        where_document: Any,
        include: Any,
    ) -> QueryRequest:
        """Validates and embeds a query; the engine's arguments, or the empty results when
        `ids=[]` rules out every record."""
        include = list(include) if isinstance(include, list) else include
        embeddings, include = self._prepare_query(
            query_embeddings,
            query_texts,
            query_images,
            query_uris,
            n_results,
            where,
            where_document,
            include,
        )
        ids = v.maybe_cast_one_to_many(ids)
        matrix = _as_matrix(embeddings)
        if ids is not None and len(ids) == 0:
            return QueryRequest((), include, [_empty_columns(include) for _ in range(len(matrix))])
        # Like chromadb's engine, asking for "data" returns metadatas as well.
        engine_include = [*include, "metadatas"] if "data" in include else include
        arguments = (
            self._key,
            matrix,
            int(n_results),
            ids,
            _filter_json(where),
            _filter_json(where_document),
            engine_include,
        )
        return QueryRequest(arguments, include, None)

    def _query_result(self, results: list[dict[str, Any]], include: list[str]) -> dict[str, Any]:
        def column(name: str, wanted: bool) -> list[Any] | None:
            return [r[name] for r in results] if wanted else None

        embeddings = column("embeddings", "embeddings" in include)
        if embeddings is not None:
            embeddings = [
                e.astype(np.float64) if e is not None and len(e) else np.array([], np.float64)
                for e in embeddings
            ]
        data = None
        if "data" in include and self._data_loader is not None:
            data = [self._data_loader(r["uris"]) for r in results]
        metadatas_wanted = "metadatas" in include or "data" in include
        return {
            "ids": [r["ids"] for r in results],
            "embeddings": embeddings,
            "documents": column("documents", "documents" in include),
            "uris": column("uris", "uris" in include),
            "included": include,
            "data": data,
            "metadatas": column("metadatas", metadatas_wanted),
            "distances": (
                [r["distances"].tolist() for r in results] if "distances" in include else None
            ),
        }

    # ---- the collection itself

    def modify(
        self,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> None:
        """Renames the collection, replaces its metadata, or changes its mutable
        configuration (``ef_search``, ``max_neighbors``, ``num_threads``, ...)."""
        model = self._db.modify_collection(*self._modify_arguments(name, metadata, configuration))
        self._after_modify(model, configuration)

    def _modify_arguments(self, name: Any, metadata: Any, configuration: Any) -> tuple[Any, ...]:
        v.validate_collection_metadata_for_modify(metadata)
        if configuration and configuration.get("spann") is not None:
            raise ValueError("Trying to update SPANN config but schema has HNSW")
        configuration_json = None
        if configuration:
            # Only the keys chromadb's client sends: others (and their values, which need
            # not be JSON, like an infinity) are dropped, as chromadb drops them.
            update = {k: x for k, x in configuration.items() if k in UPDATE_CONFIGURATION_KEYS}
            function = update.pop("embedding_function", None)
            if function is not None:
                stored = (self.configuration_json or {}).get("embedding_function")
                update["embedding_function"] = embedding.configuration_update_entry(
                    stored, function
                )
            configuration_json = json.dumps(update)
        return (self._key, name, metadata, configuration_json)

    def _after_modify(self, model: dict[str, Any], configuration: Any) -> None:
        self._model = model
        function = (configuration or {}).get("embedding_function")
        if function is None:
            return
        stored = (self.configuration_json or {}).get("embedding_function") or {}
        # A legacy function leaves a known stored function in place (with a warning), and
        # the collection keeps embedding with the stored one.
        if not (embedding.is_legacy(function) and stored.get("type") == "known"):
            self._embedding_function = function

    def fork(self, new_name: str) -> Collection:
        raise NotImplementedError("Collection forking is not implemented for Local Chroma")

    def search(self, searches: Any, read_level: Any = None) -> Any:
        raise NotImplementedError("Search is not implemented for Local Chroma")


def _empty_columns(include: list[str]) -> dict[str, Any]:
    """The engine's columns for a query that matched nothing."""
    return {
        "ids": [],
        "embeddings": np.zeros((0, 0), np.float32) if "embeddings" in include else None,
        "documents": [] if "documents" in include else None,
        "metadatas": [] if "metadatas" in include or "data" in include else None,
        "uris": [] if "uris" in include else None,
        "distances": np.zeros(0, np.float32),
    }


__all__ = ["Collection"]
