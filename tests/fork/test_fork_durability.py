"""Forks survive what the process does next: a close, an exit without close, an exit
that skips every handler (as a crash would), and a SIGKILL while another thread writes
to the source; a drop of the source after the fork; and loads from the record store
alone (no snapshots), which read the fork through its layers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import azurite

from . import lineage

INCLUDE = ["embeddings", "documents", "metadatas"]


def state(collection: Any) -> dict[str, Any]:
    got = collection.get(include=INCLUDE)
    return {
        "ids": got["ids"],
        "embeddings": [[float(x) for x in e] for e in got["embeddings"]],
        "documents": got["documents"],
        "metadatas": got["metadatas"],
    }


def as_model(collection: Any) -> lineage.Model:
    got = collection.get(include=["embeddings", "metadatas"])
    return {
        id: ([float(x) for x in e], m["m"])
        for id, e, m in zip(got["ids"], got["embeddings"], got["metadatas"], strict=True)
    }


def fill(collection: Any, start: int, stop: int) -> None:
    rng = np.random.default_rng(start)
    collection.add(
        ids=[f"r{i}" for i in range(start, stop)],
        embeddings=rng.normal(size=(stop - start, 6)).astype(np.float32),
        documents=[f"doc {i}" for i in range(start, stop)],
        metadatas=[{"i": i} for i in range(start, stop)],
    )


def child(path: Path, body: str) -> None:
    """Runs ``body`` in a new interpreter with ``client`` open on ``path``."""
    script = "import azurite, numpy as np\n"
    script += f"client = azurite.PersistentClient({str(path)!r})\n"
    script += textwrap.dedent(body)
    subprocess.run([sys.executable, "-c", script], check=True, env=os.environ.copy())


def remove_snapshots(path: Path) -> None:
    for file in (path / "index").iterdir():
        file.unlink()


@pytest.mark.parametrize("without_snapshots", [False, True])
def test_a_fork_reopens_whole_after_close(tmp_path: Path, without_snapshots: bool) -> None:
    client = azurite.PersistentClient(tmp_path)
    source = client.create_collection("source", embedding_function=None)
    fill(source, 0, 300)
    fork = source.fork("fork")
    source.delete(ids=["r1"])
    fork.update(ids=["r2"], metadatas=[{"i": -2}])
    fill(fork, 300, 310)
    expected = {"source": state(source), "fork": state(fork)}
    client.close()
    if without_snapshots:
        remove_snapshots(tmp_path)
    client = azurite.PersistentClient(tmp_path)
    for name, held in expected.items():
        assert state(client.get_collection(name, embedding_function=None)) == held
    assert client.get_collection("fork").fork_count() == 1
    client.close()


@pytest.mark.parametrize("exit_call", ["pass", "import os; os._exit(0)"])
def test_a_fork_is_durable_when_the_call_returns(tmp_path: Path, exit_call: str) -> None:
    child(
        tmp_path,
        f"""
        source = client.create_collection("source", embedding_function=None)
        source.add(ids=[f"r{{i}}" for i in range(500)],
                   embeddings=np.arange(500 * 3, dtype=np.float32).reshape(500, 3))
        source.fork("fork").update(ids=["r0"], metadatas=[{{"forked": True}}])
        source.delete(ids=["r1"])
        {exit_call}
        """,
    )
    client = azurite.PersistentClient(tmp_path)
    fork = client.get_collection("fork", embedding_function=None)
    source = client.get_collection("source", embedding_function=None)
    assert fork.count() == 500 and source.count() == 499
    assert fork.get(ids=["r0"])["metadatas"] == [{"forked": True}]
    assert source.get(ids=["r0"])["metadatas"] == [None]
    assert fork.get(ids=["r1"], include=["embeddings"])["embeddings"][0].tolist() == [3, 4, 5]
    client.close()


def test_dropping_the_source_keeps_the_fork_across_reopens(tmp_path: Path) -> None:
    client = azurite.PersistentClient(tmp_path)
    source = client.create_collection("source", embedding_function=None)
    fill(source, 0, 200)
    fork = source.fork("fork")
    fork.fork("grandchild")
    expected = state(fork)
    client.delete_collection("source")
    client.close()
    remove_snapshots(tmp_path)
    client = azurite.PersistentClient(tmp_path)
    assert state(client.get_collection("fork", embedding_function=None)) == expected
    client.delete_collection("fork")
    assert state(client.get_collection("grandchild", embedding_function=None)) == expected
    assert client.get_collection("grandchild").fork_count() == 2
    client.delete_collection("grandchild")
    client.close()
    # Nothing is left of the lineage's records once every member is gone.
    with sqlite3.connect(tmp_path / "azurite.sqlite3") as store:
        left = [
            store.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("records", "record_masks", "record_layers", "lineages")
        ]
    assert left == [0, 0, 0, 0]


def test_a_kill_during_forks_and_writes_leaves_every_collection_at_its_acknowledged_history(
    tmp_path: Path,
) -> None:
    process = subprocess.Popen(
        [sys.executable, str(Path(lineage.__file__)), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert process.stdout is not None
    writes, forks = 0, {}

    def take(line: str) -> None:
        nonlocal writes
        fields = line.split()
        if fields[0] == "w":
            writes = int(fields[1]) + 1
        else:
            forks[fields[1]] = (int(fields[2]), int(fields[3]))

    for line in process.stdout:
        take(line)
        if writes >= 150 and len(forks) >= 4:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    # Reports already written before the kill still count.
    for line in process.stdout:
        take(line)
    process.stdout.close()

    states = lineage.history(writes + 1)
    client = azurite.PersistentClient(tmp_path)
    # The write in flight when the kill came is there wholly or not at all.
    source = as_model(client.get_collection("source", embedding_function=None))
    assert source in (states[writes], states[writes + 1])
    names = {c.name for c in client.list_collections()}
    assert set(forks) <= names
    for name in names - {"source"}:
        held = as_model(client.get_collection(name, embedding_function=None))
        # A fork holds the source as it was at some point of the call: after the writes
        # acknowledged before it, before those acknowledged after it (and a fork that was
        # in flight, if it committed, the same).
        first, last = forks.get(name, (max(b for b, _ in forks.values()), writes + 1))
        assert held in states[first : last + 2], name
    client.close()
