"""What ``Collection`` and ``AsyncCollection`` share: everything but the engine call.

Each method of a collection runs in three steps: *prepare* (normalise and validate the
arguments in the order chromadb does, so the same bad input raises the same error, and
embed documents when needed) gives the engine's arguments; the engine answers; *shape*
turns the engine's answer into chromadb's result. Both steps live here, once, without
any I/O; the two collection classes only add the call in between. Validation errors
raised here end in `` in <method>.``; errors from the engine do not, as in chromadb.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple
from uuid import UUID

import numpy as np
import numpy.typing as npt
import orjson

from azurite.api import embedding
from azurite.api import validation as v
from azurite.api.engine import (
    DEFAULT_READ_LEVEL,
    CollectionModel,
    GetColumns,
    Matrix,
    Metadata,
    QueryColumns,
    SearchColumns,
)
from azurite.api.types import (
    DOCUMENT_KEY,
    EMBEDDING_KEY,
    ReadLevel,
    Schema,
    SearchResult,
    SparseVectorIndexConfig,
    validate_sparse_embedding_function,
)
from azurite.errors import InvalidArgumentError

GET_INCLUDE = ["metadatas", "documents"]
QUERY_INCLUDE = ["metadatas", "documents", "distances"]
PEEK_INCLUDE = ["metadatas", "documents", "embeddings"]
UPDATE_CONFIGURATION_KEYS = ("hnsw", "spann", "embedding_function")

Vectors = list[npt.NDArray[Any]]


class WriteCall(NamedTuple):
    """The engine's arguments of add, update and upsert."""

    collection: str
    ids: list[str]
    embeddings: Matrix | None
    metadatas: list[Metadata | None] | None
    documents: list[str | None] | None
    uris: list[str | None] | None


class DeleteCall(NamedTuple):
    collection: str
    ids: list[str] | None
    where_json: str | None
    where_document_json: str | None
    limit: int | None


class GetCall(NamedTuple):
    collection: str
    ids: list[str] | None
    where_json: str | None
    where_document_json: str | None
    limit: int | None
    offset: int
    include: list[str]


class QueryCall(NamedTuple):
    collection: str
    query_embeddings: Matrix
    n_results: int
    ids: list[str] | None
    where_json: str | None
    where_document_json: str | None
    include: list[str]


class ModifyCall(NamedTuple):
    id: str
    new_name: str | None
    new_metadata: Metadata | None
    new_configuration_json: str | None


class SearchCall(NamedTuple):
    collection: str
    searches_json: str
    read_level: str


class GetRequest(NamedTuple):
    """A validated get: the engine's arguments and the include list the result reports."""

    call: GetCall
    include: list[str]


class QueryRequest(NamedTuple):
    """A validated query: the engine's arguments and the include list the result reports."""

    call: QueryCall
    include: list[str]


def _as_matrix(embeddings: Vectors) -> Matrix:
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


def _require_one_source(record: dict[str, Any], fields: tuple[str, ...]) -> None:
    present = [f for f in fields if record.get(f) is not None]
    if len(present) != 1:
        raise ValueError(f"Exactly one of {', '.join(fields)} must be provided")


def _call_embed_query(function: Any, text: str) -> Any:
    """A query embedded as chromadb embeds one: ``embed_query`` where the function has
    it, else the function itself."""
    embed_query = getattr(function, "embed_query", None)
    return embed_query(input=[text]) if embed_query is not None else function([text])


def _as_float64(vectors: Matrix | None) -> npt.NDArray[np.float64] | None:
    if vectors is None:
        return None
    return vectors.astype(np.float64) if len(vectors) else np.array([], np.float64)


