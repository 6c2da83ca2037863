"""Export and import throughput: rows per minute of --rows records of --dim float32
vectors with metadata and documents, through Parquet, Arrow IPC and JSONL.

    .venv/bin/python benches/bench_io.py                    # 1,000,000 x 384
    .venv/bin/python benches/bench_io.py --rows 200000 --formats parquet
    .venv/bin/python benches/bench_io.py --rows 50000 --profile   # where import's time goes

Steps, in a fresh PersistentClient directory under --dir (default: a temporary one):

- ``fill``: the collection written with ``collection.add`` in batches of --batch, the
  engine's own ingest rate, which bounds any import;
- ``export <format>``: ``azurite.io.export_collection`` of the whole collection, pages of
  --batch, to a file (its size is printed);
- ``import <format>``: ``azurite.io.import_collection`` of that file into a new collection
  (staged and published at the end), batches of --batch: when it returns, every record is
  durable and searchable (exactly, until the graph holds it);
- ``graph <format>``: how long the index builder then takes, in the background, to insert
  the imported records into the collection's HNSW graph (searches use the graph from then
  on); the next step starts once it is done, so the steps do not share the cores;
- ``--profile`` runs the first import under cProfile and prints its top functions.

Each step prints one dict: seconds, rows per minute and the target of issue 14 (1,000,000
rows per minute each way).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import azurite
from azurite.io import export_collection, import_collection

TARGET_ROWS_PER_MINUTE = 1_000_000
SUFFIXES = {"parquet": ".parquet", "arrow": ".arrow", "jsonl": ".jsonl"}


def records(start: int, count: int, dim: int) -> dict[str, Any]:
    rng = np.random.default_rng(start)
    return {
        "ids": [f"r{i}" for i in range(start, start + count)],
        "embeddings": rng.standard_normal((count, dim)).astype(np.float32),
        "metadatas": [
            {"cluster": i % 100, "kind": f"k{i % 7}", "score": i / 7, "even": i % 2 == 0}
            for i in range(start, start + count)
        ],
        "documents": [f"record {i} of cluster {i % 100}" for i in range(start, start + count)],
    }


def rate(step: str, rows: int, seconds: float, **extra: Any) -> dict[str, Any]:
    per_minute = rows / seconds * 60
    return {
        "step": step,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_minute": round(per_minute),
        "target_met": per_minute >= TARGET_ROWS_PER_MINUTE,
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch", type=int, default=10_000, help="records per page / batch")
    parser.add_argument("--formats", default="parquet,arrow,jsonl", help="comma-separated")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    parser.add_argument("--profile", action="store_true", help="profile the first import")
    parser.add_argument(
        "--no-import", action="store_true", help="measure exports only (keeps no files)"
    )
    args = parser.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        client = azurite.PersistentClient(path=str(Path(tmp) / "db"))
        source = client.create_collection("source", embedding_function=None)
        start = time.perf_counter()
        for first in range(0, args.rows, args.batch):
            source.add(**records(first, min(args.batch, args.rows - first), args.dim))
        print(rate("fill (collection.add)", args.rows, time.perf_counter() - start), flush=True)
        for number, format in enumerate(formats):
            file = Path(tmp) / f"export{SUFFIXES[format]}"
            start = time.perf_counter()
            written = export_collection(source, file, batch_size=args.batch)
            seconds = time.perf_counter() - start
            size = round(file.stat().st_size / 2**20, 1)
            print(rate(f"export {format}", written, seconds, file_mib=size), flush=True)
            if args.no_import:
                file.unlink()
                continue
            profiler = cProfile.Profile() if args.profile and number == 0 else None
            start = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            imported = import_collection(
                client, file, name=f"imported-{format}", batch_size=args.batch
            )
            if profiler is not None:
                profiler.disable()
            seconds = time.perf_counter() - start
            print(rate(f"import {format}", imported.count(), seconds), flush=True)
            if profiler is not None:
                pstats.Stats(profiler).sort_stats("tottime").print_stats(12)
            start = time.perf_counter()
            while imported.index_stats()["pending"] > 0:
                time.sleep(0.05)
            print(rate(f"graph {format}", imported.count(), time.perf_counter() - start))
            client.delete_collection(imported.name)
            file.unlink()
        client.close()


if __name__ == "__main__":
    main()
