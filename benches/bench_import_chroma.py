"""What ``azurite import-chroma`` costs beside reading the same data with chromadb's own
client: a chromadb directory of --rows x --dim (metadata, documents, URIs) is written once
with chromadb 1.5.9, then, each in a fresh process so neither finds the other's pages
warm in its own caches:

- ``chromadb get``: chromadb's PersistentClient on a copy of the directory, ``get`` of
  every record with every column, --batch at a time (what an export script does; opening
  includes chromadb applying its log to the HNSW index);
- ``import-chroma``: the whole import into a fresh Azurite directory: checks, reads,
  staged writes, the publish and the verification pass.

    .venv/bin/python benches/bench_import_chroma.py
    .venv/bin/python benches/bench_import_chroma.py --rows 20000 --dim 128

The directory is cached under --dir (default ~/.cache/azurite/bench-import-chroma) by its
parameters, since writing it through chromadb takes longer than both runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

WRITE = """
import sys, numpy as np, chromadb
path, rows, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
client = chromadb.PersistentClient(path=path)
collection = client.create_collection("bench", embedding_function=None)
rng = np.random.default_rng(0)
for start in range(0, rows, 5000):
    n = min(5000, rows - start)
    collection.add(
        ids=[f"r{i}" for i in range(start, start + n)],
        embeddings=rng.standard_normal((n, dim)).astype(np.float32),
        documents=[f"record {i} of the benchmark" for i in range(start, start + n)],
        metadatas=[{"i": i, "kind": f"k{i % 10}", "even": i % 2 == 0, "score": i / 3}
                   for i in range(start, start + n)],
        uris=[f"s3://bucket/{i}" for i in range(start, start + n)],
    )
"""

CHROMADB_GET = """
import resource, sys, time, chromadb
path, batch = sys.argv[1], int(sys.argv[2])
started = time.perf_counter()
collection = chromadb.PersistentClient(path=path).get_collection("bench")
total = collection.count()
read = 0
for offset in range(0, total, batch):
    got = collection.get(limit=batch, offset=offset,
                         include=["embeddings", "documents", "metadatas", "uris"])
    read += len(got["ids"])
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime, read)
"""

IMPORT = """
import resource, sys, time
from azurite.io.chroma import import_chroma
started = time.perf_counter()
report = import_chroma(sys.argv[1], sys.argv[2])
assert report.ok, report
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime,
      report.collections[0].imported_count)
"""


def timed(script: str, *arguments: str) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds of the process (every thread, start-up included) and
    records, as the script reports them."""
    out = subprocess.run(
        [sys.executable, "-c", script, *arguments], capture_output=True, text=True, check=True
    )
    seconds, cpu, records = out.stdout.split()
    return float(seconds), float(cpu), int(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--batch", type=int, default=5_000, help="chromadb get page size")
    parser.add_argument(
        "--dir", type=Path, default=Path.home() / ".cache/azurite/bench-import-chroma"
    )
    args = parser.parse_args()

    source = args.dir / f"chroma-{args.rows}x{args.dim}"
    if not (source / "chroma.sqlite3").exists():
        shutil.rmtree(source, ignore_errors=True)
        source.parent.mkdir(parents=True, exist_ok=True)
        print(f"writing {source} with chromadb ...", flush=True)
        subprocess.run(
            [sys.executable, "-c", WRITE, str(source), str(args.rows), str(args.dim)], check=True
        )
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "chroma"
        shutil.copytree(source, copy)
        chroma_seconds, chroma_cpu, chroma_rows = timed(CHROMADB_GET, str(copy), str(args.batch))
        import_seconds, import_cpu, imported = timed(
            IMPORT, str(source), str(Path(scratch) / "azurite")
        )
    assert chroma_rows == imported == args.rows, (chroma_rows, imported)
    result = {
        "rows": args.rows,
        "dim": args.dim,
        "chromadb_get_s": round(chroma_seconds, 2),
        "chromadb_get_cpu_s": round(chroma_cpu, 2),
        "import_chroma_s": round(import_seconds, 2),
        "import_chroma_cpu_s": round(import_cpu, 2),
        "ratio": round(import_seconds / chroma_seconds, 2),
        "cpu_ratio": round(import_cpu / chroma_cpu, 2),
        "import_rows_per_s": round(args.rows / import_seconds),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
