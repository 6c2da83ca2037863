"""Azurite's default function against chromadb 1.5.9's own implementation, run on the same
model files: tokenisation, truncation, padding, pooling and normalisation must agree."""

from __future__ import annotations

from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.utils.embedding_functions import DefaultEmbeddingFunction as ChromaDefault
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

import azurite
from azurite.embedding_functions import DefaultEmbeddingFunction, _minilm_files

TEXTS = [
    "",
    "f",
    "foo",
    "Hello, world!",
    "naïve café \u2013 «quotes» and emoji 🎉",
    "数据库中的向量搜索",
    " ".join(f"token{i}" for i in range(600)),  # truncated at 256 tokens by both
    "the same words again " * 40,
]


@pytest.fixture
def chroma_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ChromaDefault:
    """chromadb's default function reading Azurite's model through a scratch cache
    directory, so the user's ~/.cache/chroma is neither read nor written."""
    (tmp_path / "onnx").symlink_to(_minilm_files.resolve_model_dir(), target_is_directory=True)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "DOWNLOAD_PATH", tmp_path)
    return ChromaDefault()


def test_same_vectors_as_chromadb(chroma_default: ChromaDefault) -> None:
    expected = np.stack(chroma_default(TEXTS))
    actual = np.stack(DefaultEmbeddingFunction()(TEXTS))
    np.testing.assert_allclose(actual, expected, atol=1e-6)


def test_same_query_results_as_chromadb(chroma_default: ChromaDefault) -> None:
    documents = [
        "A recipe for bread with flour, water and yeast",
        "The orbit of the moon around the earth",
        "How to tune a guitar before a concert",
    ]
    ids = ["bread", "moon", "guitar"]
    chroma_client = chromadb.EphemeralClient()
    chroma = chroma_client.create_collection("diff", embedding_function=chroma_default)
    chroma.add(ids=ids, documents=documents)
    ours_client = azurite.EphemeralClient()
    ours = ours_client.get_or_create_collection("diff_embedding")
    ours.add(ids=ids, documents=documents)
    query = ["which instrument has strings"]
    theirs = chroma.query(query_texts=query, n_results=3)
    mine = ours.query(query_texts=query, n_results=3)
    assert mine["ids"] == theirs["ids"]
    np.testing.assert_allclose(mine["distances"], theirs["distances"], atol=1e-5)
    ours_client.delete_collection("diff_embedding")
