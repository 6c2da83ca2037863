"""Segment snapshots: written atomically, opened in place on reopen and brought up to date
from the log after an exit without close, and never trusted blindly: a missing or damaged
snapshot is replaced by loading the collection from the record store, with a warning."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import azurite

DIMENSION = 16


def vectors(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, DIMENSION)).astype(np.float32)


def build(path: Path, n: int = 3_000) -> tuple[str, np.ndarray]:
    client = azurite.PersistentClient(path)
    collection = client.create_collection("indexed", embedding_function=None)
    data = vectors(n, 1)
    collection.add(ids=[str(i) for i in range(n)], embeddings=data)
    collection_id = str(collection.id)
    client.close()
    return collection_id, data


def assert_records_and_index_agree(path: Path, expected: dict[str, np.ndarray]) -> None:
    """Every record is there with its latest vector, the index holds exactly the live
    records, and a query by a record's own vector finds it (the graph is approximate, so
    a rare unreachable node is allowed: chromadb's own tests ask for 95%)."""
    client = azurite.PersistentClient(path)
    try:
        collection = client.get_collection("indexed")
        stored = collection.get(include=["embeddings"])
        assert sorted(stored["ids"]) == sorted(expected)
        for id_, vector in zip(stored["ids"], stored["embeddings"]):
            np.testing.assert_array_equal(vector, expected[id_])
        stats = collection.index_stats()
        assert stats["points"] - stats["tombstones"] == len(expected) == stats["live"]
        ids = sorted(expected)
        matrix = np.stack([expected[i] for i in ids])
        hits = collection.query(query_embeddings=matrix, n_results=1, include=[])["ids"]
        found = sum(hit == [id_] for hit, id_ in zip(hits, ids))
        assert found >= 0.99 * len(ids)
    finally:
        client.close()


def snapshot_file(path: Path, collection_id: str) -> Path:
    return path / "index" / f"{collection_id}.seg"


def reopen_warnings(path: Path, caplog: pytest.LogCaptureFixture) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        azurite.PersistentClient(path).close()
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_snapshot_is_written_on_close_and_used_on_reopen(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    collection_id, data = build(tmp_path)
    assert snapshot_file(tmp_path, collection_id).stat().st_size > 0
    assert reopen_warnings(tmp_path, caplog) == []
    assert_records_and_index_agree(tmp_path, {str(i): v for i, v in enumerate(data)})


@pytest.mark.parametrize(
    ("damage", "warning"),
    [
        ("delete", "no segment snapshot"),
        ("truncate", "could not be used"),
        ("corrupt", "could not be used"),
        ("garbage", "could not be used"),
    ],
)
def test_a_missing_or_damaged_snapshot_is_loaded_from_the_store_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str, warning: str
) -> None:
    collection_id, data = build(tmp_path)
    snapshot = snapshot_file(tmp_path, collection_id)
    content = snapshot.read_bytes()
    if damage == "delete":
        snapshot.unlink()
    elif damage == "truncate":
        snapshot.write_bytes(content[: len(content) // 2])
    elif damage == "corrupt":
        # A byte of the vectors, the first section after the 4 KiB header.
        at = 4096 + 100
        snapshot.write_bytes(content[:at] + bytes([content[at] ^ 0xFF]) + content[at + 1 :])
    else:
        snapshot.write_bytes(b"\x00" * 64)
    warnings = reopen_warnings(tmp_path, caplog)
    assert any(warning in w and snapshot.name in w for w in warnings), warnings
    assert_records_and_index_agree(tmp_path, {str(i): v for i, v in enumerate(data)})


def write_then_kill(script: str, path: Path) -> None:
    """Runs `script` on `path` until it has written, then kills it with SIGKILL."""
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), str(path)],
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "written"
        writer.send_signal(signal.SIGKILL)


WRITER = """
    import sys
    import numpy as np
    import azurite

    client = azurite.PersistentClient(sys.argv[1])
    collection = client.get_collection("indexed")
    rng = np.random.default_rng(2)
    collection.delete(ids=[str(i) for i in range(0, 3000, 3)])
    collection.update(ids=[str(i) for i in range(1, 3000, 30)],
                      embeddings=rng.normal(size=(100, 16)).astype(np.float32))
    collection.add(ids=[f"new{i}" for i in range(50)],
                   embeddings=rng.normal(size=(50, 16)).astype(np.float32))
    print("written", flush=True)
    import time
    time.sleep(60)
"""


