"""chromadb 1.5.9's own tests of ``ChromaBm25EmbeddingFunction``
(``chromadb/test/ef/test_chroma_bm25_embedding_function.py``, as its wheel ships it), run
on Azurite's function.

Those tests never reach a server, so the run of chromadb's suite against ``azurite run``
(tests/chroma_suite) would only exercise chromadb's own class. Here each test function of
that file runs unchanged with the names it imports from chromadb (the function, its stop
words, ``SparseVector``) bound to Azurite's.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import chromadb.test.ef.test_chroma_bm25_embedding_function as chroma_tests
import pytest

import azurite
from azurite.embedding_functions import bm25

AZURITE_NAMES = {
    "ChromaBm25EmbeddingFunction": bm25.ChromaBm25EmbeddingFunction,
    "DEFAULT_CHROMA_BM25_STOPWORDS": bm25.DEFAULT_CHROMA_BM25_STOPWORDS,
    "SparseVector": azurite.SparseVector,
}
TESTS = sorted(name for name in vars(chroma_tests) if name.startswith("test_"))


def on_azurite(test: Callable[..., Any]) -> Callable[..., Any]:
    """`test` with its module's names, chromadb's BM25 ones replaced by Azurite's."""
    namespace = {**vars(chroma_tests), **AZURITE_NAMES}
    return types.FunctionType(
        test.__code__, namespace, test.__name__, test.__defaults__, test.__closure__
    )


def test_the_file_has_chromadbs_tests() -> None:
    assert TESTS == [
        "test_comprehensive_tokenization_matches_reference",
        "test_config_round_trip",
        "test_embed_query_matches_call",
        "test_generates_embeddings_for_multiple_documents",
        "test_matches_rust_reference_values",
        "test_multithreaded_usage",
        "test_validate_config_update_allows_known_keys",
        "test_validate_config_update_rejects_unknown_keys",
    ]
    # Every test builds the function by the name that is rebound.
    for name in TESTS:
        assert "ChromaBm25EmbeddingFunction" in getattr(chroma_tests, name).__code__.co_names


@pytest.mark.parametrize("name", TESTS)
def test_chromadb_bm25_test_on_azurite(name: str) -> None:
    test = on_azurite(getattr(chroma_tests, name))
    assert test.__globals__["ChromaBm25EmbeddingFunction"] is bm25.ChromaBm25EmbeddingFunction
    test()
