"""Sparse vectors are as durable as every other value: they survive closing and reopening
(through the segment snapshot), and a writer killed with SIGKILL loses no acknowledged
batch of them and keeps none in part (through the log)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

import azurite
from azurite import SparseVector

from . import deterministic
from .deterministic import sparse_vector

BATCH = 40

#: Adds batches of records with sparse vectors for ever; prints each batch number once it
#: returned.
WRITER = f"""
    import runpy, sys
    import numpy as np
    import azurite

    sparse_vector = runpy.run_path(sys.argv[2])["sparse_vector"]
    client = azurite.PersistentClient(sys.argv[1])
    collection = client.get_or_create_collection("killed", embedding_function=None)
    batch = 0
    while True:
        collection.add(
            ids=[f"b{{batch}}-{{i}}" for i in range({BATCH})],
            embeddings=np.full(({BATCH}, 4), batch, np.float32),
            metadatas=[
                {{"sparse": sparse_vector(batch, i), "batch": batch}} for i in range({BATCH})
            ],
        )
        print(batch, flush=True)
        batch += 1
"""


def test_a_writer_killed_mid_stream_keeps_every_acknowledged_sparse_batch_whole(
    tmp_path: Path,
) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(tmp_path), deterministic.__file__],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        acknowledged = -1
        deadline = time.monotonic() + 60
        while acknowledged < 15 and time.monotonic() < deadline:
            acknowledged = int(process.stdout.readline())
        process.send_signal(signal.SIGKILL)
    assert acknowledged >= 15

    with azurite.PersistentClient(tmp_path) as client:
        got = client.get_collection("killed").get(include=["metadatas"])
    by_batch: dict[int, dict[str, object]] = {}
    for id_, metadata in zip(got["ids"], got["metadatas"]):
        assert metadata is not None
        by_batch.setdefault(int(metadata["batch"]), {})[id_] = metadata["sparse"]
    assert set(range(acknowledged + 1)) <= set(by_batch)
    for batch, vectors in by_batch.items():
        assert vectors == {f"b{batch}-{i}": sparse_vector(batch, i) for i in range(BATCH)}


def test_sparse_vectors_survive_closing_and_reopening(tmp_path: Path) -> None:
    rows = 3000
    expected = {f"id{i}": sparse_vector(i // 100, i % 100) for i in range(rows)}
    with azurite.PersistentClient(tmp_path) as client:
        collection = client.create_collection("kept", embedding_function=None)
        ids = list(expected)
        collection.add(
            ids=ids,
            embeddings=np.arange(rows * 2, dtype=np.float32).reshape(rows, 2),
            metadatas=[{"sparse": expected[i]} for i in ids],
        )
        rewritten = SparseVector(indices=[0, 49_999], values=[1.5, -2.0], labels=["x", "y"])
        collection.update(ids=["id5"], metadatas=[{"sparse": rewritten}])
        collection.delete(ids=["id6"])
        expected["id5"] = rewritten
        del expected["id6"]
    # Twice: the first open reads the snapshot written at close, the second the one the
    # first wrote after a further write.
    for round_ in range(2):
        with azurite.PersistentClient(tmp_path) as client:
            collection = client.get_collection("kept")
            got = collection.get(include=["metadatas"])
            assert dict(zip(got["ids"], (m["sparse"] for m in got["metadatas"]))) == expected
            extra = SparseVector(indices=[round_], values=[1.0])
            collection.add(
                ids=[f"extra{round_}"], embeddings=[[0.0, 0.0]], metadatas=[{"sparse": extra}]
            )
            expected[f"extra{round_}"] = extra
    assert (tmp_path / "index").is_dir() and any((tmp_path / "index").glob("*.seg"))
