"""chromadb 1.5.9's public names, module by module, exist in Azurite as the same kind of
object, and the entry points take the same arguments.

The names are read from chromadb's own modules: what each module defines or re-exports
from chromadb (not what it imports from the standard library or third parties). A name
that Azurite deliberately lacks is listed in ``GAPS`` with the reason.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
import types
import typing
from typing import Any

import chromadb
import chromadb.api.types
import chromadb.utils.embedding_functions
import pytest

import azurite
import azurite.utils.batch_utils
from azurite import EphemeralClient
from azurite.api.types import DOCUMENT_KEY, EMBEDDING_KEY

#: chromadb module -> the Azurite module that stands for it under ``import azurite as
#: chromadb``.
MODULES = {
    "chromadb": "azurite",
    "chromadb.api": "azurite.api",
    "chromadb.api.types": "azurite.api.types",
    "chromadb.config": "azurite.config",
    "chromadb.errors": "azurite.errors",
    "chromadb.types": "azurite.types",
    "chromadb.utils.embedding_functions": "azurite.utils.embedding_functions",
}

_SYSTEM = "chromadb's component system (System, Component), which Azurite does not have"
_PIPELINE = (
    "a step of chromadb's own record pipeline; Azurite validates in azurite.api.validation, "
    "with chromadb's messages, inside the calls that use it"
)

#: Names Azurite lacks on purpose, with the reason.
GAPS: dict[str, dict[str, str]] = {
    "chromadb": {
        "AsyncClientCreator": "chromadb's embedded async client; Azurite's async client is "
        "AsyncHttpClient",
        "IN_COLAB": "chromadb's check for Google Colab's old sqlite3, which Azurite does not use",
        "is_in_colab": "chromadb's check for Google Colab's old sqlite3",
        "is_client": "whether chromadb is the thin chromadb-client package",
        "logger": "chromadb's module logger",
    },
    "chromadb.api": {
        "BaseAPI": _SYSTEM,
        "ServerAPI": _SYSTEM,
        "AsyncBaseAPI": _SYSTEM,
        "AsyncServerAPI": _SYSTEM,
        "Component": _SYSTEM,
        "CollectionModel": "chromadb's pydantic model of a stored collection (internal)",
        "AttachedFunction": "Chroma Cloud's functions attached to collections",
    },
    "chromadb.api.types": {
        name: _PIPELINE
        for name in (
            "Parameter",
            "convert_list_embeddings_to_np",
            "convert_np_embeddings_to_list",
            "deserialize_metadata",
            "get_default_embeddable_record_set_fields",
            "is_document",
            "is_image",
            "maybe_cast_one_to_many",
            "normalize_base_record_set",
            "normalize_embeddings",
            "normalize_insert_record_set",
            "normalize_metadata",
            "normalize_metadatas",
            "optional_base64_strings_to_embeddings",
            "optional_embeddings_to_base64_strings",
            "pack_embedding_safely",
            "serialize_metadata",
            "validate_base_record_set",
            "validate_batch",
            "validate_documents",
            "validate_embeddings",
            "validate_filter_set",
            "validate_ids",
            "validate_images",
            "validate_include",
            "validate_insert_record_set",
            "validate_metadata",
            "validate_metadatas",
            "validate_n_results",
            "validate_record_set_contains_any",
            "validate_record_set_contains_one",
            "validate_record_set_for_embedding",
            "validate_update_metadata",
            "validate_where",
            "validate_where_document",
        )
    },
    "chromadb.config": {
        "Component": _SYSTEM,
        "System": _SYSTEM,
        "get_class": _SYSTEM,
        "get_fqn": _SYSTEM,
        "C": _SYSTEM,
        "T": _SYSTEM,
        "logger": "chromadb's module logger",
    },
    "chromadb.types": {
        name: "chromadb's internal records of its segments, log and configuration"
        for name in (
            "BaseModelJSONSerializable",
            "C",
            "T",
            "Collection",
            "CollectionAndSegments",
            "CollectionConfiguration",
            "Configurable",
            "ConfigurationInternal",
            "LogRecord",
            "MetadataEmbeddingRecord",
            "NamespacedName",
            "Operation",
            "OperationRecord",
            "OptionalArgument",
            "RequestVersionContext",
            "ScalarEncoding",
            "Schema",
            "Segment",
            "SegmentScope",
            "SeqId",
            "Unspecified",
            "VectorEmbeddingRecord",
            "VectorQuery",
            "VectorQueryResult",
            "collection_configuration_to_json",
            "load_collection_configuration_from_json",
        )
    },
}

#: chromadb functions that Azurite provides as classes of the same signature: calling
#: either builds the same client.
FACTORY_CLASSES = {("chromadb", "Client"), ("chromadb", "AdminClient")}


def _defined_names(module: types.ModuleType) -> set[str]:
    """The public names `module` defines, or re-exports from chromadb."""
    names: set[str] = set()
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chromadb"):
            names.update(alias.asname or alias.name for alias in node.names)
    return {
        name
        for name in names
        if not name.startswith("_")
        and name != "*"
        and not inspect.ismodule(getattr(module, name, None))
    }


def _is_embedding_function_class(value: Any) -> bool:
    return inspect.isclass(value) and value.__name__.endswith("EmbeddingFunction")


def kind(value: Any) -> str:
    if inspect.isclass(value):
        return "class"
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        return "function"
    if isinstance(value, typing.TypeVar):
        return "type variable"
    if isinstance(value, types.GenericAlias) or typing.get_origin(value) is not None:
        return "type alias"
    return f"constant {type(value).__name__}"


def _expected(chroma_module: str) -> list[str]:
    module = importlib.import_module(chroma_module)
    names = _defined_names(module)
    if chroma_module == "chromadb.utils.embedding_functions":
        # The providers part of this issue brings the remaining embedding functions.
        names = {n for n in names if not _is_embedding_function_class(getattr(module, n))}
    return sorted(names - set(GAPS.get(chroma_module, {})))


def test_every_name_of_chromadb_all_exists() -> None:
    assert len(chromadb.__all__) == 37
    missing = [name for name in chromadb.__all__ if not hasattr(azurite, name)]
    assert missing == []


@pytest.mark.parametrize("chroma_module", sorted(MODULES))
def test_public_names_exist_with_the_same_kind(chroma_module: str) -> None:
    chroma = importlib.import_module(chroma_module)
    ours = importlib.import_module(MODULES[chroma_module])
    expected = _expected(chroma_module)
    assert expected, "no public names found: the enumeration is broken"
    missing = [name for name in expected if not hasattr(ours, name)]
    assert missing == [], f"{MODULES[chroma_module]} lacks {missing}"
    different = {
        name: (kind(getattr(chroma, name)), kind(getattr(ours, name)))
        for name in expected
        if kind(getattr(chroma, name)) != kind(getattr(ours, name))
        and (chroma_module, name) not in FACTORY_CLASSES
    }
    assert different == {}


@pytest.mark.parametrize("chroma_module", sorted(GAPS))
def test_each_gap_is_a_public_name_of_chromadb(chroma_module: str) -> None:
    """The gap list names real chromadb names that Azurite still lacks, so that it shrinks
    rather than rots."""
    defined = _defined_names(importlib.import_module(chroma_module))
    assert sorted(set(GAPS[chroma_module]) - defined) == []
    ours = importlib.import_module(MODULES[chroma_module])
    assert sorted(name for name in GAPS[chroma_module] if hasattr(ours, name)) == []


# ---- signatures of the entry points


def _parameters(function: Any) -> list[tuple[str, Any, Any]]:
    """Names, kinds and defaults, with chromadb's default embedding function (an instance
    of its own class) compared by class name."""

    def default(value: Any) -> Any:
        if value is inspect.Parameter.empty or isinstance(
            value, (str, int, float, bool, type(None))
        ):
            return value
        if isinstance(value, list):
            return list(value)
        return type(value).__name__

    signature = inspect.signature(function)
    return [
        (p.name, p.kind, default(p.default))
        for p in signature.parameters.values()
        if p.name != "self"
    ]


FACTORIES = [
    "Client",
    "EphemeralClient",
    "PersistentClient",
    "HttpClient",
    "AsyncHttpClient",
    "AdminClient",
    "CloudClient",
    "RustClient",
]


@pytest.mark.parametrize("name", FACTORIES)
def test_client_factories_take_chromadb_arguments(name: str) -> None:
    ours = [p[0] for p in _parameters(getattr(azurite, name))]
    theirs = [p[0] for p in _parameters(getattr(chromadb, name))]
    assert ours == theirs


CLIENT_METHODS = [
    "heartbeat",
    "get_version",
    "get_max_batch_size",
    "reset",
    "list_collections",
    "count_collections",
    "create_collection",
    "get_collection",
    "get_or_create_collection",
    "get_collection_by_id",
    "delete_collection",
    "set_tenant",
    "set_database",
]

COLLECTION_METHODS = [
    "add",
    "update",
    "upsert",
    "delete",
    "count",
    "get",
    "peek",
    "query",
    "modify",
    "fork",
    "search",
]


@pytest.mark.parametrize("method", CLIENT_METHODS)
def test_client_methods_take_chromadb_arguments_in_chromadb_order(method: str) -> None:
    ours = [p[0] for p in _parameters(getattr(azurite.ClientAPI, method))]
    theirs = [p[0] for p in _parameters(getattr(chromadb.ClientAPI, method))]
    assert ours == theirs


@pytest.mark.parametrize("method", COLLECTION_METHODS)
def test_collection_methods_take_chromadb_arguments_in_chromadb_order(method: str) -> None:
    ours = [p[0] for p in _parameters(getattr(azurite.Collection, method))]
    theirs = [p[0] for p in _parameters(getattr(chromadb.Collection, method))]
    assert ours == theirs


# ---- behaviour of what this surface adds


def test_utils_submodules_are_reachable_after_import_as_chromadb() -> None:
    assert azurite.utils.embedding_functions.DefaultEmbeddingFunction is (
        azurite.embedding_functions.DefaultEmbeddingFunction
    )
    assert azurite.utils.data_loaders.ImageLoader is azurite.data_loaders.ImageLoader
    assert azurite.utils.batch_utils.__name__ == "azurite.utils.batch_utils"


MODULE_PATHS = [
    "api.types",
    "api.models.Collection",
    "api.models.AsyncCollection",
    "api.collection_configuration",
    "types",
    "config",
    "errors",
    "auth.token_authn",
    "utils.embedding_functions",
    "utils.data_loaders",
    "utils.batch_utils",
    "execution.expression.operator",
    "execution.expression.plan",
]


def test_module_paths_are_attributes_after_import_as_chromadb() -> None:
    """``import azurite as chromadb`` alone makes ``chromadb.api.types`` and the others
    reachable as attributes, as ``import chromadb`` does (checked in a fresh process,
    where no test has imported the submodules)."""
    program = (
        "import functools, azurite as chromadb\n"
        f"for path in {MODULE_PATHS!r}:\n"
        "    functools.reduce(getattr, path.split('.'), chromadb)\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True)


def test_module_paths_that_integrations_import() -> None:
    from azurite.api import ClientAPI, CreateCollectionConfiguration
    from azurite.api.models.AsyncCollection import AsyncCollection
    from azurite.api.models.Collection import Collection
    from azurite.api.types import Documents, EmbeddingFunction, OneOrMany, Where

    assert Collection is azurite.Collection
    assert AsyncCollection is azurite.api.collection.AsyncCollection
    assert ClientAPI is azurite.api.client.ClientAPI
    assert CreateCollectionConfiguration.__annotations__.keys() == {
        "hnsw",
        "spann",
        "embedding_function",
    }
    assert (Documents, Where) == (azurite.Documents, azurite.Where)
    assert OneOrMany[int] == typing.Union[int, list[int]]
    assert EmbeddingFunction is azurite.EmbeddingFunction
    # Chroma's documentation imports the Search expressions from their own modules.
    from azurite.execution.expression.operator import Knn, Limit
    from azurite.execution.expression.plan import Search

    assert (Search, Knn, Limit) == (azurite.Search, azurite.Knn, azurite.api.Limit)


class BatchLimit:
    def __init__(self, size: int) -> None:
        self.size = size

    def get_max_batch_size(self) -> int:
        return self.size


def test_create_batches_splits_by_the_clients_max_batch_size() -> None:
    ids = [str(i) for i in range(5)]
    embeddings = [[float(i)] for i in range(5)]
    documents = [f"d{i}" for i in range(5)]
    batches = azurite.utils.batch_utils.create_batches(
        BatchLimit(2), ids, embeddings, None, documents
    )
    assert batches == [
        (["0", "1"], [[0.0], [1.0]], None, ["d0", "d1"]),
        (["2", "3"], [[2.0], [3.0]], None, ["d2", "d3"]),
        (["4"], [[4.0]], None, ["d4"]),
    ]
    whole = azurite.utils.batch_utils.create_batches(BatchLimit(5), ids, None, [], documents)
    assert whole == [(ids, None, [], documents)]


def test_create_batches_matches_chromadb_on_a_real_client() -> None:
    from chromadb.utils.batch_utils import create_batches as chroma_create_batches

    client = EphemeralClient(azurite.Settings(allow_reset=True))
    ids = [str(i) for i in range(client.get_max_batch_size() + 3)]
    ours = azurite.utils.batch_utils.create_batches(client, ids)
    theirs = chroma_create_batches(BatchLimit(client.get_max_batch_size()), ids)  # type: ignore[arg-type]
    assert ours == theirs and len(ours) == 2


def test_version_is_chromadbs_and_azurites_own_stays_visible() -> None:
    assert azurite.__version__ == chromadb.__version__ == "1.5.9"
    assert azurite.__azurite_version__ == azurite._core.__version__
    assert azurite.__azurite_version__ != azurite.__version__


def test_search_expressions_build_and_serialize_and_searching_says_it_is_not_available() -> None:
    from azurite import K, Knn, Rrf, Search
    from azurite.api import And, Eq, Gte, Limit, Mul, Select, Sum, Val

    where = (K("year") >= 2020) & (K("kind") == "paper")
    assert where == And([Gte("year", 2020), Eq("kind", "paper")])
    rank = Rrf([Knn(query="text", return_rank=True), Knn(query=[0.1, 0.2])], k=60)
    assert rank.k == 60 and Knn(query=[0.1]).key is K.EMBEDDING
    assert Knn(query=[0.1]) * 2 + 1 == Sum([Mul([Knn(query=[0.1]), Val(2)]), Val(1)])
    search = Search().where(where).rank(rank).limit(10).select(K.DOCUMENT, "title")
    assert Search().limit(10, 5)._limit == Limit(offset=5, limit=10)
    assert search._select == Select({K.DOCUMENT, "title"})
    with pytest.raises(ValueError, match="at least one rank"):
        Rrf([]).to_dict()
    assert search.to_dict()["limit"] == {"offset": 0, "limit": 10}


def test_cloud_client_says_it_is_not_available() -> None:
    with pytest.raises(NotImplementedError, match=r"CloudClient .* not yet available in Azurite"):
        azurite.CloudClient(api_key="key")


def test_schema_builds_as_chromadbs_does() -> None:
    """The index toggles chromadb's Schema records for the same calls."""

    def toggles(schema: Any) -> dict[str, Any]:
        def of(value_types: Any) -> dict[str, Any]:
            found = {}
            for value_name in (
                "string",
                "float_list",
                "sparse_vector",
                "int_value",
                "float_value",
                "boolean",
            ):
                value = getattr(value_types, value_name)
                if value is None:
                    continue
                for index_name, index in vars(value).items():
                    if index is not None:
                        found[f"{value_name}.{index_name}"] = index.enabled
            return found

        return {"defaults": of(schema.defaults), **{k: of(v) for k, v in schema.keys.items()}}

    def build(module: Any) -> Any:
        return (
            module.Schema()
            .create_index(config=module.VectorIndexConfig(space="cosine", embedding_function=None))
            .delete_index(config=module.StringInvertedIndexConfig(), key="title")
            .create_index(config=module.IntInvertedIndexConfig(), key="year")
            .delete_index(config=module.FloatInvertedIndexConfig())
            .delete_index(config=module.FtsIndexConfig(), key=DOCUMENT_KEY)
        )

    ours, theirs = build(azurite), build(chromadb)
    assert toggles(ours) == toggles(theirs)
    vector = ours.keys[EMBEDDING_KEY].float_list.vector_index.config
    assert (vector.space, vector.source_key) == ("cosine", DOCUMENT_KEY)


