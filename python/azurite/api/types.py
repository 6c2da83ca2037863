"""The types of chromadb's ``chromadb.api.types``, under Azurite: the aliases user code
annotates with (``Documents``, ``Metadata``, ``Where``, ...), the result dicts
(``GetResult``, ``QueryResult``), the embedding function protocols, and ``Schema`` with
its index configurations.

A ``Schema`` is built and edited as in chromadb, and ``create_collection(schema=...)``
honours it: the core reconciles it with the configuration, stores it, and enforces its
index toggles on filters. As in Chroma Cloud, one named key may carry a sparse vector
index (``SparseVectorIndexConfig``), whose embedding function fills the key from its
``source_key`` on every write.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import (
    Any,
    Callable,
    Literal,
    Optional,
    Protocol,
    TypedDict,
    TypeVar,
    Union,
    cast,
    runtime_checkable,
)

import numpy as np
import numpy.typing as npt

from azurite.api import embedding
from azurite.base_types import (
    SPARSE_VECTOR_TYPE_VALUE,
    TYPE_KEY,
    LiteralValue,
    SparseVector,
    SparseVectors,
    validate_sparse_vectors,
)
from azurite.embedding_functions import DefaultEmbeddingFunction
from azurite.embedding_functions.base import (
    DataLoader,
    Document,
    Documents,
    Embeddable,
    EmbeddingFunction,
    Embeddings,
    Images,
)
from azurite.search import Key

# ---- records

ID = str
IDs = list[ID]
URI = str
URIs = list[URI]
PyVector = Union[Sequence[float], Sequence[int]]
PyEmbedding = PyVector
PyEmbeddings = list[PyEmbedding]
Vector = npt.NDArray[Union[np.int32, np.float32]]
Embedding = Vector
ImageDType = Union[np.uint, np.int64, np.float64]
Image = npt.NDArray[ImageDType]
Loadable = list[Optional[Image]]
Space = Literal["cosine", "l2", "ip"]

T = TypeVar("T")
OneOrMany = Union[T, list[T]]

#: The metadata key under which Chroma's full-text index stores documents.
META_KEY_CHROMA_DOCUMENT = "chroma:document"

MetadataListValue = list[Union[str, int, float, bool]]
Metadata = Mapping[str, Optional[Union[str, int, float, bool, SparseVector, MetadataListValue]]]
UpdateMetadata = Mapping[str, Union[int, float, str, bool, SparseVector, MetadataListValue, None]]
Metadatas = list[Metadata]
CollectionMetadata = dict[str, Any]
UpdateCollectionMetadata = UpdateMetadata

# ---- filters

LogicalOperator = Literal["$and", "$or"]
WhereOperator = Literal["$gt", "$gte", "$lt", "$lte", "$ne", "$eq"]
InclusionExclusionOperator = Literal["$in", "$nin"]
ArrayContainsOperator = Literal["$contains", "$not_contains"]
OperatorExpression = Union[
    dict[Union[WhereOperator, LogicalOperator], LiteralValue],
    dict[InclusionExclusionOperator, list[LiteralValue]],
    dict[ArrayContainsOperator, LiteralValue],
]
Where = dict[Union[str, LogicalOperator], Union[LiteralValue, OperatorExpression, list["Where"]]]
WhereDocumentOperator = Literal["$contains", "$not_contains", "$regex", "$not_regex", "$and", "$or"]
WhereDocument = dict[WhereDocumentOperator, Union[str, list["WhereDocument"]]]

# ---- requests and results

Include = list[Literal["documents", "embeddings", "metadatas", "distances", "uris", "data"]]
IncludeMetadataDocuments: Include = ["metadatas", "documents"]
IncludeMetadataDocumentsEmbeddings: Include = ["metadatas", "documents", "embeddings"]
IncludeMetadataDocumentsDistances: Include = ["metadatas", "documents", "distances"]
IncludeMetadataDocumentsEmbeddingsDistances: Include = [
    "metadatas",
    "documents",
    "embeddings",
    "distances",
]


class BaseRecordSet(TypedDict):
    """The fields of records that can be embedded, and their embeddings."""

    embeddings: Embeddings | None
    documents: Documents | None
    images: Images | None
    uris: URIs | None


class InsertRecordSet(BaseRecordSet):
    ids: IDs
    metadatas: Metadatas | None


class FilterSet(TypedDict):
    where: Where | None
    where_document: WhereDocument | None


class AddRequest(TypedDict):
    ids: IDs
    embeddings: Embeddings
    metadatas: Metadatas | None
    documents: Documents | None
    uris: URIs | None


class UpdateRequest(TypedDict):
    ids: IDs
    embeddings: Embeddings | None
    metadatas: Metadatas | None
    documents: Documents | None
    uris: URIs | None


class UpsertRequest(TypedDict):
    ids: IDs
    embeddings: Embeddings
    metadatas: Metadatas | None
    documents: Documents | None
    uris: URIs | None


class GetRequest(TypedDict):
    ids: IDs | None
    where: Where | None
    where_document: WhereDocument | None
    include: Include


class QueryRequest(TypedDict):
    embeddings: Embeddings
    ids: IDs | None
    where: Where | None
    where_document: WhereDocument | None
    include: Include
    n_results: int


class DeleteRequest(TypedDict):
    ids: IDs | None
    where: Where | None
    where_document: WhereDocument | None
    limit: int | None


class IndexMetadata(TypedDict):
    """The state of a vector index as chromadb's local index reports it."""

    dimensionality: int
    curr_elements: int
    total_elements_added: int
    time_created: float


