"""A directory that is not chromadb 1.5's, or is damaged, is refused with one clear error
before anything is written: the target is left as it was (or not created)."""

from __future__ import annotations

import os
import pickle
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import azurite
from azurite.errors import CorruptionError, InvalidArgumentError, VersionMismatchError
from azurite.io.chroma import import_chroma

from .conftest import tree_digest


def edit_store(chroma_dir: Path, *statements: str) -> None:
    store = sqlite3.connect(chroma_dir / "chroma.sqlite3")
    for statement in statements:
        store.execute(statement)
    store.commit()
    store.close()


def vector_folder(chroma_dir: Path, collection: str) -> Path:
    store = sqlite3.connect(f"file:{chroma_dir / 'chroma.sqlite3'}?mode=ro", uri=True)
    (segment,) = store.execute(
        "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id "
        "WHERE c.name = ? AND s.scope = 'VECTOR'",
        (collection,),
    ).fetchone()
    store.close()
    return chroma_dir / segment


def mixed_layout(chroma_dir: Path) -> None:
    # 1.5.0's migration without 1.3.0's: a layout no chromadb wrote.
    edit_store(chroma_dir, "DELETE FROM migrations WHERE dir = 'sysdb' AND version = 10")


def zero_x_layout(chroma_dir: Path) -> None:
    edit_store(chroma_dir, "DELETE FROM migrations WHERE dir = 'metadb' AND version >= 5")


def newer_layout(chroma_dir: Path) -> None:
    edit_store(
        chroma_dir,
        "INSERT INTO migrations VALUES ('sysdb', 11, '00011-future.sqlite.sql', '', 'x')",
    )


def no_vectors_file(chroma_dir: Path) -> None:
    (vector_folder(chroma_dir, "l2_flushed") / "data_level0.bin").unlink()


def truncated_vectors(chroma_dir: Path) -> None:
    path = vector_folder(chroma_dir, "cosine_flushed") / "data_level0.bin"
    os.truncate(path, path.stat().st_size // 3)


def unreadable_id_map(chroma_dir: Path) -> None:
    (vector_folder(chroma_dir, "l2_flushed") / "index_metadata.pickle").write_bytes(b"\x80\x04junk")


def id_map_that_runs_code(chroma_dir: Path) -> None:
    (vector_folder(chroma_dir, "l2_flushed") / "index_metadata.pickle").write_bytes(
        pickle.dumps({"id_to_label": {"x": 1}, "run": os.system})
    )


def id_map_naming_an_unknown_label(chroma_dir: Path) -> None:
    path = vector_folder(chroma_dir, "l2_flushed") / "index_metadata.pickle"
    content = pickle.loads(path.read_bytes())
    content["id_to_label"]["id-0"] = 99_999
    path.write_bytes(pickle.dumps(content))


def wrong_header(chroma_dir: Path) -> None:
    path = vector_folder(chroma_dir, "l2_flushed") / "header.bin"
    path.write_bytes(b"\x02" + path.read_bytes()[1:])


def log_vector_of_the_wrong_size(chroma_dir: Path) -> None:
    edit_store(
        chroma_dir,
        "UPDATE embeddings_queue SET vector = x'00000000' WHERE seq_id = "
        "(SELECT max(seq_id) FROM embeddings_queue WHERE vector IS NOT NULL)",
    )


def log_metadata_of_an_unknown_type(chroma_dir: Path) -> None:
    edit_store(
        chroma_dir,
        """UPDATE embeddings_queue SET metadata = '{"nested": {"a": 1}}' WHERE seq_id = """
        "(SELECT max(seq_id) FROM embeddings_queue)",
    )


def record_without_vector(chroma_dir: Path) -> None:
    # A record of the metadata segment whose vector chromadb never received.
    edit_store(
        chroma_dir,
        "INSERT INTO embeddings (segment_id, embedding_id, seq_id) SELECT segment_id, "
        "'orphan', 1 FROM embeddings LIMIT 1",
    )


def configuration_of_chromadb_0_x(chroma_dir: Path) -> None:
    edit_store(
        chroma_dir,
        """UPDATE collections SET config_json_str = '{"_type": "CollectionConfigurationInternal"}'
        WHERE name = 'l2_flushed'""",
    )


def not_sqlite(chroma_dir: Path) -> None:
    (chroma_dir / "chroma.sqlite3").write_bytes(b"not a database" * 1000)


def interrupted_write(chroma_dir: Path) -> None:
    (chroma_dir / "chroma.sqlite3-journal").write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" * 64)


def no_store(chroma_dir: Path) -> None:
    (chroma_dir / "chroma.sqlite3").unlink()


CASES: list[tuple[Callable[[Path], None], type[Exception], str]] = [
    (mixed_layout, VersionMismatchError, "no chromadb wrote it"),
    (zero_x_layout, VersionMismatchError, "written by chromadb 0.x"),
    (newer_layout, VersionMismatchError, "written by a newer chromadb"),
    (no_vectors_file, CorruptionError, "data_level0.bin"),
    (truncated_vectors, CorruptionError, "its header needs"),
    (unreadable_id_map, CorruptionError, "not a readable HNSW id map"),
    (id_map_that_runs_code, CorruptionError, "refers to posix.system"),
    (id_map_naming_an_unknown_label, CorruptionError, "names label 99999, beyond"),
    (wrong_header, CorruptionError, "in the layout chromadb 1.x writes"),
    (log_vector_of_the_wrong_size, CorruptionError, "holds a vector of 4 bytes"),
    (log_metadata_of_an_unknown_type, CorruptionError, "metadata 'nested' of a type"),
    (record_without_vector, CorruptionError, "record 'orphan' is in the metadata segment"),
    (configuration_of_chromadb_0_x, VersionMismatchError, "the configuration of chromadb 0.x"),
    (not_sqlite, CorruptionError, "is not a readable SQLite database"),
    (interrupted_write, InvalidArgumentError, "stopped in the middle of a write"),
    (no_store, InvalidArgumentError, "is not a chromadb persistent directory"),
]


@pytest.mark.parametrize(("damage", "error", "message"), CASES, ids=[c[0].__name__ for c in CASES])
def test_refused_before_the_target_is_created(
    chroma_dir: Path,
    tmp_path: Path,
    damage: Callable[[Path], None],
    error: type[Exception],
    message: str,
) -> None:
    damage(chroma_dir)
    target = tmp_path / "azurite"
    with pytest.raises(error, match=message):
        import_chroma(chroma_dir, target)
    assert not target.exists()


def test_refused_with_an_existing_target_unchanged(chroma_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "azurite"
    client = azurite.PersistentClient(str(target))
    client.create_collection("kept", embedding_function=None).add(ids=["a"], embeddings=[[1.0]])
    azurite.api.client.SharedSystemClient.clear_system_cache()
    before = tree_digest(target)
    truncated_vectors(chroma_dir)
    with pytest.raises(CorruptionError):
        import_chroma(chroma_dir, target)
    assert tree_digest(target) == before