SCHEMAS = [
    lambda m: m.Schema(),
    lambda m: m.Schema().create_index(
        config=m.VectorIndexConfig(space="ip", hnsw=m.HnswIndexConfig(ef_search=20))
    ),
    lambda m: (
        m.Schema()
        .create_index(config=m.VectorIndexConfig(embedding_function=None))
        .create_index(config=m.IntInvertedIndexConfig(), key="year")
        .delete_index(config=m.BoolInvertedIndexConfig())
        .set_cmek(m.Cmek.gcp("projects/p/locations/l/keyRings/r/cryptoKeys/k"))
    ),
]


@pytest.mark.parametrize("build", SCHEMAS)
def test_schema_json_is_chromadbs(build: Any) -> None:
    theirs = build(chromadb).serialize_to_json()
    assert build(azurite).serialize_to_json() == theirs
    read_back = azurite.Schema.deserialize_from_json(theirs)
    assert read_back.serialize_to_json() == theirs
    assert read_back == azurite.Schema.deserialize_from_json(theirs)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.Schema().create_index(),
        lambda m: m.Schema().create_index(config=m.FtsIndexConfig(), key="title"),
        lambda m: m.Schema().create_index(config=m.VectorIndexConfig(), key="title"),
        lambda m: m.Schema().create_index(config=m.IntInvertedIndexConfig(), key="#year"),
        lambda m: m.Schema().create_index(config=m.IntInvertedIndexConfig(), key=EMBEDDING_KEY),
        lambda m: m.Schema().create_index(config=m.SparseVectorIndexConfig()),
        lambda m: m.Schema().create_index(key="title"),
        lambda m: m.Schema().delete_index(),
        lambda m: m.Schema().delete_index(config=m.VectorIndexConfig()),
        lambda m: m.Schema().delete_index(config=m.FtsIndexConfig()),
        lambda m: m.Schema().delete_index(config=m.IntInvertedIndexConfig(), key=DOCUMENT_KEY),
        lambda m: m.Schema().delete_index(key="title"),
    ],
)
def test_schema_refuses_what_chromadb_refuses_with_its_message(call: Any) -> None:
    with pytest.raises(ValueError) as theirs:
        call(chromadb)
    with pytest.raises(ValueError) as ours:
        call(azurite)
    assert str(ours.value) == str(theirs.value)