class GetResult(TypedDict):
    """Records of a ``get``, column by column; a column not in ``included`` is ``None``."""

    ids: list[ID]
    embeddings: Embeddings | PyEmbeddings | Vector | None
    documents: list[Document] | None
    uris: URIs | None
    data: Loadable | None
    metadatas: list[Metadata] | None
    included: Include


class QueryResult(TypedDict):
    """The records found for each query of a ``query``, nearest first, column by column."""

    ids: list[IDs]
    embeddings: list[Embeddings] | list[PyEmbeddings] | list[Vector] | None
    documents: list[list[Document]] | None
    uris: list[list[URI]] | None
    data: list[Loadable] | None
    metadatas: list[list[Metadata]] | None
    distances: list[list[float]] | None
    included: Include


class DeleteResult(TypedDict):
    deleted: int


class SearchResultRow(TypedDict, total=False):
    """One record of a search's answer: ``id`` always, the other fields when selected."""

    id: str
    document: str | None
    embedding: list[float] | None
    metadata: dict[str, Any] | None
    score: float | None


_SEARCH_RESULT_COLUMNS = frozenset(
    {"ids", "documents", "embeddings", "metadatas", "scores", "select"}
)


class SearchResult(dict[str, Any]):
    """The answer of ``collection.search``, column-major as chromadb's: each column holds
    one entry per search, and an entry is ``None`` when that search did not select the
    field. ``rows()`` gives the same records row by row."""

    ids: list[list[str]]
    documents: list[list[str | None] | None]
    embeddings: list[list[list[float] | None] | None]
    metadatas: list[list[dict[str, Any] | None] | None]
    scores: list[list[float | None] | None]
    select: list[list[str]]

    def __getattr__(self, name: str) -> Any:
        # Chroma's Search API pages read the columns as attributes (`results.ids[0]`);
        # chromadb 1.5.9's result is a plain dict that refuses it.
        if name in _SEARCH_RESULT_COLUMNS and name in self:
            return self[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def rows(self) -> list[list[SearchResultRow]]:
        """The records of each search as one dict per record."""
        all_ids = self.get("ids", [])
        missing = [None] * len(all_ids)
        columns = {
            "document": self.get("documents") or missing,
            "embedding": self.get("embeddings") or missing,
            "metadata": self.get("metadatas") or missing,
            "score": self.get("scores") or missing,
        }
        result: list[list[SearchResultRow]] = []
        for search, ids in enumerate(all_ids):
            rows: list[SearchResultRow] = []
            for position, record_id in enumerate(ids):
                row: dict[str, Any] = {"id": record_id}
                for name, column in columns.items():
                    values = column[search]
                    if values is not None and values[position] is not None:
                        row[name] = values[position]
                rows.append(row)  # type: ignore[arg-type]
            result.append(rows)
        return result


@dataclass
class IndexingStatus:
    num_indexed_ops: int
    num_unindexed_ops: int
    total_ops: int
    op_indexing_progress: float


class ReadLevel(str, Enum):
    """How fresh a read must be. Azurite always reads every acknowledged write, so every
    level reads the same."""

    INDEX_AND_WAL = "index_and_wal"
    INDEX_ONLY = "index_only"
    INDEX_AND_BOUNDED_WAL = "index_and_bounded_wal"


# ---- embedding functions

D = TypeVar("D", contravariant=True)
L = TypeVar("L", covariant=True)


@runtime_checkable
class SparseEmbeddingFunction(Protocol[D]):
    """A function that turns inputs into sparse vectors (for a sparse vector index, which
    Azurite does not run yet)."""

    def __call__(self, input: D) -> SparseVectors: ...


def validate_embedding_function(embedding_function: Any) -> None:
    """Refuses an embedding function whose ``__call__`` is not ``(self, input)``."""
    embedding.validate_signature(embedding_function)


def validate_sparse_embedding_function(embedding_function: Any) -> None:
    """The same check for a sparse embedding function."""
    embedding.validate_signature(embedding_function)


# ---- schema: index configurations

EMBEDDING_KEY = "#embedding"
DOCUMENT_KEY = "#document"

FTS_INDEX_NAME = "fts_index"
VECTOR_INDEX_NAME = "vector_index"
SPARSE_VECTOR_INDEX_NAME = "sparse_vector_index"
STRING_INVERTED_INDEX_NAME = "string_inverted_index"
INT_INVERTED_INDEX_NAME = "int_inverted_index"
FLOAT_INVERTED_INDEX_NAME = "float_inverted_index"
BOOL_INVERTED_INDEX_NAME = "bool_inverted_index"
HNSW_INDEX_NAME = "hnsw_index"
SPANN_INDEX_NAME = "spann_index"

STRING_VALUE_NAME = "string"
FLOAT_LIST_VALUE_NAME = "float_list"
SPARSE_VECTOR_VALUE_NAME = "sparse_vector"
INT_VALUE_NAME = "int"
FLOAT_VALUE_NAME = "float"
BOOL_VALUE_NAME = "bool"


def _source_key(value: Any) -> str | None:
    """A source key given as a string or a :class:`Key`; of the reserved keys only
    ``#document`` can be a source."""
    if value is None:
        return None
    if isinstance(value, Key):
        value = value.name
    if not isinstance(value, str):
        raise ValueError(f"source_key must be str or Key, got {type(value).__name__}")
    if value.startswith("#") and value != DOCUMENT_KEY:
        raise ValueError(
            "source_key cannot begin with '#'. "
            "The only valid key starting with '#' is Key.DOCUMENT or '#document'."
        )
    return value


class IndexConfigModel:
    """What index configurations share with chromadb's pydantic models: keyword
    arguments only, unknown fields refused with a ValueError, ``model_dump()``."""

    def __init__(self, **values: Any) -> None:
        fields = {f.name: f for f in dataclasses.fields(cast(Any, self))}
        unknown = [name for name in values if name not in fields]
        if len(unknown) == 1:
            raise ValueError(f"'{unknown[0]}' is not a valid field for {type(self).__name__}.")
        if unknown:
            listed = ", ".join(f"'{name}'" for name in unknown)
            raise ValueError(f"Invalid fields for {type(self).__name__}: {listed}.")
        for name, spec in fields.items():
            if name in values:
                value = values[name]
            elif spec.default_factory is not dataclasses.MISSING:
                value = spec.default_factory()
            else:
                value = spec.default
            setattr(self, name, value)
        self._validate()

    def _validate(self) -> None:
        """Checks (and normalises) the fields once they are set."""

    def model_dump(self, exclude_none: bool = False) -> dict[str, Any]:
        dumped = {
            f.name: getattr(self, f.name).model_dump(exclude_none=exclude_none)
            if isinstance(getattr(self, f.name), IndexConfigModel)
            else getattr(self, f.name)
            for f in dataclasses.fields(cast(Any, self))
        }
        return {k: v for k, v in dumped.items() if v is not None} if exclude_none else dumped


@dataclass(init=False)
class FtsIndexConfig(IndexConfigModel):
    """The full-text index of documents (no parameters)."""


@dataclass(init=False)
class StringInvertedIndexConfig(IndexConfigModel):
    """The index of string metadata values (no parameters)."""


@dataclass(init=False)
class IntInvertedIndexConfig(IndexConfigModel):
    """The index of integer metadata values (no parameters)."""


@dataclass(init=False)
class FloatInvertedIndexConfig(IndexConfigModel):
    """The index of float metadata values (no parameters)."""


@dataclass(init=False)
class BoolInvertedIndexConfig(IndexConfigModel):
    """The index of boolean metadata values (no parameters)."""


@dataclass(init=False)
class HnswIndexConfig(IndexConfigModel):
    """Parameters of an HNSW vector index; ``None`` leaves the default."""

    ef_construction: int | None = None
    max_neighbors: int | None = None
    ef_search: int | None = None
    num_threads: int | None = None
    batch_size: int | None = None
    sync_threshold: int | None = None
    resize_factor: float | None = None


@dataclass(init=False)
class SpannIndexConfig(IndexConfigModel):
    """Parameters of a SPANN vector index (Chroma Cloud's index)."""

    search_nprobe: int | None = None
    write_nprobe: int | None = None
    ef_construction: int | None = None
    ef_search: int | None = None
    max_neighbors: int | None = None
    reassign_neighbor_count: int | None = None
    split_threshold: int | None = None
    merge_threshold: int | None = None


@dataclass(init=False)
class VectorIndexConfig(IndexConfigModel):
    """The vector index: distance `space`, embedding function, where vectors come from,
    and the HNSW or SPANN parameters."""

    space: Space | None = None
    embedding_function: Any | None = field(
        default_factory=lambda: embedding.DEFAULT_EMBEDDING_FUNCTION
    )
    source_key: str | None = None
    hnsw: HnswIndexConfig | None = None
    spann: SpannIndexConfig | None = None

    def _validate(self) -> None:
        self.source_key = _source_key(self.source_key)
        if self.embedding_function is not None:
            if not callable(self.embedding_function):
                raise ValueError("embedding_function must be callable or None")
            validate_embedding_function(self.embedding_function)


@dataclass(init=False)
class SparseVectorIndexConfig(IndexConfigModel):
    """A sparse vector index on one metadata key: its vectors come from `source_key` through
    `embedding_function` when given, and `bm25` weights queries by inverse document
    frequency."""

    embedding_function: Any | None = None
    source_key: str | None = None
    bm25: bool | None = None

    def _validate(self) -> None:
        self.source_key = _source_key(self.source_key)
        if self.embedding_function is not None and not callable(self.embedding_function):
            raise ValueError(
                "embedding_function must be a callable SparseEmbeddingFunction or None"
            )


IndexConfig = Union[
    FtsIndexConfig,
    VectorIndexConfig,
    SparseVectorIndexConfig,
    StringInvertedIndexConfig,
    IntInvertedIndexConfig,
    FloatInvertedIndexConfig,
    BoolInvertedIndexConfig,
]


class CmekProvider(str, Enum):
    """Cloud providers of customer-managed encryption keys."""

    GCP = "gcp"


@dataclass
class Cmek:
    """A customer-managed encryption key (a Chroma Cloud feature: Azurite records it in a
    Schema and does not encrypt with it)."""

    provider: CmekProvider
    resource: str

    @classmethod
    def gcp(cls, resource: str) -> Cmek:
        return cls(provider=CmekProvider.GCP, resource=resource)

    def validate_pattern(self) -> bool:
        """Whether the resource names a GCP key (projects/…/locations/…/keyRings/…/
        cryptoKeys/…); the key itself is not looked up."""
        parts = self.resource.split("/")
        return (
            self.provider == CmekProvider.GCP
            and len(parts) >= 8
            and parts[0] == "projects"
            and parts[2] == "locations"
            and parts[4] == "keyRings"
            and parts[-2] == "cryptoKeys"
            and all(parts)
        )

    def to_dict(self) -> dict[str, Any]:
        return {self.provider.value: self.resource}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Cmek:
        resource = data.get("gcp")
        if resource is None:
            raise ValueError(f"Unsupported or missing CMEK provider in data: {data}")
        if not isinstance(resource, str):
            raise ValueError(f"CMEK gcp resource must be a string, got: {type(resource)}")
        return cls.gcp(resource)


# ---- schema: which indexes each value type has


@dataclass
class FtsIndexType:
    enabled: bool
    config: FtsIndexConfig


@dataclass
class VectorIndexType:
    enabled: bool
    config: VectorIndexConfig


@dataclass
class SparseVectorIndexType:
    enabled: bool
    config: SparseVectorIndexConfig


@dataclass
class StringInvertedIndexType:
    enabled: bool
    config: StringInvertedIndexConfig


@dataclass
class IntInvertedIndexType:
    enabled: bool
    config: IntInvertedIndexConfig


@dataclass
class FloatInvertedIndexType:
    enabled: bool
    config: FloatInvertedIndexConfig


@dataclass
class BoolInvertedIndexType:
    enabled: bool
    config: BoolInvertedIndexConfig


@dataclass
class StringValueType:
    fts_index: FtsIndexType | None = None
    string_inverted_index: StringInvertedIndexType | None = None


@dataclass
class FloatListValueType:
    vector_index: VectorIndexType | None = None


@dataclass
class SparseVectorValueType:
    sparse_vector_index: SparseVectorIndexType | None = None


@dataclass
class IntValueType:
    int_inverted_index: IntInvertedIndexType | None = None


@dataclass
class FloatValueType:
    float_inverted_index: FloatInvertedIndexType | None = None


@dataclass
class BoolValueType:
    bool_inverted_index: BoolInvertedIndexType | None = None


@dataclass
class ValueTypes:
    string: StringValueType | None = None
    float_list: FloatListValueType | None = None
    sparse_vector: SparseVectorValueType | None = None
    int_value: IntValueType | None = None
    float_value: FloatValueType | None = None
    boolean: BoolValueType | None = None


#: For each kind of index configuration: the value type it indexes (attribute of
#: ValueTypes and its class), the index (attribute and class).
_INDEX_SLOTS: dict[type, tuple[str, Callable[[], Any], str, Callable[[bool, Any], Any]]] = {
    FtsIndexConfig: ("string", StringValueType, "fts_index", FtsIndexType),
    StringInvertedIndexConfig: (
        "string",
        StringValueType,
        "string_inverted_index",
        StringInvertedIndexType,
    ),
    VectorIndexConfig: ("float_list", FloatListValueType, "vector_index", VectorIndexType),
    SparseVectorIndexConfig: (
        "sparse_vector",
        SparseVectorValueType,
        "sparse_vector_index",
        SparseVectorIndexType,
    ),
    IntInvertedIndexConfig: ("int_value", IntValueType, "int_inverted_index", IntInvertedIndexType),
    FloatInvertedIndexConfig: (
        "float_value",
        FloatValueType,
        "float_inverted_index",
        FloatInvertedIndexType,
    ),
    BoolInvertedIndexConfig: (
        "boolean",
        BoolValueType,
        "bool_inverted_index",
        BoolInvertedIndexType,
    ),
}


#: The name of each value type in a Schema's JSON form.
_VALUE_JSON_NAMES = {
    "string": STRING_VALUE_NAME,
    "float_list": FLOAT_LIST_VALUE_NAME,
    "sparse_vector": SPARSE_VECTOR_VALUE_NAME,
    "int_value": INT_VALUE_NAME,
    "float_value": FLOAT_VALUE_NAME,
    "boolean": BOOL_VALUE_NAME,
}


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return value


def _config_json(config: Any) -> dict[str, Any]:
    """An index configuration as JSON; embedding functions as their stored entry."""
    fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
    function = fields.pop("embedding_function", None)
    record: dict[str, Any] = _without_none(
        {k: v.model_dump() if isinstance(v, IndexConfigModel) else v for k, v in fields.items()}
    )
    if isinstance(config, VectorIndexConfig):
        record["embedding_function"] = _vector_function_json(config, function, record)
    elif isinstance(config, SparseVectorIndexConfig):
        record["embedding_function"] = (
            {"type": "unknown"}
            if function is None
            else {"name": function.name(), "type": "known", "config": function.get_config()}
        )
    return record


def _vector_function_json(
    config: VectorIndexConfig, function: Any, record: dict[str, Any]
) -> dict[str, Any]:
    """The function's entry, as chromadb records it; a vector index without a space takes
    the function's default space."""
    legacy = {"type": "legacy"}
    if function is None:
        return legacy
    try:
        if embedding.is_legacy(function):
            return legacy
        function.validate_config(function.get_config())
        entry = {"name": function.name(), "type": "known", "config": function.get_config()}
        if config.space is None:
            record["space"] = function.default_space()
        elif config.space not in function.supported_spaces():
            warnings.warn(
                f"space {config.space} is not supported by {function.name()}. Supported "
                f"spaces: {function.supported_spaces()}",
                UserWarning,
                stacklevel=4,
            )
    except Exception:
        return legacy
    return entry


def _function_from_json(entry: dict[str, Any], registry: dict[str, Any], kind: str) -> Any:
    """The function a stored entry names, or ``None`` (with a warning when it cannot be
    rebuilt, as in chromadb)."""
    if entry.get("type") in ("legacy", "unknown"):
        return None
    try:
        return registry[entry["name"]].build_from_config(entry["config"])
    except Exception as error:
        warnings.warn(
            f"Could not reconstruct {kind} {entry.get('name', 'unknown')}: "
            f"{error}. Setting to None.",
            UserWarning,
            stacklevel=4,
        )
        return None


def _config_from_json(config_class: type[Any], record: dict[str, Any]) -> Any:
    record = dict(record)
    if "embedding_function" in record:
        from azurite.embedding_functions import (
            known_embedding_functions,
            sparse_known_embedding_functions,
        )

        registries: dict[type[Any], dict[str, Any]] = {
            VectorIndexConfig: known_embedding_functions,
            SparseVectorIndexConfig: sparse_known_embedding_functions,
        }
        registry = registries.get(config_class, {})
        function = _function_from_json(
            record["embedding_function"],
            registry,
            kind="sparse embedding function"
            if config_class is SparseVectorIndexConfig
            else "embedding function",
        )
        record["embedding_function"] = function
        if config_class is VectorIndexConfig and function is not None and not record.get("space"):
            record["space"] = function.default_space()
    for nested, nested_class in (("hnsw", HnswIndexConfig), ("spann", SpannIndexConfig)):
        if isinstance(record.get(nested), dict):
            record[nested] = nested_class(**record[nested])
    return config_class(**record)


def _set_index(value_types: ValueTypes, config: Any, enabled: bool) -> None:
    value_name, value_class, index_name, index_class = _INDEX_SLOTS[type(config)]
    value = getattr(value_types, value_name)
    if value is None:
        value = value_class()
        setattr(value_types, value_name, value)
    setattr(value, index_name, index_class(enabled, config))


class Schema:
    """Which indexes a collection keeps, by value type (``defaults``) and per metadata key
    (``keys``), as chromadb builds it: ``Schema().create_index(config=...)``,
    ``delete_index(config=..., key=...)``, ``set_cmek(...)``. Each call checks its
    arguments as chromadb does and returns the schema; ``serialize_to_json`` and
    ``deserialize_from_json`` give and read chromadb's JSON form.

    ``create_collection(schema=...)`` sends it to the core, which reconciles it with the
    configuration, stores it with the keys that writes introduce, and refuses filters on
    the indexes it disables; ``collection.schema`` reads the stored one back."""

    def __init__(self) -> None:
        self.defaults = ValueTypes()
        self.keys: dict[str, ValueTypes] = {}
        self.cmek: Cmek | None = None
        for config_class in _INDEX_SLOTS:
            # Full-text search, vectors and sparse vectors are off for keys not named.
            enabled = config_class not in (
                FtsIndexConfig,
                VectorIndexConfig,
                SparseVectorIndexConfig,
            )
            _set_index(self.defaults, config_class(), enabled)
        self.keys[DOCUMENT_KEY] = ValueTypes()
        _set_index(self.keys[DOCUMENT_KEY], FtsIndexConfig(), True)
        _set_index(self.keys[DOCUMENT_KEY], StringInvertedIndexConfig(), False)
        self.keys[EMBEDDING_KEY] = ValueTypes()
        _set_index(self.keys[EMBEDDING_KEY], VectorIndexConfig(source_key=DOCUMENT_KEY), True)

    def __repr__(self) -> str:
        return f"Schema(defaults={self.defaults!r}, keys={self.keys!r}, cmek={self.cmek!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and (self.defaults, self.keys, self.cmek) == (
            other.defaults,
            other.keys,
            other.cmek,
        )

    __hash__ = None  # type: ignore[assignment]

    @staticmethod
    def _check_key(key: str | None, config: Any, verb: str) -> None:
        if key == DOCUMENT_KEY and not isinstance(config, FtsIndexConfig):
            raise ValueError(
                f"Cannot {verb} index on special key '{key}' with this config. "
                "Only FtsIndexConfig is allowed for #document."
            )
        if key is not None and key.startswith("#") and key != DOCUMENT_KEY:
            raise ValueError(
                "key cannot begin with '#'. Keys starting with '#' are reserved for system use."
            )

    def create_index(
        self, config: IndexConfig | None = None, key: str | Key | None = None
    ) -> Schema:
        """Turns an index on, for every key (``key=None``) or one key; a
        ``VectorIndexConfig`` configures the collection's one vector index."""
        if isinstance(key, Key):
            key = key.name
        if config is None and key is None:
            raise ValueError(
                "Cannot enable all index types globally. Must specify either config or key."
            )
        if key == EMBEDDING_KEY:
            raise ValueError(
                f"Cannot create index on special key '{key}'. This key is managed "
                "automatically by the system. Invoke create_index(VectorIndexConfig(...)) "
                "without specifying a key to configure the vector index globally."
            )
        self._check_key(key, config, "create")
        if isinstance(config, VectorIndexConfig):
            if key is not None:
                raise ValueError(
                    "Vector index cannot be enabled on specific keys. Use "
                    "create_index(config=VectorIndexConfig(...)) without specifying a key "
                    "to configure the vector index globally."
                )
            self._set_vector_index_config(config)
            return self
        if isinstance(config, FtsIndexConfig) and key != DOCUMENT_KEY:
            raise ValueError(
                "FTS index can only be enabled on #document key. "
                "Use create_index(config=FtsIndexConfig(), key='#document')"
            )
        if isinstance(config, SparseVectorIndexConfig) and key is None:
            raise ValueError(
                "Sparse vector index must be created on a specific key. Please specify a "
                "key using: create_index(config=SparseVectorIndexConfig(...), "
                "key='your_key')"
            )
        if config is None:
            raise ValueError(
                f"Cannot enable all index types for key '{key}'. Please specify a specific "
                "index configuration."
            )
        if key is None:
            _set_index(self.defaults, config, True)
            return self
        if isinstance(config, SparseVectorIndexConfig):
            self._check_sparse_vector_index(key, config)
        _set_index(self.keys.setdefault(key, ValueTypes()), config, True)
        return self

    def delete_index(
        self, config: IndexConfig | None = None, key: str | Key | None = None
    ) -> Schema:
        """Turns an index off, for every key (``key=None``) or one key."""
        if isinstance(key, Key):
            key = key.name
        if config is None and key is None:
            raise ValueError("Cannot disable all indexes. Must specify either config or key.")
        if key == EMBEDDING_KEY:
            raise ValueError("Cannot modify #embedding. Currently not supported")
        self._check_key(key, config, "delete")
        if isinstance(config, VectorIndexConfig):
            raise ValueError("Deleting vector index is not currently supported.")
        if isinstance(config, SparseVectorIndexConfig):
            raise ValueError("Deleting sparse vector index is not currently supported.")
        if isinstance(config, FtsIndexConfig) and key != DOCUMENT_KEY:
            raise ValueError("Deleting FTS index is only supported on #document key.")
        if config is None:
            raise ValueError(
                f"Cannot disable all index types for key '{key}'. Please specify a specific "
                "index configuration."
            )
        if key is None:
            _set_index(self.defaults, config, False)
        else:
            _set_index(self.keys.setdefault(key, ValueTypes()), config, False)
        return self

    def set_cmek(self, cmek: Cmek | None) -> Schema:
        self.cmek = cmek
        return self

    def serialize_to_json(self) -> dict[str, Any]:
        """The schema as JSON, in the form chromadb sends and stores it."""
        record: dict[str, Any] = {
            "defaults": self._value_types_json(self.defaults),
            "keys": {key: self._value_types_json(v) for key, v in self.keys.items()},
        }
        if self.cmek is not None:
            record["cmek"] = self.cmek.to_dict()
        return record

    @classmethod
    def deserialize_from_json(cls, json_data: dict[str, Any]) -> Schema:
        """The schema of :meth:`serialize_to_json`'s form; embedding functions are rebuilt
        from the registry."""
        schema = cls.__new__(cls)
        schema.defaults = cls._value_types_from_json(json_data.get("defaults", {}))
        schema.keys = {
            key: cls._value_types_from_json(v) for key, v in json_data.get("keys", {}).items()
        }
        cmek = json_data.get("cmek")
        schema.cmek = Cmek.from_dict(cmek) if cmek is not None else None
        return schema

    @staticmethod
    def _value_types_json(value_types: ValueTypes) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for attribute, json_name in _VALUE_JSON_NAMES.items():
            value = getattr(value_types, attribute)
            if value is None:
                continue
            record[json_name] = {
                index_name: {"enabled": index.enabled, "config": _config_json(index.config)}
                for index_name, index in vars(value).items()
                if index is not None
            }
        return record

    @staticmethod
    def _value_types_from_json(record: dict[str, Any]) -> ValueTypes:
        value_types = ValueTypes()
        for config_class, (attribute, value_class, index_name, _) in _INDEX_SLOTS.items():
            value_record = record.get(_VALUE_JSON_NAMES[attribute])
            if value_record is None:
                continue
            if getattr(value_types, attribute) is None:
                setattr(value_types, attribute, value_class())
            index = value_record.get(index_name)
            if index is not None:
                config = _config_from_json(config_class, index.get("config", {}))
                _set_index(value_types, config, index.get("enabled", True))
        return value_types

    def _set_vector_index_config(self, config: VectorIndexConfig) -> None:
        """The vector configuration applies to the defaults and to ``#embedding``, whose
        index stays on and keeps its source (``#document``)."""
        defaults = self.defaults.float_list
        assert defaults is not None and defaults.vector_index is not None
        defaults.vector_index = VectorIndexType(defaults.vector_index.enabled, config)
        embedded = self.keys[EMBEDDING_KEY].float_list
        assert embedded is not None and embedded.vector_index is not None
        current = embedded.vector_index
        embedded.vector_index = VectorIndexType(
            current.enabled,
            VectorIndexConfig(
                space=config.space,
                embedding_function=config.embedding_function,
                source_key=current.config.source_key,
                hnsw=config.hnsw,
                spann=config.spann,
            ),
        )

    def _check_sparse_vector_index(self, key: str, config: SparseVectorIndexConfig) -> None:
        for other, value_types in self.keys.items():
            sparse = value_types.sparse_vector
            if (
                other != key
                and sparse is not None
                and sparse.sparse_vector_index is not None
                and sparse.sparse_vector_index.enabled
            ):
                raise ValueError(
                    f"Cannot enable sparse vector index on key '{key}'. A sparse vector "
                    f"index is already enabled on key '{other}'. Only one sparse vector "
                    "index is allowed per collection."
                )
        if config.source_key is not None and config.embedding_function is None:
            raise ValueError(
                "If source_key is provided then embedding_function must also be provided "
                f"since there is no default embedding function. Config: {config}"
            )


