"""Online backup of an embedded database: a copy taken while writers write holds exactly a
prefix of the writes with every write acknowledged before the call, opens without repair
or rebuild, and brings back every kind of state (snapshots behind or missing, forks,
sparse vectors, deletes, other databases); restore; refused destinations."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import azurite
from azurite import AdminClient, PersistentClient, Schema, SparseVector, SparseVectorIndexConfig
from azurite.errors import InvalidArgumentError

from .copies import (
    assert_opens_from_snapshots,
    assert_same_records,
    create_loaded,
    held_batches,
    open_warnings,
    write_batch,
)

CLI = [sys.executable, "-m", "azurite.cli"]


def test_a_backup_during_a_write_load_holds_a_prefix_with_every_acknowledged_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = PersistentClient(tmp_path / "db")
    create_loaded(client)
    acknowledged = 0
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        nonlocal acknowledged
        try:
            n = 0
            while not stop.is_set():
                write_batch(client, n)
                n += 1
                acknowledged = n
        except BaseException as error:  # reported by the test thread
            failures.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while acknowledged < 40 and thread.is_alive():
            stop.wait(0.01)
        before = acknowledged
        report = client.backup(tmp_path / "copy")
        after = acknowledged
        # Keep writing for a while after the copy, into the files it was made from.
        while acknowledged < after + 20 and thread.is_alive():
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join()
    assert failures == []
    assert report["collections"] == 2 and report["path"] == str(tmp_path / "copy")
    assert report["bytes"] > 0
    client.close()

    assert_opens_from_snapshots(tmp_path / "copy", caplog)
    copy = PersistentClient(tmp_path / "copy")
    batches = held_batches(copy)
    # The one writer has at most one batch committed but not yet acknowledged.
    assert before <= batches <= after + 1, (before, batches, after)
    assert batches < acknowledged
    # The copy's index answers as a rebuilt one would: every record finds itself.
    collection = copy.get_collection("even")
    stored = collection.get(include=["embeddings"])
    hits = collection.query(query_embeddings=stored["embeddings"], n_results=1, include=[])
    assert [hit[0] for hit in hits["ids"]] == stored["ids"]
    copy.close()


def test_a_backup_brings_back_forks_sparse_vectors_deletes_and_every_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rng = np.random.default_rng(3)
    path = tmp_path / "db"
    client = PersistentClient(path)
    # Written, then closed: its snapshot holds all of this.
    source = client.create_collection("source", embedding_function=None)
    source.add(ids=[f"s{i}" for i in range(600)], embeddings=rng.normal(size=(600, 8)))
    client.close()
    azurite.SharedSystemClient.clear_system_cache()

    client = PersistentClient(path)
    source = client.get_collection("source")
    # Writes the snapshot lacks: the copy needs the log for them.
    source.delete(ids=[f"s{i}" for i in range(0, 600, 7)])
    source.update(ids=["s1", "s2"], metadatas=[{"v": 1}, {"v": "two"}])
    source.add(ids=["late"], embeddings=rng.normal(size=(1, 8)), uris=["file://late"])
    fork = source.fork("fork")
    fork.add(ids=[f"f{i}" for i in range(30)], embeddings=rng.normal(size=(30, 8)))
    source.delete(ids=["s3"])
    # Too small for a snapshot of its own yet.
    small = client.create_collection("small", embedding_function=None)
    small.add(ids=["a", "b"], embeddings=[[1.0] * 8, [2.0] * 8], documents=["x", None])
    schema = Schema()
    schema.create_index(config=SparseVectorIndexConfig(), key="sparse")
    sparse = client.create_collection("sparse", schema=schema, embedding_function=None)
    sparse.add(
        ids=[f"p{i}" for i in range(50)],
        embeddings=rng.normal(size=(50, 4)),
        metadatas=[
            {"sparse": SparseVector(indices=[i, i + 3], values=[1.0, 0.5])} for i in range(50)
        ],
    )
    query = SparseVector(indices=[4, 7], values=[1.0, 2.0])
    search = azurite.Search().rank(azurite.Knn(query=query, key="sparse")).limit(5)
    expected_hits = sparse.search(search)["ids"]
    client.create_collection("empty", embedding_function=None)
    admin = AdminClient(client.get_settings())
    admin.create_database("other")
    other = PersistentClient(path, database="other").create_collection(
        "elsewhere", embedding_function=None
    )
    other.add(ids=["o"], embeddings=[[0.5] * 3], metadatas=[{"big": 2**62, "list": [1, 2]}])

    client.backup(tmp_path / "copy")
    assert_opens_from_snapshots(tmp_path / "copy", caplog)
    copy = PersistentClient(tmp_path / "copy")
    for name in ("source", "fork", "small", "sparse", "empty"):
        assert_same_records(copy.get_collection(name), client.get_collection(name))
    assert copy.get_collection("source").count() == 600 - 86 + 1 - 1
    assert copy.get_collection("fork").count() == 600 - 86 + 1 + 30
    assert copy.get_collection("fork").fork_count() == 1
    assert copy.get_collection("sparse").search(search)["ids"] == expected_hits
    copy_other = PersistentClient(tmp_path / "copy", database="other")
    assert_same_records(copy_other.get_collection("elsewhere"), other)
    copy.close()
    client.close()


def test_restore_makes_a_database_from_a_backup_and_refuses_a_used_directory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = PersistentClient(tmp_path / "db")
    collection = client.create_collection("kept", embedding_function=None)
    collection.add(ids=["a", "b"], embeddings=[[1.0, 2.0], [3.0, 4.0]], documents=["x", "y"])
    client.backup(tmp_path / "copy")
    client.close()

    restored = tmp_path / "restored"
    done = subprocess.run(
        [*CLI, "restore", "--from", str(tmp_path / "copy"), "--path", str(restored)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Restored" in done.stdout
    assert not (restored / "azurite.lock").exists()
    assert open_warnings(restored, caplog) == []
    again = PersistentClient(restored)
    assert again.get_collection("kept").get(include=["documents", "embeddings"])["documents"] == [
        "x",
        "y",
    ]
    again.close()

    for source, target, message in [
        (tmp_path / "copy", restored, "exists and is not empty"),
        (tmp_path / "nothing", tmp_path / "new", "is not an Azurite database directory"),
    ]:
        refused = subprocess.run(
            [*CLI, "restore", "--from", str(source), "--path", str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert refused.returncode == 1
        assert message in refused.stderr
    assert not (tmp_path / "new").exists()
    # Nothing of the refused or the finished restores is left beside the target.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy", "db", "restored"]


def test_the_cli_backs_up_a_directory_no_process_has_open(tmp_path: Path) -> None:
    client = PersistentClient(tmp_path / "db")
    client.create_collection("one", embedding_function=None).add(ids=["a"], embeddings=[[1.0]])
    client.close()
    azurite.SharedSystemClient.clear_system_cache()
    done = subprocess.run(
        [*CLI, "backup", "--path", str(tmp_path / "db"), "--to", str(tmp_path / "copy")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Backed up 1 collections" in done.stdout
    copy = PersistentClient(tmp_path / "copy")
    assert copy.get_collection("one").get()["ids"] == ["a"]
    copy.close()
    missing = subprocess.run(
        [*CLI, "backup", "--path", str(tmp_path / "none"), "--to", str(tmp_path / "c2")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 1
    assert "is not an Azurite database directory" in missing.stderr
    assert not (tmp_path / "none").exists()


def test_bad_destinations_are_refused_and_leave_nothing_behind(tmp_path: Path) -> None:
    path = tmp_path / "db"
    client = PersistentClient(path)
    client.create_collection("one", embedding_function=None).add(ids=["a"], embeddings=[[1.0]])
    outside = tmp_path / "out"
    outside.mkdir()
    (outside / "full").mkdir()
    (outside / "full" / "file").write_text("x")
    (outside / "a-file").write_text("x")
    for dest, message in [
        (outside / "full", "exists and is not empty"),
        (outside / "a-file", "is not a directory"),
        (path / "inside", "inside the database directory"),
        (outside / "no" / "parent", "does not exist"),
    ]:
        with pytest.raises(InvalidArgumentError, match=message):
            client.backup(dest)
    assert sorted(p.name for p in outside.iterdir()) == ["a-file", "full"]
    (outside / "empty").mkdir()
    assert client.backup(outside / "empty")["collections"] == 1
    assert sorted(p.name for p in outside.iterdir()) == ["a-file", "empty", "full"]
    client.close()


def test_an_in_memory_database_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    client = azurite.EphemeralClient()
    with pytest.raises(InvalidArgumentError, match="in-memory database cannot be backed up"):
        client.backup(tmp_path / "copy")
    assert not (tmp_path / "copy").exists()