def test_sparse_vector_checks_as_chromadb() -> None:
    assert azurite.SparseVector([1, 3], [0.5, 1.0]).to_dict() == (
        chromadb.SparseVector([1, 3], [0.5, 1.0]).to_dict()
    )
    for indices, values in (([3, 1], [0.5, 1.0]), ([1], [0.5, 1.0]), ([-1], [1.0])):
        with pytest.raises(ValueError) as theirs:
            chromadb.SparseVector(indices, values)
        with pytest.raises(ValueError) as ours:
            azurite.SparseVector(indices, values)
        assert str(ours.value) == str(theirs.value)


def test_result_types_have_chromadbs_fields() -> None:
    for name in ("GetResult", "QueryResult"):
        ours = typing.get_type_hints(getattr(azurite, name))
        theirs = typing.get_type_hints(getattr(chromadb.api.types, name))
        assert list(ours) == list(theirs)
    assert [m.value for m in azurite.ReadLevel] == [m.value for m in chromadb.api.types.ReadLevel]
    assert azurite.TokenTransportHeader.X_CHROMA_TOKEN == "X-Chroma-Token"


@pytest.mark.parametrize("name", ["HnswIndexConfig", "SpannIndexConfig", "VectorIndexConfig"])
def test_index_configs_take_keywords_only_and_refuse_unknown_fields(name: str) -> None:
    for module in (chromadb, azurite):
        config_class = getattr(module, name)
        with pytest.raises(ValueError):
            config_class(unknown_field=1)
        with pytest.raises(TypeError):
            config_class(5)
    assert azurite.HnswIndexConfig(ef_search=5, max_neighbors=8).model_dump() == (
        chromadb.HnswIndexConfig(ef_search=5, max_neighbors=8).model_dump()
    )
    assert azurite.SpannIndexConfig(search_nprobe=4).model_dump(exclude_none=True) == (
        chromadb.SpannIndexConfig(search_nprobe=4).model_dump(exclude_none=True)
    )


