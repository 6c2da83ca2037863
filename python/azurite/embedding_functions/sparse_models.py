"""Sparse embedding functions that run a model in this process, as chromadb 1.5.9 has
them: SPLADE-style encoders of sentence-transformers (``HuggingFaceSparseEmbeddingFunction``)
and fastembed's sparse models (``FastembedSparseEmbeddingFunction``, and the deprecated
``Bm25EmbeddingFunction`` on fastembed's ``Qdrant/bm25``).

Each imports its package when it is created and says which one to install when it is
missing; the models themselves are fetched by those packages.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar, Literal, TypedDict

import numpy as np

from azurite.base_types import SparseVector, SparseVectors
from azurite.embedding_functions.base import Documents
from azurite.embedding_functions.sparse_base import (
    ConfigField,
    SparseEmbeddingFunction,
    check_config,
    import_package,
    register_sparse_embedding_function,
    sorted_sparse_vector,
)

TaskType = Literal["document", "query"]
_TASKS = ("document", "query")

#: The JSON types chromadb's schemas allow for the values of ``kwargs``.
_KWARG_TYPES = ("string", "integer", "number", "boolean", "array", "object")
_TASK = ConfigField(("string",), choices=_TASKS)
_QUERY_CONFIG = ConfigField(("object",), keys={"task": _TASKS})
_KWARGS = ConfigField(("object",), items=_KWARG_TYPES)


class HuggingFaceSparseEmbeddingFunctionQueryConfig(TypedDict):
    task: TaskType


class FastembedSparseEmbeddingFunctionQueryConfig(TypedDict):
    task: TaskType


class Bm25EmbeddingFunctionQueryConfig(TypedDict):
    task: TaskType


def _primitive_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments go into the stored configuration, so they must be JSON values."""
    for key, value in kwargs.items():
        if not isinstance(value, (str, int, float, bool, list, dict, tuple)):
            raise ValueError(f"Keyword argument {key} is not a primitive type")
    return kwargs


def _query_task(query_config: Any) -> str | None:
    return None if query_config is None else query_config.get("task")


class _TaskEncoder(SparseEmbeddingFunction[Documents]):
    """What these functions share: a document or query task chosen when the function is
    made, and a query configuration that may pick another task for ``embed_query``."""

    task: str | None
    query_config: Any

    @abstractmethod
    def _encode(self, texts: list[str], task: str | None) -> SparseVectors:
        """The vectors of `texts` for the document or query `task`."""

    def __call__(self, input: Documents) -> SparseVectors:
        if _invalid_task(self.task):
            raise ValueError(f"Invalid task: {self.task}")
        return self._encode(list(input), self.task)

    def embed_query(self, input: Documents) -> SparseVectors:
        if self.query_config is None:
            return self(input)
        task = _query_task(self.query_config)
        if _invalid_task(task):
            raise ValueError(f"Invalid task: {task}")
        return self._encode(list(input), task)

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        """Every key may change: a model named by a local path may move."""


def _invalid_task(task: str | None) -> bool:
    return task not in _TASKS


def _from_dense(row: Any) -> SparseVector:
    """The non-zero entries of one encoder output row (a torch tensor, sparse or dense, or
    anything numpy reads)."""
    if hasattr(row, "to_dense"):
        dense = row.to_dense().numpy()
    elif hasattr(row, "numpy"):
        dense = row.numpy()
    else:
        dense = np.array(row)
    nonzero = np.where(dense != 0)[0]
    return sorted_sparse_vector(nonzero.tolist(), dense[nonzero].tolist())


