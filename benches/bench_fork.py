"""What a fork costs: ``collection.fork()`` of a --rows x --dim collection (time, disk and
memory right after, and disk after close), beside what a chromadb user does instead, whose
local client cannot fork: create a collection, ``get`` every record and ``add`` them to it.

    .venv/bin/python benches/bench_fork.py
    .venv/bin/python benches/bench_fork.py --rows 20000 --dim 128 --chromadb

Three cases, each in a fresh directory under --dir (default: a temporary directory):

- ``current``: the source was reopened, so its segment snapshot holds its last write and
  the fork shares the file (a hard link);
- ``behind``: the source was just written, its snapshot lags, and the fork first writes
  the source's snapshot, then shares it;
- ``copy``: create + get + add, page by page, the copy a chromadb user makes
  (``--chromadb`` runs it on chromadb's PersistentClient too).

Disk is ``du`` of the directory (hard links counted once), memory the process's resident
set and its anonymous part (without mapped files); both before and right after the call, and disk again after the client closes (which
also writes the source's lagging snapshot and trims the log, so the size of the fork's own
index files is printed too).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import azurite

BATCH = 5_000


def disk_mib(path: Path) -> float:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) / 1024


def memory_mib() -> tuple[float, float]:
    """The resident set, and its anonymous part (what the process holds itself; the rest
    is mapped files, whose pages the page cache shares)."""
    fields = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon"):
                fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["RssAnon"]


def fill(collection: Any, rows: int, dim: int) -> None:
    rng = np.random.default_rng(0)
    for start in range(0, rows, BATCH):
        n = min(BATCH, rows - start)
        collection.add(
            ids=[f"id{i}" for i in range(start, start + n)],
            embeddings=rng.normal(size=(n, dim)).astype(np.float32),
            metadatas=[{"i": i, "even": i % 2 == 0} for i in range(start, start + n)],
            documents=[f"document {i}" for i in range(start, start + n)],
        )


def copy_all(client: Any, source: Any, name: str) -> Any:
    target = client.create_collection(name, embedding_function=None)
    # Page by page: chromadb's get of all 100,000 records at once fails ("too many SQL
    # variables").
    for start in range(0, source.count(), BATCH):
        page = source.get(
            include=["embeddings", "metadatas", "documents"], limit=BATCH, offset=start
        )
        target.add(
            ids=page["ids"],
            embeddings=page["embeddings"],
            metadatas=page["metadatas"],
            documents=page["documents"],
        )
    return target


def measure(client_factory: Any, path: Path, case: str, rows: int, dim: int) -> dict[str, Any]:
    client = client_factory(path)
    source = client.create_collection("source", embedding_function=None)
    fill(source, rows, dim)
    if case == "current":
        client.close()
        client = client_factory(path)
        source = client.get_collection("source", embedding_function=None)
    elif case == "behind":
        # One write more than the snapshot holds.
        source.update(ids=["id0"], metadatas=[{"i": -1, "even": True}])
    disk, (rss, anon) = disk_mib(path), memory_mib()
    start = time.perf_counter()
    fork = copy_all(client, source, "copy") if case == "copy" else source.fork("fork")
    seconds = time.perf_counter() - start
    assert fork.count() == rows
    result = {
        "case": case,
        "seconds": round(seconds, 3),
        "disk_before_mib": round(disk, 1),
        "disk_growth_mib": round(disk_mib(path) - disk, 1),
        "rss_growth_mib": round(memory_mib()[0] - rss, 1),
        "anon_growth_mib": round(memory_mib()[1] - anon, 1),
    }
    fork_id = fork.id
    client.close()
    result["disk_growth_after_close_mib"] = round(disk_mib(path) - disk, 1)
    # What the fork's own files take: nothing while its snapshot is the source's file.
    own = [
        f.stat().st_size for f in (path / "index").glob(f"{fork_id}.*") if f.stat().st_nlink == 1
    ]
    result["fork_own_index_files_mib"] = round(sum(own) / 2**20, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--dir", type=Path, default=None, help="where the directories go")
    parser.add_argument("--cases", default="current,behind,copy", help="comma-separated")
    parser.add_argument("--chromadb", action="store_true", help="also copy with chromadb")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for case in filter(None, args.cases.split(",")):
            print(measure(azurite.PersistentClient, Path(tmp) / case, case, args.rows, args.dim))
        if args.chromadb:
            import chromadb

            def chroma_client(path: Path) -> Any:
                client = chromadb.PersistentClient(str(path))
                client.close = lambda: client._system.stop()  # type: ignore[method-assign]
                return client

            result = measure(chroma_client, Path(tmp) / "chromadb", "copy", args.rows, args.dim)
            print({**result, "case": "chromadb copy"})


if __name__ == "__main__":
    main()