__all__ = [
    "BOOL_INVERTED_INDEX_NAME",
    "BOOL_VALUE_NAME",
    "DOCUMENT_KEY",
    "EMBEDDING_KEY",
    "FLOAT_INVERTED_INDEX_NAME",
    "FLOAT_LIST_VALUE_NAME",
    "FLOAT_VALUE_NAME",
    "FTS_INDEX_NAME",
    "HNSW_INDEX_NAME",
    "INT_INVERTED_INDEX_NAME",
    "INT_VALUE_NAME",
    "SPANN_INDEX_NAME",
    "SPARSE_VECTOR_INDEX_NAME",
    "SPARSE_VECTOR_TYPE_VALUE",
    "SPARSE_VECTOR_VALUE_NAME",
    "STRING_INVERTED_INDEX_NAME",
    "STRING_VALUE_NAME",
    "TYPE_KEY",
    "URI",
    "VECTOR_INDEX_NAME",
    "BoolInvertedIndexConfig",
    "BoolInvertedIndexType",
    "BoolValueType",
    "Cmek",
    "CmekProvider",
    "CollectionMetadata",
    "DataLoader",
    "DefaultEmbeddingFunction",
    "DeleteResult",
    "Documents",
    "Embeddable",
    "Embedding",
    "EmbeddingFunction",
    "Embeddings",
    "FloatInvertedIndexConfig",
    "FloatInvertedIndexType",
    "FloatListValueType",
    "FloatValueType",
    "FtsIndexConfig",
    "FtsIndexType",
    "GetResult",
    "HnswIndexConfig",
    "IDs",
    "Images",
    "Include",
    "IndexConfig",
    "IndexingStatus",
    "IntInvertedIndexConfig",
    "IntInvertedIndexType",
    "IntValueType",
    "LiteralValue",
    "Loadable",
    "Metadata",
    "Metadatas",
    "QueryResult",
    "ReadLevel",
    "Schema",
    "SearchResult",
    "SearchResultRow",
    "Space",
    "SpannIndexConfig",
    "SparseEmbeddingFunction",
    "SparseVector",
    "SparseVectorIndexConfig",
    "SparseVectorIndexType",
    "SparseVectorValueType",
    "SparseVectors",
    "StringInvertedIndexConfig",
    "StringInvertedIndexType",
    "StringValueType",
    "URIs",
    "UpdateCollectionMetadata",
    "UpdateMetadata",
    "ValueTypes",
    "VectorIndexConfig",
    "VectorIndexType",
    "Where",
    "WhereDocument",
    "validate_embedding_function",
    "validate_sparse_embedding_function",
    "validate_sparse_vectors",
]
