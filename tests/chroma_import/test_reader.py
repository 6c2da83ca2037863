"""The reader gives every collection's records as chromadb's own ``get`` does: the same
ids in the same order, the same vector bits, documents, metadata (types included) and URIs,
whether a record's newest state is in the segments' files or only in the log."""

from __future__ import annotations

import pickle
import sqlite3
from pathlib import Path

import chromadb
import numpy as np
import pytest

from azurite.io.chroma import ChromaDirectory

from .conftest import INCLUDE, typed
from .write_chroma_directory import COLLECTIONS, EMPTY_COLLECTION


def read_all(directory: ChromaDirectory, batch_size: int) -> dict[tuple[str, str, str], dict]:
    found = {}
    for collection in directory.collections:
        records = directory.records(collection)
        columns: dict = {"ids": [], "embeddings": [], "documents": [], "metadatas": [], "uris": []}
        for batch in records.batches(batch_size):
            assert len(batch) <= batch_size
            for name in ("ids", "documents", "metadatas", "uris"):
                columns[name] += getattr(batch, name)
            columns["embeddings"].append(batch.embeddings)
        columns["count"] = records.count
        found[(collection.tenant, collection.database, collection.name)] = columns
    return found


@pytest.mark.parametrize("batch_size", [1, 37, 10_000])
def test_every_collection_reads_as_chromadb_gets_it(
    chroma_dir: Path, chroma_reference: Path, batch_size: int
) -> None:
    with ChromaDirectory(chroma_dir) as directory:
        mine = read_all(directory, batch_size)
    expected_names = {(t, d, n) for n, t, d, *_ in COLLECTIONS} | {
        (EMPTY_COLLECTION[1], EMPTY_COLLECTION[2], EMPTY_COLLECTION[0])
    }
    assert set(mine) == expected_names

    client = chromadb.PersistentClient(path=str(chroma_reference))
    for (tenant, database, name), columns in mine.items():
        client.set_tenant(tenant, database)
        expected = client.get_collection(name).get(include=INCLUDE)
        assert columns["ids"] == expected["ids"], name
        assert columns["count"] == len(expected["ids"])
        assert columns["documents"] == expected["documents"]
        assert columns["uris"] == expected["uris"]
        assert typed(columns["metadatas"]) == typed(expected["metadatas"])
        vectors = np.concatenate(columns["embeddings"]) if expected["ids"] else None
        if vectors is not None:
            assert vectors.dtype == np.float32
            assert vectors.tobytes() == np.asarray(expected["embeddings"], np.float32).tobytes()


def test_the_directory_holds_state_in_both_places(chroma_dir: Path) -> None:
    """The written directory is the case the reader must handle: some collections have
    HNSW files and log entries after them, others only log entries."""
    store = sqlite3.connect(f"file:{chroma_dir / 'chroma.sqlite3'}?mode=ro", uri=True)
    flushed = {
        name
        for (name,) in store.execute(
            "SELECT c.name FROM collections c JOIN segments s ON s.collection = c.id "
            "JOIN max_seq_id m ON m.segment_id = s.id WHERE s.scope = 'VECTOR'"
        )
    }
    assert flushed == {"l2_flushed", "cosine_flushed"}
    logged = {
        topic.rsplit("/", 1)[1]
        for (topic,) in store.execute("SELECT DISTINCT topic FROM embeddings_queue")
    }
    ids = dict(store.execute("SELECT name, id FROM collections"))
    assert {ids["l2_flushed"], ids["cosine_flushed"], ids["ip_in_log"]} <= logged
    # Records the HNSW files still hold that a later log entry deletes.
    (segment,) = store.execute(
        "SELECT id FROM segments WHERE collection = ? AND scope = 'VECTOR'",
        (ids["l2_flushed"],),
    ).fetchone()
    store.close()
    in_files = pickle.loads((chroma_dir / segment / "index_metadata.pickle").read_bytes())
    with ChromaDirectory(chroma_dir) as directory:
        (collection,) = [c for c in directory.collections if c.name == "l2_flushed"]
        live = {i for batch in directory.records(collection).batches(1000) for i in batch.ids}
    assert set(in_files["id_to_label"]) - live
    assert live - set(in_files["id_to_label"])


def test_reading_changes_no_byte_of_the_directory(chroma_dir: Path) -> None:
    from .conftest import tree_digest

    before = tree_digest(chroma_dir)
    with ChromaDirectory(chroma_dir) as directory:
        read_all(directory, 50)
    assert tree_digest(chroma_dir) == before


def test_a_directory_of_chromadb_1_4_reads_without_arrays(
    chroma_dir: Path, chroma_reference: Path
) -> None:
    """chromadb 1.3 and 1.4 wrote the same layout without the array-metadata table of
    1.5.0 (and the migration that creates it): here, the 1.5.9 directory with both taken
    away reads as chromadb's get, arrays left out."""
    store = sqlite3.connect(chroma_dir / "chroma.sqlite3")
    store.execute("DELETE FROM migrations WHERE dir = 'metadb' AND version = 6")
    store.execute("DROP TABLE embedding_metadata_array")
    store.commit()
    store.close()
    with ChromaDirectory(chroma_dir) as directory:
        assert not directory.has_array_metadata
        mine = read_all(directory, 100)
    client = chromadb.PersistentClient(path=str(chroma_reference))
    tenant, database, name = "default_tenant", "default_database", "l2_flushed"
    client.set_tenant(tenant, database)
    expected = client.get_collection(name).get(include=INCLUDE)
    without_arrays = [
        None if m is None else {k: v for k, v in m.items() if not isinstance(v, list)}
        for m in expected["metadatas"]
    ]
    columns = mine[(tenant, database, name)]
    assert columns["ids"] == expected["ids"]
    assert typed(columns["metadatas"]) == typed(without_arrays)
    assert columns["documents"] == expected["documents"]
