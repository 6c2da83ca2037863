"""The sparse embedding functions of chromadb 1.5.9's registry, beside chromadb's own: the
registry itself, each function's name, constructor and configuration, and what each does
with its model package (sentence-transformers, fastembed) or with Chroma Cloud's API.

Neither model package can fetch a model on this machine, so the model-backed functions run
on stand-in packages that answer like the real ones (torch-like rows, fastembed's
``SparseEmbedding``); chromadb's function runs on the same stand-in and must give the same
vectors. Chroma Cloud's SPLADE function talks to a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar

import chromadb.utils.embedding_functions as chroma_functions
import numpy as np
import pytest

import azurite
import azurite.embedding_functions as our_functions
from azurite.embedding_functions import (
    Bm25EmbeddingFunction,
    ChromaBm25EmbeddingFunction,
    ChromaCloudSpladeEmbeddingFunction,
    ChromaCloudSpladeEmbeddingModel,
    FastembedSparseEmbeddingFunction,
    HuggingFaceSparseEmbeddingFunction,
    register_sparse_embedding_function,
    sparse_known_embedding_functions,
)
from azurite.embedding_functions.sparse_base import SparseEmbeddingFunction

from .provider_server import API_KEY, ProviderServer

SPARSE_REGISTRY = sorted(chroma_functions.sparse_known_embedding_functions)


def as_columns(vectors: Any) -> list[tuple[list[int], list[float], Any]]:
    return [(list(v.indices), list(v.values), v.labels) for v in vectors]


# ---- the registry


def test_same_sparse_registry_as_chromadb() -> None:
    assert SPARSE_REGISTRY == [
        "bm25",
        "chroma-cloud-splade",
        "chroma_bm25",
        "fastembed_sparse",
        "huggingface_sparse",
    ]
    # In a fresh interpreter: other tests of this process register functions of their own.
    fresh = subprocess.run(
        [
            sys.executable,
            "-c",
            "import azurite.embedding_functions as f; "
            "print(' '.join(sorted(f.sparse_known_embedding_functions)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert fresh.stdout.split() == SPARSE_REGISTRY
    assert set(SPARSE_REGISTRY) <= set(sparse_known_embedding_functions)


def test_chromadb_import_paths() -> None:
    utils = azurite.utils.embedding_functions
    assert utils.ChromaBm25EmbeddingFunction is ChromaBm25EmbeddingFunction
    assert utils.sparse_known_embedding_functions is sparse_known_embedding_functions
    assert utils.register_sparse_embedding_function is register_sparse_embedding_function
    for name in (
        "ChromaBm25EmbeddingFunction",
        "ChromaCloudSpladeEmbeddingFunction",
        "Bm25EmbeddingFunction",
        "FastembedSparseEmbeddingFunction",
        "HuggingFaceSparseEmbeddingFunction",
    ):
        assert name in our_functions.get_builtins()
        assert name in chroma_functions.get_builtins()


def parameters(cls: Any) -> list[tuple[str, Any, Any]]:
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self"
    ]


def plain(default: Any) -> Any:
    """A default as comparable across the two packages (enum members by value)."""
    return default.value if hasattr(default, "value") else default


@pytest.mark.parametrize("key", SPARSE_REGISTRY)
def test_same_class_name_and_constructor(key: str) -> None:
    theirs = chroma_functions.sparse_known_embedding_functions[key]
    ours = sparse_known_embedding_functions[key]
    assert ours.__name__ == theirs.__name__
    assert ours.name() == theirs.name() == key
    assert [(n, k, plain(d)) for n, k, d in parameters(ours)] == [
        (n, k, plain(d)) for n, k, d in parameters(theirs)
    ]
    assert issubclass(ours, SparseEmbeddingFunction)


def test_registering_a_sparse_function() -> None:
    @register_sparse_embedding_function
    class Letters(SparseEmbeddingFunction[list[str]]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: list[str]) -> Any:
            return [azurite.SparseVector(indices=[len(t)], values=[1.0]) for t in input]

        @staticmethod
        def name() -> str:
            return "test_letters"

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> Letters:
            return Letters()

    try:
        assert sparse_known_embedding_functions["test_letters"] is Letters
        assert Letters().embed_query(["abc"]) == [azurite.SparseVector([3], [1.0])]
    finally:
        del sparse_known_embedding_functions["test_letters"]

    class Nameless:
        @staticmethod
        def name() -> str:
            raise RuntimeError("no name")

    with pytest.raises(ValueError, match="Failed to register sparse embedding function: no name"):
        register_sparse_embedding_function(Nameless)


def test_outputs_are_checked() -> None:
    class Unsorted(SparseEmbeddingFunction[list[str]]):
        def __init__(self) -> None:
            pass

        def __call__(self, input: list[str]) -> Any:
            return [{"indices": [2, 1], "values": [1.0, 1.0]} for _ in input]

        @staticmethod
        def name() -> str:
            return "unsorted"

        def get_config(self) -> dict[str, Any]:
            return {}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> Unsorted:
            return Unsorted()

    with pytest.raises(ValueError, match="Expected SparseVector instance, got dict"):
        Unsorted()(["a"])


# ---- functions whose package is missing


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("HuggingFaceSparseEmbeddingFunction", {"model_name": "naver/splade-v3", "device": "cpu"}),
        ("FastembedSparseEmbeddingFunction", {"model_name": "Qdrant/bm25"}),
        ("Bm25EmbeddingFunction", {}),
    ],
)
def test_missing_package_is_named_as_chromadb_names_it(
    name: str, arguments: dict[str, Any]
) -> None:
    messages = []
    for module in (our_functions, chroma_functions):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            with pytest.raises(ValueError) as error:
                getattr(module, name)(**arguments)
        messages.append(str(error.value))
    assert messages[0] == messages[1]
    assert "Please install it with `pip install" in messages[0]


# ---- stand-ins for the model packages


class TorchLikeRow:
    """A row as torch returns it: ``to_dense()`` then ``numpy()``."""

    def __init__(self, dense: np.ndarray) -> None:
        self._dense = dense

    def to_dense(self) -> TorchLikeRow:
        return self

    def numpy(self) -> np.ndarray:
        return self._dense


def weights(text: str, task: str, size: int = 32) -> np.ndarray:
    """A deterministic sparse row per text and task."""
    row = np.zeros(size, dtype=np.float32)
    for position, character in enumerate(text):
        row[(ord(character) * 7 + position + (task == "query")) % size] += 0.25
    return row


class SparseEncoder:
    """sentence-transformers' ``SparseEncoder`` as these functions use it."""

    created: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, model_name_or_path: str, device: str, **kwargs: Any) -> None:
        self.created.append({"model": model_name_or_path, "device": device, **kwargs})

    def encode_document(self, texts: list[str]) -> list[TorchLikeRow]:
        return [TorchLikeRow(weights(t, "document")) for t in texts]

    def encode_query(self, texts: list[str]) -> list[np.ndarray]:
        return [weights(t, "query") for t in texts]


