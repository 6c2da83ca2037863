"""Import: exact round trips into a new collection from every source, the three modes,
checks made before anything is staged, and all-or-nothing on failure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from records_support import DIMENSION, all_records, edge_records

import azurite
from azurite.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from azurite.io import export_collection, import_collection


@pytest.fixture
def edge_collection(client: azurite.Client) -> Any:
    collection = client.create_collection(
        "edges",
        metadata={"owner": "tests", "version": 3},
        configuration={"hnsw": {"space": "ip", "ef_construction": 120, "max_neighbors": 12}},
        embedding_function=None,
    )
    collection.add(**edge_records())
    return collection


def exported(collection: Any, tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"export{suffix}"
    export_collection(collection, path, batch_size=4)
    return path


def collection_names(client: azurite.Client) -> list[str]:
    return sorted(c.name for c in client.list_collections())


@pytest.mark.parametrize("suffix", [".parquet", ".arrow", ".jsonl"])
def test_a_file_imports_as_an_exact_copy(
    client: azurite.Client, edge_collection: Any, tmp_path: Path, suffix: str
) -> None:
    path = exported(edge_collection, tmp_path, suffix)
    copy = import_collection(client, path, name="copy", batch_size=5)
    assert all_records(copy) == all_records(edge_collection)
    assert copy.metadata == edge_collection.metadata
    assert isinstance(copy.metadata["version"], int)
    assert copy.configuration_json == client.get_collection("edges").configuration_json
    source_schema = json.loads(client.get_collection("edges")._model["schema_json"])
    assert json.loads(copy._model["schema_json"]) == source_schema
    assert copy._model["dimension"] == DIMENSION


def test_tables_and_frames_import_exactly(client: azurite.Client, edge_collection: Any) -> None:
    expected = all_records(edge_collection)
    table = edge_collection.to_arrow()
    assert all_records(import_collection(client, table, name="from-table")) == expected
    frame = edge_collection.to_pandas()
    assert all_records(import_collection(client, frame, name="from-pandas")) == expected
    polars_frame = edge_collection.to_polars()
    assert all_records(import_collection(client, polars_frame, name="from-polars")) == expected
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=3))
    assert all_records(import_collection(client, reader, name="from-reader")) == expected


def test_an_export_imports_under_its_own_name(
    client: azurite.Client, edge_collection: Any, tmp_path: Path
) -> None:
    path = exported(edge_collection, tmp_path, ".parquet")
    client.delete_collection("edges")
    assert all_records(import_collection(client, path)) == all_records(
        client.get_collection("edges")
    )
    assert collection_names(client) == ["edges"]


def test_create_refuses_an_existing_name(
    client: azurite.Client, edge_collection: Any, tmp_path: Path
) -> None:
    path = exported(edge_collection, tmp_path, ".parquet")
    before = all_records(edge_collection)
    with pytest.raises(AlreadyExistsError, match=r"Collection \[edges\] already exists"):
        import_collection(client, path)
    assert all_records(edge_collection) == before


def test_add_skips_existing_ids_and_upsert_updates_them(
    client: azurite.Client, tmp_path: Path
) -> None:
    source = client.create_collection("source", embedding_function=None)
    source.add(
        ids=["a", "b"],
        embeddings=[[1.0, 1.0], [2.0, 2.0]],
        metadatas=[{"v": "file"}, {"v": "file"}],
    )
    path = exported(source, tmp_path, ".parquet")
    target = client.create_collection("target", embedding_function=None)
    target.add(
        ids=["a", "z"],
        embeddings=[[9.0, 9.0], [8.0, 8.0]],
        metadatas=[{"v": "kept", "w": 1}, {"v": "other"}],
    )

    import_collection(client, path, name="target", mode="add")
    added = target.get(include=["metadatas", "embeddings"])
    assert added["ids"] == ["a", "z", "b"]
    assert added["metadatas"] == [{"v": "kept", "w": 1}, {"v": "other"}, {"v": "file"}]
    assert added["embeddings"].tolist() == [[9.0, 9.0], [8.0, 8.0], [2.0, 2.0]]

    target.import_from(path, mode="upsert")
    once = all_records(target)
    assert target.get(ids=["a"], include=["metadatas", "embeddings"])["embeddings"].tolist() == [
        [1.0, 1.0]
    ]
    assert target.get(ids=["a"])["metadatas"] == [{"v": "file", "w": 1}]  # merged, as upsert does
    target.import_from(path, mode="upsert")
    assert all_records(target) == once  # a rerun changes nothing


def test_a_dimension_other_than_the_targets_is_chromadbs_error(
    client: azurite.Client, tmp_path: Path
) -> None:
    source = client.create_collection("three", embedding_function=None)
    source.add(ids=["a"], embeddings=[[1.0, 2.0, 3.0]])
    path = exported(source, tmp_path, ".arrow")
    target = client.create_collection("two", embedding_function=None)
    target.add(ids=["x"], embeddings=[[1.0, 2.0]])
    with pytest.raises(
        InvalidArgumentError, match="Collection expecting embedding with dimension of 2, got 3"
    ):
        import_collection(client, path, name="two", mode="upsert")
    assert collection_names(client) == ["three", "two"]


def test_a_bad_record_late_in_the_file_leaves_nothing_behind(client: azurite.Client) -> None:
    # The last batch holds a vector of another dimension: the engine refuses it after
    # five batches were written to the staging collection.
    vectors = [[float(i), 1.0] for i in range(50)] + [[1.0, 2.0, 3.0]]
    table = pa.table(
        {"id": [f"r{i}" for i in range(51)], "embedding": pa.array(vectors, pa.list_(pa.float32()))}
    )
    target = client.create_collection("kept", embedding_function=None)
    target.add(ids=["k"], embeddings=[[0.0, 0.0]])
    before = all_records(target)
    with pytest.raises(InvalidArgumentError, match="dimension of 2, got 3"):
        import_collection(client, table, name="kept", mode="upsert", batch_size=10)
    assert all_records(target) == before
    with pytest.raises(InvalidArgumentError, match="dimension of 2, got 3"):
        import_collection(client, table, name="fresh", batch_size=10)
    with pytest.raises(NotFoundError):
        client.get_collection("fresh")
    assert collection_names(client) == ["kept"]


def test_a_file_without_vectors_is_embedded_from_its_documents(client: azurite.Client) -> None:
    from azurite.utils.embedding_functions import DefaultEmbeddingFunction

    function = DefaultEmbeddingFunction()
    table = pa.table({"id": ["a", "b"], "document": ["a cat sat", "on the mat"]})
    imported = import_collection(client, table, name="embedded", embedding_function=function)
    vectors = imported.get(include=["embeddings"])["embeddings"].astype(np.float32)
    expected = np.asarray(function(["a cat sat", "on the mat"]), dtype=np.float32)
    assert np.array_equal(vectors.view(np.uint32), expected.view(np.uint32))
    with pytest.raises(
        InvalidArgumentError, match="record 'b' has neither an embedding nor a document"
    ):
        import_collection(
            client, pa.table({"id": ["a", "b"], "document": ["x", None]}), name="bare"
        )
    assert collection_names(client) == ["embedded"]


def test_a_table_without_header_needs_a_name(client: azurite.Client) -> None:
    table = pa.table({"id": ["a"], "embedding": [[1.0, 2.0]]})
    with pytest.raises(InvalidArgumentError, match="names no collection"):
        import_collection(client, table)
    with pytest.raises(ValueError, match="mode must be one of create, add, upsert"):
        import_collection(client, table, name="named", mode="replace")
    assert collection_names(client) == []


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_the_embedding_function_comes_along(
    client: azurite.Client, tmp_path: Path, suffix: str
) -> None:
    from azurite.utils.embedding_functions import DefaultEmbeddingFunction

    source = client.create_collection(
        "with-function",
        configuration={"hnsw": {"space": "cosine"}},
        embedding_function=DefaultEmbeddingFunction(),
    )
    source.add(ids=["a"], embeddings=[[0.5] * 384], documents=["kept as is"])
    copy = import_collection(client, exported(source, tmp_path, suffix), name="copy")
    stored = client.get_collection("with-function").configuration_json
    assert copy.configuration_json == stored
    assert stored["embedding_function"]["name"] == "default"
    assert stored["hnsw"]["space"] == "cosine"
    # Documents without vectors in a later import are embedded by the function it recorded.
    copy.import_from(pa.table({"id": ["b"], "document": ["a new text"]}), mode="add")
    vector = copy.get(ids=["b"], include=["embeddings"])["embeddings"].astype(np.float32)
    expected = np.asarray(DefaultEmbeddingFunction()(["a new text"]), dtype=np.float32)
    assert np.array_equal(vector.view(np.uint32), expected.view(np.uint32))
