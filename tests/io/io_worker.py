"""Runs one export or import in its own process for the process-level tests, and reports
on stdout, one JSON object a line.

    python io_worker.py fill DB NAME ROWS DIM DOC   ROWS records: DIM-d vectors, documents
                                                    of DOC characters, three metadata keys
    python io_worker.py export DB NAME FILE BATCH   (reports the memory the export added)
    python io_worker.py whole DB NAME               (the same for to_arrow of everything)
    python io_worker.py import DB FILE NAME MODE BATCH   (reports each batch written, then
                                                          the memory the import added)
    python io_worker.py read - FILE BATCH      (the memory reading FILE as an import does,
                                               batch by batch into engine columns, added)
    python io_worker.py read-whole - FILE      (the same for reading it whole)

Memory: the anonymous resident memory (RssAnon: the process's own allocations, not the
pages of the database's snapshot files it maps, which the kernel can drop at will) is
sampled every millisecond from when the database is open and its collection loaded, and
its growth over that start is reported: the export's or import's own memory.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np

import azurite


def report(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


class PeakAnonymousMemory:
    """The highest RssAnon seen while running, sampled by a thread."""

    def __init__(self) -> None:
        self.start = status_kib("RssAnon")
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, status_kib("RssAnon"))

    def growth_kib(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, status_kib("RssAnon")) - self.start


def rows(start: int, count: int, dimension: int, document: int) -> dict[str, object]:
    rng = np.random.default_rng(start)
    return {
        "ids": [f"id-{i:08d}" for i in range(start, start + count)],
        "embeddings": rng.standard_normal((count, dimension)).astype(np.float32),
        "documents": [f"{i} ".ljust(document, "x") for i in range(start, start + count)],
        "metadatas": [
            {"n": i, "group": f"g{i % 7}", "score": i / 3} for i in range(start, start + count)
        ],
    }


def read(file: str, batch: int | None) -> None:
    """Reads ``file`` as an import does (whole when ``batch`` is None) without writing."""
    import pyarrow.parquet as pq

    from azurite.io.records import from_batch
    from azurite.io.sources import open_source

    memory = PeakAnonymousMemory()
    if batch is None:
        records = len(from_batch(pq.read_table(file), file))
    else:
        with open_source(file) as source:
            records = sum(len(page) for page in source.batches(batch))
    report(read=records, growth_kib=memory.growth_kib())


def main(argv: list[str]) -> None:
    command, path = argv[0], argv[1]
    if command in ("read", "read-whole"):
        read(argv[2], int(argv[3]) if command == "read" else None)
        return
    client = azurite.PersistentClient(path=path)
    if command == "fill":
        name, total, dimension, document = argv[2], int(argv[3]), int(argv[4]), int(argv[5])
        collection = client.create_collection(name, embedding_function=None)
        for start in range(0, total, 2000):
            collection.add(**rows(start, min(2000, total - start), dimension, document))  # type: ignore[arg-type]
        report(count=collection.count())
    elif command in ("export", "whole"):
        collection = client.get_collection(argv[2], embedding_function=None)
        collection.count()
        memory = PeakAnonymousMemory()
        if command == "export":
            from azurite.io import export_collection

            written = export_collection(collection, argv[3], batch_size=int(argv[4]))
        else:
            written = collection.to_arrow().num_rows
        report(written=written, growth_kib=memory.growth_kib())
    elif command == "import":
        from azurite.io import import_collection

        file, name, mode, batch = argv[2], argv[3], argv[4], int(argv[5])
        done = 0
        memory = PeakAnonymousMemory()

        def progress(count: int) -> None:
            nonlocal done
            done += count
            report(imported=done, growth_kib=memory.peak - memory.start)

        import_collection(client, file, name=name, mode=mode, batch_size=batch, progress=progress)
        report(finished=True, growth_kib=memory.growth_kib())
    client.close()


if __name__ == "__main__":
    main(sys.argv[1:])
