"""Durability across processes: what one process wrote, the next one reads, including after
the writer died without closing, and damaged files give clear errors instead of crashes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import azurite
from azurite.errors import AuthorizationError, CorruptionError, DatabaseLockedError, NotFoundError


def run_python(code: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


WRITER = """
    import os, sys
    import numpy as np
    import azurite

    client = azurite.PersistentClient(sys.argv[1])
    collection = client.create_collection(
        "restart", metadata={"hnsw:space": "cosine"}, embedding_function=None
    )
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    collection.add(
        ids=[f"id{i}" for i in range(300)],
        embeddings=vectors,
        metadatas=[{"i": i, "even": i % 2 == 0} for i in range(300)],
        documents=[f"document number {i}" for i in range(300)],
    )
    collection.upsert(ids=["id0", "new"], embeddings=vectors[:2] * 2, documents=["zero", "fresh"])
    collection.update(ids=["id1"], metadatas=[{"i": None, "tag": "updated"}])
    collection.delete(where={"i": {"$gte": 290}})
    # Leave without closing anything, as a crashed or killed process would.
    os._exit(0)
"""


def expected_state() -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    ids = [f"id{i}" for i in range(290)] + ["new"]
    return ids, vectors


def test_a_restart_sees_every_write_of_a_process_that_never_closed(tmp_path: Path) -> None:
    run_python(WRITER, str(tmp_path))
    client = azurite.PersistentClient(tmp_path)
    try:
        collection = client.get_collection("restart")
        ids, vectors = expected_state()
        got = collection.get(include=["embeddings", "metadatas", "documents"])
        assert got["ids"] == ids
        np.testing.assert_array_equal(got["embeddings"][1:290], vectors[1:290])
        np.testing.assert_array_equal(got["embeddings"][0], vectors[0] * 2)
        assert got["documents"][0] == "zero" and got["documents"][-1] == "fresh"
        assert got["metadatas"][1] == {"even": False, "tag": "updated"}
        assert got["metadatas"][2] == {"i": 2, "even": True}
        assert collection.configuration_json["hnsw"]["space"] == "cosine"
        hits = collection.query(query_embeddings=vectors[5], n_results=1, include=[])
        assert hits["ids"] == [["id5"]]
    finally:
        client.close()


INGESTER = """
    import sys
    import numpy as np
    import azurite

    client = azurite.PersistentClient(sys.argv[1])
    collection = client.get_or_create_collection("killed", embedding_function=None)
    rng = np.random.default_rng(1)
    batch = 0
    while True:
        ids = [f"b{batch}-{i}" for i in range(200)]
        collection.add(ids=ids, embeddings=rng.normal(size=(200, 16)).astype(np.float32))
        print(batch, flush=True)
        batch += 1
"""


def test_a_process_killed_while_writing_loses_no_acknowledged_batch(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(INGESTER), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        acknowledged = -1
        deadline = time.monotonic() + 60
        while acknowledged < 20 and time.monotonic() < deadline:
            acknowledged = int(process.stdout.readline())
        process.send_signal(signal.SIGKILL)
    assert acknowledged >= 20

    client = azurite.PersistentClient(tmp_path)
    try:
        count = client.get_collection("killed").count()
        # Every acknowledged batch is there, and no batch is there in part.
        assert count % 200 == 0
        assert count >= (acknowledged + 1) * 200
    finally:
        client.close()


HOLDER = """
    import sys, time
    import azurite

    azurite.PersistentClient(sys.argv[1])
    print("open", flush=True)
    time.sleep(60)
"""


def test_a_second_process_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
            with pytest.raises(DatabaseLockedError, match=f"pid {holder.pid}"):
                azurite.PersistentClient(tmp_path)
        finally:
            holder.kill()
    # Once the holder is gone the directory opens normally.
    azurite.PersistentClient(tmp_path).close()


WRITER_HOLDING_THE_DIRECTORY = """
    import sys, time
    import azurite

    client = azurite.PersistentClient(sys.argv[1])
    collection = client.create_collection("shared", embedding_function=None)
    collection.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["x", "y"])
    print("written", flush=True)
    time.sleep(60)
"""


def test_another_process_can_read_while_the_writer_holds_the_directory(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER_HOLDING_THE_DIRECTORY), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        try:
            assert writer.stdout is not None and writer.stdout.readline().strip() == "written"
            with pytest.raises(DatabaseLockedError, match="read-only"):
                azurite.PersistentClient(tmp_path)
            reader = azurite.PersistentClient(
                tmp_path, settings=azurite.Settings(azurite_read_only=True)
            )
            try:
                collection = reader.get_collection("shared")
                assert collection.get()["documents"] == ["x", "y"]
                hits = collection.query(query_embeddings=[[0.9, 0.1]], n_results=1, include=[])
                assert hits["ids"] == [["a"]]
                with pytest.raises(AuthorizationError, match="read-only"):
                    collection.add(ids=["c"], embeddings=[[1.0, 1.0]])
                with pytest.raises(AuthorizationError, match="read-only"):
                    reader.create_collection("other", embedding_function=None)
                assert collection.count() == 2
            finally:
                reader.close()
        finally:
            writer.kill()


def test_a_read_only_open_of_a_missing_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no Azurite database"):
        azurite.PersistentClient(
            tmp_path / "missing", settings=azurite.Settings(azurite_read_only=True)
        )


def make_database(path: Path) -> None:
    client = azurite.PersistentClient(path)
    collection = client.create_collection("files", embedding_function=None)
    collection.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]])
    client.close()


def test_a_torn_log_tail_is_cut_off_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    make_database(tmp_path)
    (segment,) = (tmp_path / "wal").glob("*.log")
    with segment.open("ab") as log:
        log.write(b"\x40\x00\x00\x00half a frame")
    with caplog.at_level(logging.WARNING):
        client = azurite.PersistentClient(tmp_path)
    try:
        assert client.get_collection("files").get()["ids"] == ["a", "b"]
        assert any("torn write" in record.getMessage() for record in caplog.records)
    finally:
        client.close()


def test_a_damaged_record_store_is_reported_naming_the_file(tmp_path: Path) -> None:
    make_database(tmp_path)
    store = tmp_path / "azurite.sqlite3"
    store.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CorruptionError, match=r"azurite\.sqlite3"):
        azurite.PersistentClient(tmp_path)


def test_a_damaged_log_segment_before_the_newest_is_reported_naming_it(tmp_path: Path) -> None:
    make_database(tmp_path)
    (segment,) = (tmp_path / "wal").glob("*.log")
    data = bytearray(segment.read_bytes())
    data[20] ^= 0xFF
    segment.write_bytes(bytes(data))
    # A newer segment makes the damaged one a middle segment, which a crash cannot explain.
    (tmp_path / "wal" / f"{10**9:020}.log").write_bytes(b"")
    with pytest.raises(CorruptionError, match=segment.name):
        azurite.PersistentClient(tmp_path)


def test_two_clients_on_one_path_share_one_database(tmp_path: Path) -> None:
    first = azurite.PersistentClient(tmp_path)
    second = azurite.PersistentClient(str(tmp_path))
    try:
        first.create_collection("shared", embedding_function=None).add(
            ids=["x"], embeddings=[[1.0]]
        )
        assert second.get_collection("shared").count() == 1
    finally:
        first.close()
        second.close()
    assert os.path.exists(tmp_path / "azurite.sqlite3")