class SparseEmbedding:
    """fastembed's answer: indices and values as numpy arrays, in no particular order."""

    def __init__(self, dense: np.ndarray) -> None:
        nonzero = np.nonzero(dense)[0][::-1]
        self.indices = nonzero
        self.values = dense[nonzero]


class FastembedModel:
    """fastembed's ``SparseTextEmbedding`` and ``Bm25``, as these functions use them."""

    created: ClassVar[list[tuple[tuple[Any, ...], dict[str, Any]]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.created.append((args, kwargs))

    def embed(self, texts: list[str]) -> Iterator[SparseEmbedding]:
        return (SparseEmbedding(weights(t, "document")) for t in texts)

    def query_embed(self, texts: list[str]) -> Iterator[SparseEmbedding]:
        return (SparseEmbedding(weights(t, "query")) for t in texts)


@pytest.fixture
def model_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    sentence_transformers = types.ModuleType("sentence_transformers")
    sentence_transformers.SparseEncoder = SparseEncoder  # type: ignore[attr-defined]
    fastembed = types.ModuleType("fastembed")
    fastembed.SparseTextEmbedding = FastembedModel  # type: ignore[attr-defined]
    sparse = types.ModuleType("fastembed.sparse")
    bm25 = types.ModuleType("fastembed.sparse.bm25")
    bm25.Bm25 = FastembedModel  # type: ignore[attr-defined]
    for name, module in [
        ("sentence_transformers", sentence_transformers),
        ("fastembed", fastembed),
        ("fastembed.sparse", sparse),
        ("fastembed.sparse.bm25", bm25),
    ]:
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(SparseEncoder, "created", [])
    monkeypatch.setattr(FastembedModel, "created", [])
    monkeypatch.setattr(HuggingFaceSparseEmbeddingFunction, "models", {})
    monkeypatch.setattr(chroma_functions.HuggingFaceSparseEmbeddingFunction, "models", {})


TEXTS = ["sparse retrieval", "SPLADE expands terms", ""]

MODEL_CASES = [
    ("HuggingFaceSparseEmbeddingFunction", {"model_name": "naver/splade-v3", "device": "cpu"}),
    (
        "HuggingFaceSparseEmbeddingFunction",
        {
            "model_name": "naver/splade-v3",
            "device": "cpu",
            "task": "query",
            "query_config": {"task": "document"},
            "trust_remote_code": False,
        },
    ),
    ("FastembedSparseEmbeddingFunction", {"model_name": "prithivida/Splade_PP_en_v1"}),
    (
        "FastembedSparseEmbeddingFunction",
        {
            "model_name": "Qdrant/bm25",
            "threads": 2,
            "cache_dir": "/tmp/models",
            "query_config": {"task": "query"},
        },
    ),
    ("Bm25EmbeddingFunction", {}),
    ("Bm25EmbeddingFunction", {"k": 0.9, "b": 0.4, "avg_len": 100.0, "task": "query"}),
]


@pytest.mark.usefixtures("model_packages")
@pytest.mark.parametrize(("name", "arguments"), MODEL_CASES)
def test_model_functions_match_chromadb(name: str, arguments: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ours = getattr(our_functions, name)(**arguments)
        created_by_ours = [*SparseEncoder.created, *FastembedModel.created]
        theirs = getattr(chroma_functions, name)(**arguments)
    # The model is made with the same arguments.
    assert [*SparseEncoder.created, *FastembedModel.created] == created_by_ours * 2
    assert as_columns(ours(TEXTS)) == as_columns(theirs(TEXTS))
    assert as_columns(ours.embed_query(TEXTS)) == as_columns(theirs.embed_query(TEXTS))
    for vector in ours(TEXTS[:2]):
        assert vector.indices == sorted(vector.indices) and vector.indices
    assert ours.get_config() == theirs.get_config()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        rebuilt = type(ours).build_from_config(ours.get_config())
    assert rebuilt.get_config() == ours.get_config()


@pytest.mark.usefixtures("model_packages")
def test_query_config_picks_the_query_task() -> None:
    function = HuggingFaceSparseEmbeddingFunction(
        model_name="m", device="cpu", query_config={"task": "query"}
    )
    (document,) = function(["abc"])
    (query,) = function.embed_query(["abc"])
    assert document.indices != query.indices
    bad = HuggingFaceSparseEmbeddingFunction(model_name="m", device="cpu", task="summary")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Invalid task: summary"):
        bad(["abc"])


@pytest.mark.usefixtures("model_packages")
def test_models_are_loaded_once_per_name() -> None:
    HuggingFaceSparseEmbeddingFunction(model_name="m", device="cpu")
    HuggingFaceSparseEmbeddingFunction(model_name="m", device="cpu")
    assert len(SparseEncoder.created) == 1


@pytest.mark.usefixtures("model_packages")
def test_keyword_arguments_must_be_json_values() -> None:
    with pytest.raises(ValueError, match="Keyword argument callback is not a primitive type"):
        FastembedSparseEmbeddingFunction(model_name="m", callback=print)


@pytest.mark.usefixtures("model_packages")
def test_bm25_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="Please use ChromaBm25EmbeddingFunction"):
        Bm25EmbeddingFunction()
    (args, kwargs) = FastembedModel.created[-1]
    assert (args, kwargs) == ((), {"model_name": "Qdrant/bm25"})


@pytest.mark.parametrize(
    ("cls", "config", "message"),
    [
        (HuggingFaceSparseEmbeddingFunction, {"device": "cpu"}, "'model_name' is a required"),
        (
            HuggingFaceSparseEmbeddingFunction,
            {"model_name": "m", "device": "cpu", "task": "rank"},
            "'rank' is not one of ['document', 'query'] at path 'task'",
        ),
        (
            FastembedSparseEmbeddingFunction,
            {"model_name": "m", "device_ids": [0, "1"]},
            "'1' is not of type 'integer' at path 'device_ids/1'",
        ),
        (
            FastembedSparseEmbeddingFunction,
            {"model_name": "m", "query_config": {"mode": "x"}},
            "Additional properties are not allowed ('mode' was unexpected) at path 'query_config'",
        ),
        (Bm25EmbeddingFunction, {"k": True}, "True is not of type 'number', 'null' at path 'k'"),
        (
            ChromaCloudSpladeEmbeddingFunction,
            {"api_key_env_var": "K", "model": "other/model"},
            "'other/model' is not one of ['prithivida/Splade_PP_en_v1'] at path 'model'",
        ),
    ],
)
def test_configs_are_validated_by_chromadbs_schemas(
    cls: Any, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as error:
        cls.validate_config(config)
    assert str(error.value).startswith(f"Config validation failed for schema '{cls.name()}': ")
    assert message in str(error.value)


def test_valid_configs_pass() -> None:
    HuggingFaceSparseEmbeddingFunction.validate_config(
        {"model_name": "m", "device": "cpu", "task": "query", "kwargs": {"batch_size": 4}}
    )
    FastembedSparseEmbeddingFunction.validate_config(
        {
            "model_name": "m",
            "threads": None,
            "device_ids": [0, 1],
            "query_config": {"task": "query"},
        }
    )
    Bm25EmbeddingFunction.validate_config({"k": 1.2, "token_max_length": 40})
    ChromaCloudSpladeEmbeddingFunction.validate_config(
        {"api_key_env_var": "CHROMA_API_KEY", "model": "prithivida/Splade_PP_en_v1"}
    )


# ---- Chroma Cloud's SPLADE function over HTTP


def splade_answer(body: dict[str, Any]) -> Any:
    """Chroma Cloud's answer shape: one object per text, entries in no particular order,
    word pieces only when asked for."""
    embeddings = []
    for text in body["texts"]:
        pieces = text.lower().split()
        indices = [sum(map(ord, piece)) * 31 % 30522 for piece in pieces][::-1]
        entry: dict[str, Any] = {
            "indices": indices,
            "values": [round(0.1 * (i + 1), 3) for i in range(len(indices))],
        }
        if body["fetch_tokens"] == "true":
            entry["labels"] = pieces[::-1]
        embeddings.append(entry)
    return {"embeddings": embeddings}


@pytest.fixture
def splade_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderServer]:
    server = ProviderServer({"/embed_sparse": splade_answer}, ("x-chroma-token", API_KEY))
    url = server.start()
    monkeypatch.setenv("CHROMA_EMBED_URL", url + "/")
    monkeypatch.setenv("CHROMA_API_KEY", API_KEY)
    yield server
    server.stop()


@pytest.mark.parametrize("include_tokens", [False, True])
def test_splade_matches_chromadb(splade_server: ProviderServer, include_tokens: bool) -> None:
    texts = ["hybrid search locally", "sparse vectors and rank fusion"]
    ours = ChromaCloudSpladeEmbeddingFunction(include_tokens=include_tokens)
    theirs = chroma_functions.ChromaCloudSpladeEmbeddingFunction(include_tokens=include_tokens)
    try:
        assert as_columns(ours(texts)) == as_columns(theirs(texts))
        assert as_columns(ours.embed_query(texts)) == as_columns(theirs.embed_query(texts))
    finally:
        ours.close()
        theirs.close()
    mine, chromas = splade_server.requests[0], splade_server.requests[1]
    assert mine.path == chromas.path == "/embed_sparse"
    assert mine.body == chromas.body
    assert mine.body["fetch_tokens"] == ("true" if include_tokens else "false")
    for header in ("x-chroma-token", "x-chroma-embedding-model"):
        assert mine.headers[header] == chromas.headers[header]


def test_splade_sends_nothing_for_no_texts(splade_server: ProviderServer) -> None:
    function = ChromaCloudSpladeEmbeddingFunction()
    assert function([]) == []
    assert splade_server.requests == []
    function.close()


def test_splade_config_round_trip(splade_server: ProviderServer) -> None:
    function = ChromaCloudSpladeEmbeddingFunction(include_tokens=True)
    config = function.get_config()
    assert config == {
        "api_key_env_var": "CHROMA_API_KEY",
        "model": "prithivida/Splade_PP_en_v1",
        "include_tokens": True,
    }
    assert API_KEY not in str(config)
    theirs = chroma_functions.ChromaCloudSpladeEmbeddingFunction(include_tokens=True)
    assert theirs.get_config() == config
    theirs.close()
    rebuilt = ChromaCloudSpladeEmbeddingFunction.build_from_config(config)
    assert rebuilt.get_config() == config
    assert rebuilt.model is ChromaCloudSpladeEmbeddingModel.SPLADE_PP_EN_V1
    with pytest.raises(ValueError, match="Updating 'model' is not supported"):
        function.validate_config_update(config, {"model": "x"})
    function.validate_config_update(config, {"include_tokens": True})
    for f in (function, rebuilt):
        f.close()


def chromadb_and_azurite_errors(call: Any) -> list[tuple[type[BaseException], str]]:
    errors = []
    for module in (our_functions, chroma_functions):
        function = module.ChromaCloudSpladeEmbeddingFunction()
        with pytest.raises(RuntimeError) as error:
            call(function)
        function.close()
        errors.append((type(error.value), str(error.value)))
    return errors


def test_splade_http_errors_read_as_chromadbs(splade_server: ProviderServer) -> None:
    splade_server.fail_with = (429, {"error": "rate limited"})
    ours, theirs = chromadb_and_azurite_errors(lambda f: f(["a"]))
    assert ours[1] == theirs[1]
    assert ours[1].startswith("Failed to get embeddings from Chroma Cloud API: HTTP 429 - ")


def test_splade_malformed_answers_read_as_chromadbs(splade_server: ProviderServer) -> None:
    splade_server.fail_with = (200, {"vectors": []})
    ours, theirs = chromadb_and_azurite_errors(lambda f: f(["a"]))
    assert ours[1] == theirs[1] == "Unexpected error calling Chroma Cloud API: 'embeddings'"


def test_splade_unreachable_server(splade_server: ProviderServer) -> None:
    splade_server.stop()
    ours, theirs = chromadb_and_azurite_errors(lambda f: f(["a"]))
    assert ours[1].startswith("Failed to get embeddings from Chroma Cloud API: ")
    assert ours[1] == theirs[1]


def test_splade_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_KEY", raising=False)
    messages = []
    for module in (our_functions, chroma_functions):
        with pytest.raises(ValueError) as error:
            module.ChromaCloudSpladeEmbeddingFunction(api_key_env_var="MY_KEY")
        messages.append(str(error.value))
    assert (
        messages[0]
        == messages[1]
        == ("API key not found in environment variable MY_KEY or in any existing client instances")
    )