def test_rust_client_is_persistent_with_a_path_and_ephemeral_without(tmp_path: Any) -> None:
    with azurite.RustClient(path=str(tmp_path / "db")) as persistent:
        persistent.get_or_create_collection("kept", embedding_function=None)
    with azurite.PersistentClient(path=str(tmp_path / "db")) as reopened:
        assert [c.name for c in reopened.list_collections()] == ["kept"]
    ephemeral = azurite.RustClient(settings=azurite.Settings(allow_reset=True))
    assert ephemeral.get_settings().is_persistent is False


ADMIN_METHODS = [
    "create_tenant",
    "get_tenant",
    "create_database",
    "get_database",
    "delete_database",
    "list_databases",
]


@pytest.mark.parametrize(
    ("ours", "theirs", "method"),
    [("AsyncClientAPI", "AsyncClientAPI", m) for m in CLIENT_METHODS]
    + [("AdminAPI", "AdminAPI", m) for m in ADMIN_METHODS]
    + [("AsyncCollection", "AsyncCollection", m) for m in COLLECTION_METHODS],
)
def test_async_and_admin_methods_take_chromadb_arguments(
    ours: str, theirs: str, method: str
) -> None:
    from chromadb.api.models.AsyncCollection import AsyncCollection

    chroma_classes = {**vars(chromadb), "AsyncCollection": AsyncCollection}
    ours_names = [p[0] for p in _parameters(getattr(getattr(azurite.api, ours), method))]
    theirs_names = [p[0] for p in _parameters(getattr(chroma_classes[theirs], method))]
    assert ours_names == theirs_names


def test_configure_replaces_the_default_settings_as_chromadb_does() -> None:
    try:
        for module in (azurite, chromadb):
            module.configure(allow_reset=True, chroma_server_http_port=8123)
            configured = module.get_settings()
            assert (configured.allow_reset, configured.chroma_server_http_port) == (True, 8123)
            assert module.get_settings() is configured
    finally:
        # Back to the defaults both modules start with: the environment's.
        azurite.configure()
        chromadb.configure()
