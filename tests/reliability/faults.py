"""Helpers of the fault-injection tests: a database left by a killed writer, the ways to
damage a file, and a reopen in a child process (so that a crash or a hang of the engine
is seen as such, not as a crash of the test run)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

#: Generous: only a hang should ever reach it.
TIMEOUT = 120

WRITER = """
    import os, sys, time
    import numpy as np
    import azurite

    client = azurite.PersistentClient(sys.argv[1])
    collection = client.create_collection(
        "faults", embedding_function=None, configuration={"hnsw": {"sync_threshold": 100}}
    )
    rng = np.random.default_rng(3)
    for batch in range(6):
        ids = [f"r{batch}-{i}" for i in range(500)]
        collection.add(
            ids=ids,
            embeddings=rng.normal(size=(500, 8)).astype(np.float32),
            metadatas=[{"batch": batch, "i": i} for i in range(500)],
            documents=[f"doc {batch} {i}" for i in range(500)],
        )
    # A clean close moves everything into SQLite's main file; what follows stays in its
    # -wal file, as after any crash.
    client.close()
    client = azurite.PersistentClient(sys.argv[1])
    collection = client.get_collection("faults")
    collection.upsert(
        ids=["r0-0", "extra"],
        embeddings=rng.normal(size=(2, 8)).astype(np.float32),
        documents=["changed", "extra"],
    )
    collection.delete(ids=[f"r1-{i}" for i in range(100)])
    # A snapshot write that a crash interrupted leaves its temporary file.
    index = os.path.join(sys.argv[1], "index")
    (snapshot,) = [name for name in os.listdir(index) if name.endswith(".seg")]
    with open(os.path.join(index, snapshot[: -len(".seg")] + ".tmp"), "wb") as tmp:
        tmp.write(b"AZSEG half of a snapshot")
    print("written", flush=True)
    time.sleep(120)
"""

REOPEN = """
    import json, logging, sys
    import azurite
    from azurite.errors import ChromaError

    messages = []

    class Collect(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                messages.append(record.getMessage())

    logging.getLogger().addHandler(Collect())
    logging.getLogger().setLevel(logging.WARNING)
    try:
        client = azurite.PersistentClient(sys.argv[1])
        records = {}
        for collection in client.list_collections():
            got = collection.get(include=["embeddings", "metadatas", "documents"])
            stats = collection.index_stats()
            assert stats["live"] == collection.count() == len(got["ids"])
            for i, id_ in enumerate(got["ids"]):
                records[id_] = [
                    [float(x) for x in got["embeddings"][i]],
                    got["metadatas"][i],
                    got["documents"][i],
                ]
        client.close()
        print(json.dumps({"outcome": "ok", "records": records, "warnings": messages}))
    except ChromaError as error:
        print(json.dumps({"outcome": "error", "class": type(error).__name__,
                          "message": str(error), "warnings": messages}))
"""


def make_database(path: Path) -> None:
    """A database whose writer was killed: the SQLite -wal and -shm files, the log, a
    segment snapshot and the temporary file of an interrupted snapshot are all there."""
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(path)],
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "written"
        writer.kill()


def reopen(path: Path) -> dict[str, Any]:
    """Opens the database in a child process; its outcome, records and warnings."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(REOPEN), str(path)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, f"the process died ({done.returncode}):\n{done.stderr}"
    return json.loads(done.stdout)


def run_repair(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "azurite.cli", "repair", "--path", str(path)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def damage(file: Path, how: str, seed: int = 0) -> None:
    """Truncates, corrupts (flips bytes in the middle), fills with garbage, or deletes."""
    data = file.read_bytes()
    rng = random.Random(seed)
    if how == "truncate":
        file.write_bytes(data[: len(data) // 2])
    elif how == "truncate-empty":
        file.write_bytes(b"")
    elif how == "corrupt":
        middle = bytearray(data)
        start = len(middle) // 2
        for i in range(start, min(start + 16, len(middle))):
            middle[i] ^= 0xFF
        file.write_bytes(bytes(middle))
    elif how == "garbage":
        file.write_bytes(bytes(rng.randrange(256) for _ in range(max(len(data), 4096))))
    elif how == "delete":
        os.remove(file)
    else:
        raise AssertionError(how)
