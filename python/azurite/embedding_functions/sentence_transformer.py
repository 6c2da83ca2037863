"""Any sentence-transformers model, by Hugging Face name or local directory (optional
dependency: ``pip install sentence-transformers``)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from azurite.embedding_functions._optional import require
from azurite.embedding_functions.base import (
    Documents,
    EmbeddingFunction,
    Embeddings,
    Space,
    register_embedding_function,
)

_models: dict[tuple[str, str, str], Any] = {}
_models_lock = threading.Lock()


def _forbid_remote_code(kwargs: dict[str, Any]) -> None:
    if kwargs.get("trust_remote_code"):
        raise ValueError(
            "trust_remote_code is not allowed as a kwarg to prevent arbitrary remote code execution"
        )


@register_embedding_function
class SentenceTransformerEmbeddingFunction(EmbeddingFunction[Documents]):
    """Embeds with ``sentence_transformers.SentenceTransformer(model_name, device=...)``.

    Args:
        model_name: a model name on the Hugging Face hub, or a local model directory.
        device: torch device, ``"cpu"`` by default.
        normalize_embeddings: L2-normalise the vectors.
        **kwargs: passed to ``SentenceTransformer`` (``trust_remote_code`` is refused).
    """

    def __init__(
        self,
        model_name: str = "all-MiniLM-L6-v2",
        device: str = "cpu",
        normalize_embeddings: bool = False,
        **kwargs: Any,
    ) -> None:
        _forbid_remote_code(kwargs)
        self._module = require(
            "sentence_transformers", "sentence-transformers", "SentenceTransformerEmbeddingFunction"
        )
        self.model_name = model_name
        self.device = device
        self.normalize_embeddings = normalize_embeddings
        self.kwargs = kwargs

    def _model(self) -> Any:
        # One model per (name, device, options) per process: loading is slow.
        key = (self.model_name, self.device, repr(sorted(self.kwargs.items())))
        with _models_lock:
            if key not in _models:
                _models[key] = self._module.SentenceTransformer(
                    self.model_name, device=self.device, **self.kwargs
                )
            return _models[key]

    def __call__(self, input: Documents) -> Embeddings:
        vectors = self._model().encode(
            list(input), convert_to_numpy=True, normalize_embeddings=self.normalize_embeddings
        )
        return list(np.asarray(vectors, dtype=np.float32))

    def default_space(self) -> Space:
        return "cosine"

    @staticmethod
    def name() -> str:
        return "sentence_transformer"

    def get_config(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "device": self.device,
            "normalize_embeddings": self.normalize_embeddings,
            "kwargs": self.kwargs,
        }

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        _forbid_remote_code(config.get("kwargs") or {})

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SentenceTransformerEmbeddingFunction:
        return SentenceTransformerEmbeddingFunction(
            model_name=config["model_name"],
            device=config.get("device", "cpu"),
            normalize_embeddings=config.get("normalize_embeddings", False),
            **(config.get("kwargs") or {}),
        )
