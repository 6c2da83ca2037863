"""SentenceTransformerEmbeddingFunction with a local model directory.

sentence-transformers needs torch, which cannot be installed here (offline, about 1 GB), so
the real package is never run by these tests. What is checked is Azurite's side of the
contract, against a stand-in ``sentence_transformers`` module that behaves like the real
one where the function touches it: ``SentenceTransformer(path, device=..., **kwargs)``
loads a model from a local directory, and ``encode(texts, convert_to_numpy=True,
normalize_embeddings=...)`` returns an array.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from azurite import Client
from azurite.embedding_functions import (
    SentenceTransformerEmbeddingFunction,
    config_to_embedding_function,
)

from .functions import hashed_vector


class StandInSentenceTransformer:
    """Loads ``config.json`` from a local model directory, as the real class does for a
    path, and embeds by hashing each text (scaled, so normalisation is visible)."""

    loaded: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []

    def __init__(self, model_name_or_path: str, device: str = "cpu", **kwargs: Any) -> None:
        config = json.loads((Path(model_name_or_path) / "config.json").read_text())
        self.dimension = config["dimension"]
        StandInSentenceTransformer.loaded.append((model_name_or_path, device, kwargs))

    def encode(
        self, sentences: list[str], convert_to_numpy: bool, normalize_embeddings: bool
    ) -> np.ndarray:
        assert convert_to_numpy
        vectors = np.stack([3.0 * hashed_vector(s, self.dimension) for s in sentences])
        if normalize_embeddings:
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.astype(np.float64)  # the function must hand back float32


@pytest.fixture
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = StandInSentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    StandInSentenceTransformer.loaded = []
    directory = tmp_path / "my-local-model"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps({"dimension": 5}))
    return directory


def test_local_directory_is_loaded_once_and_embeds(model_dir: Path) -> None:
    function = SentenceTransformerEmbeddingFunction(
        model_name=str(model_dir), local_files_only=True
    )
    first = function(["alpha", "beta"])
    again = SentenceTransformerEmbeddingFunction(model_name=str(model_dir), local_files_only=True)
    again(["gamma"])
    assert StandInSentenceTransformer.loaded == [
        (str(model_dir), "cpu", {"local_files_only": True})
    ]
    assert [v.dtype for v in first] == [np.float32, np.float32]
    np.testing.assert_allclose(first[0], 3.0 * hashed_vector("alpha", 5), rtol=1e-6)


def test_normalize_embeddings_is_passed_on(model_dir: Path) -> None:
    function = SentenceTransformerEmbeddingFunction(
        model_name=str(model_dir), normalize_embeddings=True
    )
    (vector,) = function(["alpha"])
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-6)


def test_config_round_trip_and_collection(model_dir: Path, client: Client) -> None:
    function = SentenceTransformerEmbeddingFunction(model_name=str(model_dir), device="cpu")
    assert function.name() == "sentence_transformer"
    assert function.default_space() == "cosine"
    collection = client.create_collection("st_local", embedding_function=function)
    stored = collection.configuration_json["embedding_function"]
    assert stored == {
        "type": "known",
        "name": "sentence_transformer",
        "config": {
            "model_name": str(model_dir),
            "device": "cpu",
            "normalize_embeddings": False,
            "kwargs": {},
        },
    }
    assert config_to_embedding_function(stored).get_config() == function.get_config()
    reopened = client.get_collection("st_local")
    reopened.add(ids=["a", "b"], documents=["alpha", "beta"])
    assert reopened.query(query_texts=["beta"], n_results=1)["ids"] == [["b"]]
    assert collection.configuration_json["hnsw"]["space"] == "cosine"


def test_remote_code_is_refused_before_loading(model_dir: Path) -> None:
    with pytest.raises(ValueError, match="trust_remote_code is not allowed"):
        SentenceTransformerEmbeddingFunction(model_name=str(model_dir), trust_remote_code=True)
    assert StandInSentenceTransformer.loaded == []
