"""The way back: an exported collection loaded into chromadb 1.5.9's own PersistentClient
gives the same get() as the Azurite collection it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import chromadb
import numpy as np
import pytest
from records_support import edge_records, typed

import azurite
from azurite.errors import InvalidArgumentError
from azurite.io import export_collection, load_into_chroma

INCLUDE = ["embeddings", "documents", "metadatas", "uris"]


def chroma_storable(records: dict[str, Any]) -> dict[str, Any]:
    """The edge records without what chromadb cannot store: sparse vectors (its local
    clients refuse them) and infinite floats (it drops the record's metadata)."""

    def storable(metadata: Any) -> bool:
        values = [
            v
            for value in (metadata or {}).values()
            for v in (value if isinstance(value, list) else [value])
        ]
        return not any(
            isinstance(v, azurite.SparseVector) or v in (float("inf"), float("-inf"))
            for v in values
        )

    keep = [row for row, metadata in enumerate(records["metadatas"]) if storable(metadata)]
    return {name: [column[row] for row in keep] for name, column in records.items()}


def same_get(azurite_collection: Any, chroma_collection: Any) -> None:
    ours = azurite_collection.get(include=INCLUDE)
    theirs = chroma_collection.get(include=INCLUDE)
    assert theirs["ids"] == ours["ids"]
    assert theirs["documents"] == ours["documents"]
    assert theirs["uris"] == ours["uris"]
    assert typed(theirs["metadatas"]) == typed(ours["metadatas"])
    ours_bits = ours["embeddings"].astype(np.float32).view(np.uint32)
    theirs_bits = np.asarray(theirs["embeddings"], dtype=np.float32).view(np.uint32)
    assert np.array_equal(ours_bits, theirs_bits)


@pytest.mark.parametrize("suffix", [".parquet", ".arrow", ".jsonl"])
def test_an_export_loads_into_chromadb_with_the_same_records(
    client: azurite.Client, tmp_path: Path, suffix: str
) -> None:
    collection = client.create_collection(
        "way-back", metadata={"team": "search", "n": 2}, embedding_function=None
    )
    collection.add(**chroma_storable(edge_records()))
    path = tmp_path / f"export{suffix}"
    export_collection(collection, path, batch_size=4)
    chroma = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    loaded = load_into_chroma(chroma, path)
    assert loaded.name == "way-back" and loaded.metadata == {"team": "search", "n": 2}
    same_get(collection, chroma.get_collection("way-back"))


def test_configuration_and_embedding_function_go_back(
    client: azurite.Client, tmp_path: Path
) -> None:
    collection = client.create_collection(
        "configured",
        configuration={"hnsw": {"space": "ip", "ef_construction": 150, "max_neighbors": 20}},
        embedding_function=azurite.utils.embedding_functions.DefaultEmbeddingFunction(),
    )
    rows = np.random.default_rng(3).standard_normal((30, 384)).astype(np.float32)
    collection.add(
        ids=[f"r{i}" for i in range(30)], embeddings=rows, documents=[f"d{i}" for i in range(30)]
    )
    export_collection(collection, tmp_path / "c.parquet")
    chroma = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    load_into_chroma(chroma, tmp_path / "c.parquet", name="configured-copy")
    reopened = chroma.get_collection("configured-copy")
    hnsw = reopened.configuration["hnsw"]
    assert (hnsw["space"], hnsw["ef_construction"], hnsw["max_neighbors"]) == ("ip", 150, 20)
    assert reopened.configuration["embedding_function"].name() == "default"
    same_get(collection, reopened)


def test_what_chromadb_cannot_hold_is_refused_and_leaves_no_collection(
    client: azurite.Client, tmp_path: Path
) -> None:
    collection = client.create_collection("sparse", embedding_function=None)
    collection.add(
        ids=["a", "b"],
        embeddings=[[1.0, 2.0], [3.0, 4.0]],
        metadatas=[{"x": 1}, {"sp": azurite.SparseVector(indices=[1], values=[0.5])}],
    )
    export_collection(collection, tmp_path / "s.parquet", batch_size=1)
    chroma = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    with pytest.raises(
        InvalidArgumentError,
        match="record 'b': chromadb's local clients cannot store the sparse vector of metadata key 'sp'",
    ):
        load_into_chroma(chroma, tmp_path / "s.parquet")
    assert chroma.list_collections() == []
    infinite = client.create_collection("infinite", embedding_function=None)
    infinite.add(ids=["a"], embeddings=[[1.0, 2.0]], metadatas=[{"f": [1.0, float("-inf")]}])
    export_collection(infinite, tmp_path / "i.jsonl")
    with pytest.raises(InvalidArgumentError, match="key 'f' holds an infinite float"):
        load_into_chroma(chroma, tmp_path / "i.jsonl")
    assert chroma.list_collections() == []
