"""What an online backup costs: ``client.backup()`` of a --rows x --dim collection, alone
and while a writer adds batches to it: how long the backup held writers (the barrier, as
the engine reports it), the writes the writer timed during the backup beside those
before it, and the time to open the copy (no collection is loaded from the record store
or rebuilt).

    .venv/bin/python benches/bench_backup.py
    .venv/bin/python benches/bench_backup.py --rows 20000 --dim 128

The database is built once in --dir (default: a temporary directory), closed and reopened
(so its snapshot is current), then backed up twice: with no writer, and with a thread
adding --write-batch records per call to the same collection, as fast as it can, from a
few seconds before the backup until a second after it. Writes are timed one by one.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

import azurite

BATCH = 5_000


def disk_mib(path: Path) -> float:
    out = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) / 1024


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


class Writer(threading.Thread):
    """Adds batches to ``collection`` until stopped, timing each call."""

    def __init__(self, collection: Any, dim: int, batch: int) -> None:
        super().__init__()
        self.collection, self.dim, self.batch = collection, dim, batch
        self.stop = threading.Event()
        #: (start, seconds) of every write.
        self.writes: list[tuple[float, float]] = []

    def run(self) -> None:
        rng = np.random.default_rng(1)
        n = 0
        while not self.stop.is_set():
            vectors = rng.normal(size=(self.batch, self.dim)).astype(np.float32)
            started = time.perf_counter()
            self.collection.add(
                ids=[f"w{n}-{i}" for i in range(self.batch)],
                embeddings=vectors,
                metadatas=[{"n": n}] * self.batch,
            )
            self.writes.append((started, time.perf_counter() - started))
            n += 1

    def summary(self, since: float, until: float) -> str:
        """The writes that overlapped [since, until]: how many, median and longest."""
        times = [s for start, s in self.writes if start + s >= since and start <= until]
        if not times:
            return "no writes"
        median, longest = np.median(times) * 1000, max(times) * 1000
        return f"{len(times)} writes, median {median:.1f} ms, longest {longest:.1f} ms"


def time_open(path: Path) -> tuple[float, list[str]]:
    warnings: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logging.getLogger("azurite_core").addHandler(handler)
    started = time.perf_counter()
    client = azurite.PersistentClient(path)
    client.get_collection("big").count()
    seconds = time.perf_counter() - started
    client.close()
    logging.getLogger("azurite_core").removeHandler(handler)
    return seconds, warnings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--write-batch", type=int, default=100)
    parser.add_argument("--dir", type=Path)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=arguments.dir) as scratch:
        root = Path(scratch)
        path = root / "db"
        client = azurite.PersistentClient(path)
        big = client.create_collection("big", embedding_function=None)
        started = time.perf_counter()
        fill(big, arguments.rows, arguments.dim)
        print(f"built {arguments.rows} x {arguments.dim} in {time.perf_counter() - started:.1f} s")
        client.close()
        azurite.SharedSystemClient.clear_system_cache()

        client = azurite.PersistentClient(path)
        big = client.get_collection("big")
        print(f"database: {disk_mib(path):.0f} MiB")

        started = time.perf_counter()
        report = client.backup(root / "idle")
        idle = time.perf_counter() - started
        print(
            f"backup, no writer: {idle:.2f} s, {report['bytes'] / 2**20:.0f} MiB written, "
            f"copy {disk_mib(root / 'idle'):.0f} MiB, writers held "
            f"{report['writer_pause_ms']:.2f} ms"
        )

        writer = Writer(big, arguments.dim, arguments.write_batch)
        writer.start()
        time.sleep(3.0)
        began = time.perf_counter()
        report = client.backup(root / "loaded")
        ended = time.perf_counter()
        time.sleep(1.0)
        writer.stop.set()
        writer.join()
        print(
            f"backup, writer adding {arguments.write_batch} x {arguments.dim} per call: "
            f"{ended - began:.2f} s, held write {report['seq']}, writers held "
            f"{report['writer_pause_ms']:.2f} ms"
        )
        print(f"  writes before the backup: {writer.summary(0.0, began - 1e-6)}")
        print(f"  writes during the backup: {writer.summary(began, ended)}")
        client.close()
        for name in ("idle", "loaded"):
            seconds, warnings = time_open(root / name)
            print(f"open the {name} copy: {seconds:.2f} s, warnings: {warnings or 'none'}")


if __name__ == "__main__":
    main()