@register_sparse_embedding_function
class HuggingFaceSparseEmbeddingFunction(_TaskEncoder):
    """A sentence-transformers ``SparseEncoder`` (SPLADE models such as
    ``prithivida/Splade_PP_en_v1`` or ``naver/splade-v3``) on `device`; `kwargs` go to the
    encoder. Models are loaded once per process, by name."""

    models: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        model_name: str,
        device: str,
        task: TaskType | None = "document",
        query_config: HuggingFaceSparseEmbeddingFunctionQueryConfig | None = None,
        **kwargs: Any,
    ) -> None:
        sentence_transformers = import_package("sentence_transformers", "sentence_transformers")
        self.model_name = model_name
        self.device = device
        self.task = task
        self.query_config = query_config
        self.kwargs = _primitive_kwargs(kwargs)
        if model_name not in self.models:
            self.models[model_name] = sentence_transformers.SparseEncoder(
                model_name_or_path=model_name, device=device, **kwargs
            )
        self._model = self.models[model_name]

    def _encode(self, texts: list[str], task: str | None) -> SparseVectors:
        import_package("sentence_transformers", "sentence_transformers")
        encode = self._model.encode_document if task == "document" else self._model.encode_query
        return [_from_dense(row) for row in encode(texts)]

    @staticmethod
    def name() -> str:
        return "huggingface_sparse"

    def get_config(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "device": self.device,
            "task": self.task,
            "query_config": self.query_config,
            "kwargs": self.kwargs,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HuggingFaceSparseEmbeddingFunction:
        for key in ("model_name", "device"):
            if config.get(key) is None:
                raise ValueError(f"{key} must be provided in config")
        return HuggingFaceSparseEmbeddingFunction(
            model_name=config["model_name"],
            device=config["device"],
            task=config.get("task"),
            query_config=config.get("query_config"),
            **(config.get("kwargs") or {}),
        )

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        check_config(
            "huggingface_sparse",
            config,
            {
                "model_name": ConfigField(("string",)),
                "device": ConfigField(("string",)),
                "task": _TASK,
                "query_config": _QUERY_CONFIG,
                "kwargs": _KWARGS,
            },
            required=("model_name", "device"),
        )


def _from_fastembed(rows: Iterable[Any]) -> SparseVectors:
    """fastembed yields ``SparseEmbedding``s: numpy arrays of indices and values."""
    return [sorted_sparse_vector(row.indices.tolist(), row.values.tolist()) for row in rows]


@register_sparse_embedding_function
class FastembedSparseEmbeddingFunction(_TaskEncoder):
    """A fastembed ``SparseTextEmbedding`` model (``Qdrant/bm25``,
    ``prithivida/Splade_PP_en_v1``, ``Qdrant/minicoil-v1``, ...), with fastembed's own
    options; `kwargs` go to the model."""

    def __init__(
        self,
        model_name: str,
        task: TaskType | None = "document",
        cache_dir: str | None = None,
        threads: int | None = None,
        cuda: bool | None = None,
        device_ids: list[int] | None = None,
        lazy_load: bool | None = None,
        query_config: FastembedSparseEmbeddingFunctionQueryConfig | None = None,
        **kwargs: Any,
    ) -> None:
        fastembed = import_package("fastembed", "fastembed")
        self.task = task
        self.query_config = query_config
        self.model_name = model_name
        self.cache_dir = cache_dir
        self.threads = threads
        self.cuda = cuda
        self.device_ids = device_ids
        self.lazy_load = lazy_load
        self.kwargs = _primitive_kwargs(kwargs)
        # fastembed's own order of these arguments.
        self._model = fastembed.SparseTextEmbedding(
            model_name, cache_dir, threads, cuda, device_ids, lazy_load, **kwargs
        )

    def _encode(self, texts: list[str], task: str | None) -> SparseVectors:
        import_package("fastembed", "fastembed")
        encode = self._model.embed if task == "document" else self._model.query_embed
        return _from_fastembed(encode(texts))

    @staticmethod
    def name() -> str:
        return "fastembed_sparse"

    def get_config(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "task": self.task,
            "query_config": self.query_config,
            "cache_dir": self.cache_dir,
            "threads": self.threads,
            "cuda": self.cuda,
            "device_ids": self.device_ids,
            "lazy_load": self.lazy_load,
            "kwargs": self.kwargs,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> FastembedSparseEmbeddingFunction:
        if config.get("model_name") is None:
            raise ValueError("model_name must be provided in config")
        return FastembedSparseEmbeddingFunction(
            model_name=config["model_name"],
            task=config.get("task"),
            query_config=config.get("query_config"),
            cache_dir=config.get("cache_dir"),
            threads=config.get("threads"),
            cuda=config.get("cuda"),
            device_ids=config.get("device_ids"),
            lazy_load=config.get("lazy_load"),
            **(config.get("kwargs") or {}),
        )

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        check_config(
            "fastembed_sparse",
            config,
            {
                "model_name": ConfigField(("string",)),
                "task": _TASK,
                "query_config": _QUERY_CONFIG,
                "cache_dir": ConfigField(("string", "null")),
                "threads": ConfigField(("integer", "null")),
                "cuda": ConfigField(("boolean", "null")),
                "device_ids": ConfigField(("array", "null"), items=("integer",)),
                "lazy_load": ConfigField(("boolean", "null")),
                "kwargs": _KWARGS,
            },
            required=("model_name",),
        )


@register_sparse_embedding_function
class Bm25EmbeddingFunction(_TaskEncoder):
    """fastembed's ``Qdrant/bm25`` model. Deprecated in chromadb in favour of
    :class:`~azurite.embedding_functions.ChromaBm25EmbeddingFunction`, which needs no
    model files; options left as None keep fastembed's defaults."""

    def __init__(
        self,
        avg_len: float | None = None,
        task: TaskType | None = "document",
        cache_dir: str | None = None,
        k: float | None = None,
        b: float | None = None,
        language: str | None = None,
        token_max_length: int | None = None,
        disable_stemmer: bool | None = None,
        specific_model_path: str | None = None,
        query_config: Bm25EmbeddingFunctionQueryConfig | None = None,
        **kwargs: Any,
    ) -> None:
        warnings.warn(
            "Bm25EmbeddingFunction is deprecated. Please use ChromaBm25EmbeddingFunction instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        bm25 = import_package("fastembed.sparse.bm25", "fastembed")
        self.task = task
        self.query_config = query_config
        self.cache_dir = cache_dir
        self.k = k
        self.b = b
        self.avg_len = avg_len
        self.language = language
        self.token_max_length = token_max_length
        self.disable_stemmer = disable_stemmer
        self.specific_model_path = specific_model_path
        self.kwargs = _primitive_kwargs(kwargs)
        options = {
            "cache_dir": cache_dir,
            "k": k,
            "b": b,
            "avg_len": avg_len,
            "language": language,
            "token_max_length": token_max_length,
            "disable_stemmer": disable_stemmer,
            "specific_model_path": specific_model_path,
            **kwargs,
        }
        given = {key: value for key, value in options.items() if value is not None}
        self._model = bm25.Bm25(model_name="Qdrant/bm25", **given)

    def _encode(self, texts: list[str], task: str | None) -> SparseVectors:
        import_package("fastembed.sparse.bm25", "fastembed")
        encode = self._model.embed if task == "document" else self._model.query_embed
        return _from_fastembed(encode(texts))

    @staticmethod
    def name() -> str:
        return "bm25"

    def get_config(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "query_config": self.query_config,
            "cache_dir": self.cache_dir,
            "k": self.k,
            "b": self.b,
            "avg_len": self.avg_len,
            "language": self.language,
            "token_max_length": self.token_max_length,
            "disable_stemmer": self.disable_stemmer,
            "specific_model_path": self.specific_model_path,
            "kwargs": self.kwargs,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Bm25EmbeddingFunction:
        return Bm25EmbeddingFunction(
            task=config.get("task"),
            query_config=config.get("query_config"),
            cache_dir=config.get("cache_dir"),
            k=config.get("k"),
            b=config.get("b"),
            avg_len=config.get("avg_len"),
            language=config.get("language"),
            token_max_length=config.get("token_max_length"),
            disable_stemmer=config.get("disable_stemmer"),
            specific_model_path=config.get("specific_model_path"),
            **(config.get("kwargs") or {}),
        )

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        nullable_number = ConfigField(("number", "null"))
        nullable_string = ConfigField(("string", "null"))
        check_config(
            "bm25",
            config,
            {
                "task": _TASK,
                "query_config": _QUERY_CONFIG,
                "cache_dir": nullable_string,
                "k": nullable_number,
                "b": nullable_number,
                "avg_len": nullable_number,
                "language": nullable_string,
                "token_max_length": ConfigField(("integer", "null")),
                "disable_stemmer": ConfigField(("boolean", "null")),
                "specific_model_path": nullable_string,
                "kwargs": _KWARGS,
            },
        )
