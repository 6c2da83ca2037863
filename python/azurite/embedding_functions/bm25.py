"""Chroma's BM25 sparse embedding function, with chromadb 1.5.9's exact vectors.

A document becomes one entry per distinct term: the term's index is the absolute value of
its 32-bit MurmurHash3 (seed 0) and its weight is the BM25 term-frequency part,
``tf·(k+1) / (tf + k·(1 - b + b·|d|/avgdl))``, with ``|d|`` the number of terms kept in
the document and ``avgdl`` a fixed constant, not the collection's. The inverse document
frequency is not in the vector: a sparse index applies it when it is searched, over the
documents it holds.

Terms are made as chromadb makes them: every run of characters that are neither word
characters nor white space becomes a space, the text is lower-cased and split on white
space; stop words and words longer than ``token_max_length`` are dropped, and the rest
are reduced by the English Snowball stemmer (the ``snowballstemmer`` package).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Iterator
from importlib import resources
from typing import Any, TypedDict

from azurite.base_types import SparseVector, SparseVectors
from azurite.embedding_functions.base import Documents
from azurite.embedding_functions.sparse_base import (
    ConfigField,
    SparseEmbeddingFunction,
    check_config,
    import_package,
    register_sparse_embedding_function,
)

NAME = "chroma_bm25"

DEFAULT_K = 1.2
DEFAULT_B = 0.75
DEFAULT_AVG_DOC_LENGTH = 256.0
DEFAULT_TOKEN_MAX_LENGTH = 40

#: English stop words (those of NLTK's list, which chromadb uses), kept as data in
#: ``bm25_stopwords.txt``, in chromadb's order.
DEFAULT_CHROMA_BM25_STOPWORDS: list[str] = (
    resources.files("azurite.embedding_functions")
    .joinpath("bm25_stopwords.txt")
    .read_text("utf-8")
    .split()
)

_SEPARATORS = re.compile(r"[^\w\s]+")


class ChromaBm25Config(TypedDict, total=False):
    k: float
    b: float
    avg_doc_length: float
    token_max_length: int
    stopwords: list[str]
    include_tokens: bool


_local = threading.local()


def _snowball_stemmer() -> Any:
    """This thread's English stemmer: a Snowball stemmer keeps its state between the
    steps of a word, so threads cannot share one."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        snowballstemmer = import_package("snowballstemmer", "snowballstemmer")
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


@functools.lru_cache(maxsize=1 << 17)
def stem(word: str) -> str:
    """The English Snowball stem of `word`, without surrounding white space (words
    repeat far more than they vary, so stems are remembered)."""
    return str(_snowball_stemmer().stemWord(word)).strip()


def _murmur3() -> Any:
    return import_package("mmh3", "mmh3").hash


def terms(text: str, stopwords: frozenset[str], token_max_length: int) -> Iterator[str]:
    """The stemmed terms of `text`, in order, by chromadb's BM25 rules."""
    for word in _SEPARATORS.sub(" ", text).lower().split():
        if word in stopwords or len(word) > token_max_length:
            continue
        term = stem(word)
        if term:
            yield term


@register_sparse_embedding_function
class ChromaBm25EmbeddingFunction(SparseEmbeddingFunction[Documents]):
    """BM25 term weights computed locally, as chromadb's ``ChromaBm25EmbeddingFunction``:
    same terms, indices, weights (bit for bit) and labels. `stopwords` replaces the
    English list; `include_tokens` labels each entry with its term."""

    def __init__(
        self,
        k: float = DEFAULT_K,
        b: float = DEFAULT_B,
        avg_doc_length: float = DEFAULT_AVG_DOC_LENGTH,
        token_max_length: int = DEFAULT_TOKEN_MAX_LENGTH,
        stopwords: Iterable[str] | None = None,
        include_tokens: bool = False,
    ) -> None:
        self.k = float(k)
        self.b = float(b)
        self.avg_doc_length = float(avg_doc_length)
        self.token_max_length = int(token_max_length)
        self.include_tokens = bool(include_tokens)
        # Only a list given by the caller is part of the configuration.
        self.stopwords: list[str] | None = (
            None if stopwords is None else [str(word) for word in stopwords]
        )
        words = DEFAULT_CHROMA_BM25_STOPWORDS if self.stopwords is None else self.stopwords
        self._stopwords = frozenset(word.lower() for word in words)
        self._hash = _murmur3()
        # Fails now rather than at the first document if the stemmer is missing.
        _snowball_stemmer()

    def _vector(self, text: str) -> SparseVector:
        counts: dict[int, int] = {}
        labels: dict[int, str] = {}
        length = 0
        for term in terms(text, self._stopwords, self.token_max_length):
            length += 1
            # Two terms whose hashes have the same absolute value are one entry, labelled
            # with the first of them.
            index = abs(self._hash(term, seed=0))
            counts[index] = counts.get(index, 0) + 1
            labels.setdefault(index, term)
        if not length:
            return SparseVector(indices=[], values=[])
        k, b = self.k, self.b
        length_norm = k * (1 - b + (b * float(length)) / self.avg_doc_length)
        indices = sorted(counts)
        values = []
        for index in indices:
            tf = float(counts[index])
            values.append(tf * (k + 1) / (tf + length_norm))
        return SparseVector(
            indices=indices,
            values=values,
            labels=[labels[index] for index in indices] if self.include_tokens else None,
        )

    def __call__(self, input: Documents) -> SparseVectors:
        return [self._vector(document) for document in input or []]

    def embed_query(self, input: Documents) -> SparseVectors:
        return self(input)

    @staticmethod
    def name() -> str:
        return NAME

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "k": self.k,
            "b": self.b,
            "avg_doc_length": self.avg_doc_length,
            "token_max_length": self.token_max_length,
            "include_tokens": self.include_tokens,
        }
        if self.stopwords is not None:
            config["stopwords"] = list(self.stopwords)
        return config

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaBm25EmbeddingFunction:
        return ChromaBm25EmbeddingFunction(
            k=config.get("k", DEFAULT_K),
            b=config.get("b", DEFAULT_B),
            avg_doc_length=config.get("avg_doc_length", DEFAULT_AVG_DOC_LENGTH),
            token_max_length=config.get("token_max_length", DEFAULT_TOKEN_MAX_LENGTH),
            stopwords=config.get("stopwords"),
            include_tokens=config.get("include_tokens", False),
        )

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        for key in new_config:
            if key not in _CONFIG_FIELDS:
                raise ValueError(f"Updating '{key}' is not supported for {NAME}")

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        check_config(NAME, config, _CONFIG_FIELDS)


_CONFIG_FIELDS = {
    "k": ConfigField(("number",)),
    "b": ConfigField(("number",)),
    "avg_doc_length": ConfigField(("number",)),
    "token_max_length": ConfigField(("number",)),
    "stopwords": ConfigField(("array",), items=("string",)),
    "include_tokens": ConfigField(("boolean",)),
}