def test_writes_after_the_snapshot_are_replayed_from_the_log_after_a_kill(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    collection_id, _ = build(tmp_path)
    snapshot = snapshot_file(tmp_path, collection_id).read_bytes()
    write_then_kill(WRITER, tmp_path)
    rng = np.random.default_rng(2)
    expected = {str(i): v for i, v in enumerate(vectors(3_000, 1)) if i % 3 != 0}
    for i, v in zip(range(1, 3_000, 30), rng.normal(size=(100, 16)).astype(np.float32)):
        expected[str(i)] = v
    for i, v in enumerate(rng.normal(size=(50, 16)).astype(np.float32)):
        expected[f"new{i}"] = v
    # 1,150 changes of 3,000 records pass the threshold once: the killed process wrote a
    # newer snapshot, and the writes after it come from the log, without a warning.
    assert snapshot_file(tmp_path, collection_id).read_bytes() != snapshot
    assert reopen_warnings(tmp_path, caplog) == []
    assert_records_and_index_agree(tmp_path, expected)


KILLED_BELOW_THRESHOLD = """
    import sys
    import numpy as np
    import azurite

    client = azurite.PersistentClient(sys.argv[1])
    collection = client.get_collection("indexed")
    rng = np.random.default_rng(4)
    for start in range(0, 500, 100):
        collection.add(ids=[f"k{i}" for i in range(start, start + 100)],
                       embeddings=rng.normal(size=(100, 16)).astype(np.float32))
    collection.delete(ids=["5", "6"])
    print("written", flush=True)
    import time
    time.sleep(60)
"""


def test_a_kill_below_the_snapshot_threshold_opens_the_old_snapshot_and_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    collection_id, data = build(tmp_path)
    snapshot = snapshot_file(tmp_path, collection_id)
    before = snapshot.read_bytes()
    write_then_kill(KILLED_BELOW_THRESHOLD, tmp_path)
    # 502 changes, fewer than a quarter of the collection: no snapshot was written since
    # close, so reopening maps the old one and applies the logged writes after it.
    assert snapshot.read_bytes() == before
    expected = {str(i): v for i, v in enumerate(data) if i not in (5, 6)}
    rng = np.random.default_rng(4)
    for start in range(0, 500, 100):
        batch = rng.normal(size=(100, 16)).astype(np.float32)
        expected.update({f"k{i}": v for i, v in zip(range(start, start + 100), batch)})
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert_records_and_index_agree(tmp_path, expected)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    # That open closed cleanly: the snapshot now holds everything.
    assert snapshot.read_bytes() != before


def test_reopening_after_many_deletes_and_updates(tmp_path: Path) -> None:
    _, data = build(tmp_path)
    expected = {str(i): v for i, v in enumerate(data)}
    rng = np.random.default_rng(3)
    for round_ in range(5):
        client = azurite.PersistentClient(tmp_path)
        collection = client.get_collection("indexed")
        gone = [i for i in list(expected)[round_::7]]
        collection.delete(ids=gone)
        for i in gone:
            del expected[i]
        changed = list(expected)[round_::11]
        new = rng.normal(size=(len(changed), DIMENSION)).astype(np.float32)
        collection.upsert(ids=changed, embeddings=new)
        expected.update(zip(changed, new))
        client.close()
        time.sleep(0)
    assert_records_and_index_agree(tmp_path, expected)


EXITS = {
    "return": "pass",
    "exception": "raise RuntimeError('the script fails')",
    "sys.exit": "sys.exit(3)",
}


@pytest.mark.parametrize("ending", sorted(EXITS))
def test_a_script_that_ends_without_close_writes_its_snapshot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, ending: str
) -> None:
    collection_id, data = build(tmp_path)
    snapshot = snapshot_file(tmp_path, collection_id)
    before = snapshot.read_bytes()
    script = f"""
        import sys
        import numpy as np
        import azurite

        client = azurite.PersistentClient(sys.argv[1])
        collection = client.get_collection("indexed")
        collection.add(ids=[f"late{{i}}" for i in range(50)],
                       embeddings=np.random.default_rng(3).normal(size=(50, 16)).astype(np.float32))
        {EXITS[ending]}
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(script), str(tmp_path)], check=False)
    # 50 changes are far below the snapshot threshold: only closing at exit writes it.
    assert snapshot.read_bytes() != before
    assert reopen_warnings(tmp_path, caplog) == []
    expected = {str(i): v for i, v in enumerate(data)}
    late = np.random.default_rng(3).normal(size=(50, 16)).astype(np.float32)
    expected.update({f"late{i}": v for i, v in enumerate(late)})
    assert_records_and_index_agree(tmp_path, expected)