class CollectionCore:
    """A named set of records in one database: its description, and the preparation and
    shaping of every call on it."""

    def __init__(
        self,
        model: CollectionModel,
        embedding_function: Any = embedding.DEFAULT_EMBEDDING_FUNCTION,
        data_loader: Any = None,
    ) -> None:
        embedding.validate_signature(embedding_function)
        self._model = model
        self._embedding_function = embedding_function
        self._data_loader = data_loader
        self._rebuilt: tuple[Any, Any] | None = None
        self._sparse_targets: tuple[str, dict[str, SparseVectorIndexConfig]] | None = None

    # ---- properties

    @property
    def id(self) -> UUID:
        return UUID(self._model["id"])

    @property
    def name(self) -> str:
        return self._model["name"]

    @property
    def metadata(self) -> Metadata | None:
        return self._model["metadata"]

    @property
    def tenant(self) -> str:
        return self._model["tenant"]

    @property
    def database(self) -> str:
        return self._model["database"]

    @property
    def configuration_json(self) -> dict[str, Any]:
        stored: dict[str, Any] = json.loads(self._model["configuration_json"])
        return stored

    @property
    def configuration(self) -> dict[str, Any]:
        stored = self.configuration_json
        return {
            "hnsw": stored.get("hnsw"),
            "spann": stored.get("spann"),
            "embedding_function": self._embedding_function,
        }

    @property
    def schema(self) -> Schema:
        """The schema the core stores for the collection, as the collection was last read
        (keys discovered by writes since show on the collection read again, as in
        chromadb)."""
        return Schema.deserialize_from_json(json.loads(self._model["schema_json"]) or {})

    @property
    def _key(self) -> str:
        return self._model["id"]

    def __repr__(self) -> str:
        return f"Collection(name={self.name})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CollectionCore)
            and self._model == other._model
            and self._embedding_function == other._embedding_function
            and self._data_loader == other._data_loader
        )

    def __hash__(self) -> int:
        return hash(self._key)

    # ---- embedding

    def _embedding_function_to_use(self) -> Any:
        """As in Chroma: a function given explicitly (other than the default) wins; else
        the one stored with the collection is rebuilt, so a collection opened without a
        function embeds as it did when created; else the one given. A collection recorded
        with no function at all (created with ``embedding_function=None``) embeds with the
        default one, as chromadb's does through the default function of its schema; one
        recorded as ``legacy`` embeds only with a function given again."""
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
        if rebuilt is not None:
            return rebuilt
        if given is None and stored is None:
            return embedding.DEFAULT_EMBEDDING_FUNCTION
        return given

    def _embed(self, inputs: list[Any], *, is_query: bool) -> Vectors:
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

    # ---- sparse vectors

    def _sparse_embedding_targets(self) -> dict[str, SparseVectorIndexConfig]:
        """The keys whose enabled sparse vector index fills them from a source key with
        an embedding function. Rebuilding the schema rebuilds its functions: kept while
        the stored schema is unchanged."""
        schema_json = self._model["schema_json"]
        if self._sparse_targets is None or self._sparse_targets[0] != schema_json:
            targets: dict[str, SparseVectorIndexConfig] = {}
            for key, value_types in self.schema.keys.items():
                sparse = value_types.sparse_vector
                index = sparse.sparse_vector_index if sparse is not None else None
                if index is None or not index.enabled:
                    continue
                config = index.config
                if config.embedding_function is not None and config.source_key is not None:
                    targets[key] = config
            self._sparse_targets = (schema_json, targets)
        return self._sparse_targets[1]

    def _apply_sparse_embeddings(
        self, metadatas: list[Any] | None, documents: list[Any] | None
    ) -> list[Any] | None:
        """Fills each sparse-indexed key a record does not set from its source (the
        document, or a string metadata value), embedded by the index's function, as
        chromadb's client does before sending a write."""
        targets = self._sparse_embedding_targets()
        if not targets:
            return metadatas
        if metadatas is None:
            if documents is None:
                return None
            metadatas = [None] * len(documents)
        filled: list[dict[str, Any]] = [dict(m) if m is not None else {} for m in metadatas]
        for target_key, config in targets.items():
            function: Any = config.embedding_function
            validate_sparse_embedding_function(function)
            positions: list[int] = []
            inputs: list[str] = []
            for position, metadata in enumerate(filled):
                if target_key in metadata:
                    continue
                if config.source_key == DOCUMENT_KEY:
                    source = documents[position] if documents is not None else None
                else:
                    source = metadata.get(config.source_key or "")
                if isinstance(source, str):
                    positions.append(position)
                    inputs.append(source)
            if not inputs:
                continue
            vectors = function(input=inputs)
            if len(vectors) != len(positions):
                raise ValueError(
                    "Sparse embedding function returned unexpected number of embeddings."
                )
            for position, vector in zip(positions, vectors):
                filled[position][target_key] = vector
        result: list[Any] = [metadata or None for metadata in filled]
        v.validate_metadatas(result)
        return result

    # ---- preparing writes

    def _normalised_write(
        self, ids: Any, embeddings: Any, metadatas: Any, documents: Any, images: Any, uris: Any
    ) -> dict[str, Any]:
        normalised_embeddings = v.normalize_embeddings(embeddings)
        record: dict[str, Any] = {
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

    def _write_call(self, record: dict[str, Any]) -> WriteCall:
        # After the suffixed validation: chromadb raises the inconsistent-dimensions error
        # from its engine, without " in <method>.".
        embeddings = record["embeddings"]
        return WriteCall(
            self._key,
            record["ids"],
            _as_matrix(embeddings) if embeddings is not None else None,
            record["metadatas"],
            record["documents"],
            record["uris"],
        )

    def _prepare_add(self, *args: Any) -> WriteCall:
        return self._write_call(self._validated_add(*args))

    @v.suffix_method("add")
    def _validated_add(self, *args: Any) -> dict[str, Any]:
        record = self._normalised_write(*args)
        if record["metadatas"] is not None:
            v.validate_metadatas(record["metadatas"])
        if record["embeddings"] is None:
            _require_one_source(record, ("documents", "images", "uris"))
            record["embeddings"] = self._embed_record_set(
                record["documents"], record["images"], record["uris"], is_query=False
            )
        record["metadatas"] = self._apply_sparse_embeddings(
            record["metadatas"], record["documents"]
        )
        return record

    def _prepare_update(self, *args: Any) -> WriteCall:
        return self._write_call(self._validated_update(*args))

    @v.suffix_method("update")
    def _validated_update(self, *args: Any) -> dict[str, Any]:
        record = self._normalised_write(*args)
        if record["metadatas"] is not None:
            v.validate_metadatas(record["metadatas"])
        if record["embeddings"] is None and (
            record["documents"] is not None or record["images"] is not None
        ):
            _require_one_source(record, ("documents", "images"))
            record["embeddings"] = self._embed_record_set(
                record["documents"], record["images"], None, is_query=False
            )
        record["metadatas"] = self._apply_sparse_embeddings(
            record["metadatas"], record["documents"]
        )
        return record

    def _prepare_upsert(self, *args: Any) -> WriteCall:
        return self._write_call(self._validated_upsert(*args))

    @v.suffix_method("upsert")
    def _validated_upsert(self, *args: Any) -> dict[str, Any]:
        record = self._normalised_write(*args)
        if record["metadatas"] is not None:
            v.validate_metadatas(record["metadatas"])
        if record["embeddings"] is None:
            _require_one_source(record, ("documents", "images"))
            record["embeddings"] = self._embed_record_set(
                record["documents"], record["images"], None, is_query=False
            )
        record["metadatas"] = self._apply_sparse_embeddings(
            record["metadatas"], record["documents"]
        )
        return record

    @v.suffix_method("delete")
    def _prepare_delete(self, ids: Any, where: Any, where_document: Any, limit: Any) -> DeleteCall:
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
        return DeleteCall(self._key, ids, _filter_json(where), _filter_json(where_document), limit)

    # ---- preparing and shaping reads

    @v.suffix_method("get")
    def _validated_get(
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

    def _prepare_get(
        self, ids: Any, where: Any, limit: Any, offset: Any, where_document: Any, include: Any
    ) -> GetRequest:
        include = list(include) if isinstance(include, list) else include
        ids, include = self._validated_get(ids, where, where_document, include)
        call = GetCall(
            self._key,
            ids,
            _filter_json(where),
            _filter_json(where_document),
            limit,
            offset or 0,  # as chromadb: 0.0 passes, another float is a TypeError
            include,
        )
        return GetRequest(call, include)

    def _get_result(self, columns: GetColumns, include: list[str]) -> dict[str, Any]:
        data = None
        if "data" in include and self._data_loader is not None:
            data = self._data_loader(columns["uris"])
        return {
            "ids": columns["ids"],
            "embeddings": _as_float64(columns["embeddings"]),
            "documents": columns["documents"],
            "uris": columns["uris"] if "uris" in include else None,
            "included": include,
            "data": data,
            "metadatas": columns["metadatas"],
        }

    def _prepare_peek(self, limit: int) -> GetCall:
        return GetCall(self._key, None, None, None, limit, 0, list(PEEK_INCLUDE))

    def _peek_result(self, columns: GetColumns) -> dict[str, Any]:
        result = self._get_result(columns, list(PEEK_INCLUDE))
        result["uris"] = None
        return result

    @v.suffix_method("query")
    def _validated_query(
        self,
        query_embeddings: Any,
        query_texts: Any,
        query_images: Any,
        query_uris: Any,
        n_results: Any,
        where: Any,
        where_document: Any,
        include: Any,
    ) -> tuple[Vectors, list[str]]:
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
            _require_one_source(record, ("documents", "images", "uris"))
            embeddings = self._embed_record_set(
                record["documents"], record["images"], record["uris"], is_query=True
            )
        if "data" in include and "uris" not in include:
            include.append("uris")
        return embeddings, include

    def _prepare_query(
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
        """Validates and embeds a query: the engine's arguments."""
        include = list(include) if isinstance(include, list) else include
        embeddings, include = self._validated_query(
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
        # Like chromadb's engine, asking for "data" returns metadatas as well.
        engine_include = [*include, "metadatas"] if "data" in include else include
        call = QueryCall(
            self._key,
            matrix,
            int(n_results),
            ids,
            _filter_json(where),
            _filter_json(where_document),
            engine_include,
        )
        return QueryRequest(call, include)

    def _query_result(self, results: list[QueryColumns], include: list[str]) -> dict[str, Any]:
        embeddings = None
        if "embeddings" in include:
            embeddings = [_as_float64(r["embeddings"]) for r in results]
        data = None
        if "data" in include and self._data_loader is not None:
            data = [self._data_loader(r["uris"]) for r in results]
        metadatas_wanted = "metadatas" in include or "data" in include
        return {
            "ids": [r["ids"] for r in results],
            "embeddings": embeddings,
            "documents": [r["documents"] for r in results] if "documents" in include else None,
            "uris": [r["uris"] for r in results] if "uris" in include else None,
            "included": include,
            "data": data,
            "metadatas": [r["metadatas"] for r in results] if metadatas_wanted else None,
            "distances": (
                [r["distances"].tolist() for r in results] if "distances" in include else None
            ),
        }

    # ---- search

    def _prepare_search(self, searches: Any, read_level: Any) -> SearchCall:
        """The engine's arguments of a search: each ``Search`` (one, or a list) in its
        wire form (chromadb's ``to_dict()``), with text ``Knn`` queries embedded by the
        key's embedding function as chromadb embeds them."""
        items = searches if isinstance(searches, list) else [searches]
        payloads = []
        for search in items:
            payload = search.to_dict()
            if payload.get("rank") is not None:
                payload = {**payload, "rank": self._embed_string_queries(payload["rank"])}
            payloads.append(payload)
        level = DEFAULT_READ_LEVEL if read_level is None else ReadLevel(read_level).value
        text = orjson.dumps(payloads, option=orjson.OPT_SERIALIZE_NUMPY).decode()
        return SearchCall(self._key, text, level)

    def _embed_string_queries(self, rank: Any) -> Any:
        """The rank expression with every ``$knn`` whose query is text given the text's
        embedding instead."""
        if isinstance(rank, list):
            return [self._embed_string_queries(item) for item in rank]
        if not isinstance(rank, dict):
            return rank
        knn = rank.get("$knn")
        if len(rank) == 1 and isinstance(knn, dict) and isinstance(knn.get("query"), str):
            key = knn.get("key") or EMBEDDING_KEY
            return {"$knn": {**knn, "query": self._embedded_query(knn["query"], key)}}
        return {name: self._embed_string_queries(item) for name, item in rank.items()}

    def _embedded_query(self, text: str, key: str) -> Any:
        """``text`` embedded for a Knn on ``key``: by the collection's embedding function
        for ``#embedding``, else by the embedding function of the key's sparse index in the
        schema, with chromadb's messages when there is none."""
        if key == EMBEDDING_KEY:
            vectors = self._embed([text], is_query=True)
            if len(vectors) != 1:
                raise ValueError("Embedding function returned unexpected number of embeddings")
            return vectors[0].tolist()
        value_types = self.schema.keys.get(key)
        if value_types is None:
            raise ValueError(
                f"Cannot embed string query for key '{key}': key not found in schema. "
                "Please provide an embedded vector or configure an embedding function for "
                "this key in the schema."
            )
        # Only #embedding holds a dense index (Chroma's schema rule), so a text query on
        # any other key is embedded by its sparse index's function.
        sparse_type = value_types.sparse_vector
        sparse = sparse_type.sparse_vector_index if sparse_type is not None else None
        if sparse is not None and sparse.enabled and sparse.config.embedding_function:
            found = _call_embed_query(sparse.config.embedding_function, text)
            if len(found) != 1:
                raise ValueError(
                    "Sparse embedding function returned unexpected number of embeddings"
                )
            return found[0].to_dict()
        raise ValueError(
            f"Cannot embed string query for key '{key}': no embedding function configured "
            "for this key in the schema. Please provide an embedded vector or configure an "
            "embedding function."
        )

    @staticmethod
    def _search_result(columns: SearchColumns) -> SearchResult:
        return SearchResult(columns)

    # ---- the collection itself

    def _prepare_modify(self, name: Any, metadata: Any, configuration: Any) -> ModifyCall:
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
        return ModifyCall(self._key, name, metadata, configuration_json)

    def _after_modify(self, model: CollectionModel, configuration: Any) -> None:
        self._model = model
        function = (configuration or {}).get("embedding_function")
        if function is None:
            return
        stored = (self.configuration_json or {}).get("embedding_function") or {}
        # A legacy function leaves a known stored function in place (with a warning), and
        # the collection keeps embedding with the stored one.
        if not (embedding.is_legacy(function) and stored.get("type") == "known"):
            self._embedding_function = function
