"""Small deterministic embedding functions for tests: real implementations of the
protocol, cheap enough to call anywhere."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from azurite.embedding_functions import EmbeddingFunction, register_embedding_function


def hashed_vector(text: str, dimension: int) -> np.ndarray:
    """A unit vector that depends only on the text."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dimension).astype(np.float32)
    return vector / np.linalg.norm(vector)


@register_embedding_function
class HashEmbedding(EmbeddingFunction[list[str]]):
    """Hashes each text to a unit vector; queries are embedded with a prefix so tests can
    tell ``embed_query`` from ``__call__``."""

    def __init__(self, dimension: int = 4) -> None:
        self.dimension = dimension
        self.calls: list[list[str]] = []

    def __call__(self, input: list[str]) -> list[list[float]]:
        self.calls.append(list(input))
        return [hashed_vector(text, self.dimension).tolist() for text in input]

    def embed_query(self, input: list[str]) -> Any:
        return [hashed_vector("query:" + text, self.dimension) for text in input]

    @staticmethod
    def name() -> str:
        return "test_hash"

    def get_config(self) -> dict[str, Any]:
        return {"dimension": self.dimension}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashEmbedding:
        return HashEmbedding(config["dimension"])

    def default_space(self) -> str:
        return "cosine"


@register_embedding_function
class OtherHashEmbedding(HashEmbedding):
    """Same vectors under another registered name."""

    @staticmethod
    def name() -> str:
        return "test_other_hash"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OtherHashEmbedding:
        return OtherHashEmbedding(config["dimension"])


class LegacyEmbedding:
    """An old-style function: callable with ``input``, but no name or config."""

    def __call__(self, input: list[str]) -> list[list[float]]:
        return [hashed_vector(text, 4).tolist() for text in input]
