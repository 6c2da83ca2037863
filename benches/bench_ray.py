"""Documents embedded and ingested through Ray Data against one plain process.

    .venv/bin/python benches/bench_ray.py [--documents 100000] [--workers 2] [--seed 0]

The same seeded twenty-word sentences (bench_embedding's), each with two metadata keys,
become a collection of a fresh database directory twice, embedded by the default
all-MiniLM-L6-v2:

* ``one process``: a ``PersistentClient`` adding documents and metadata in batches of
  1,000, so that the collection embeds them (onnxruntime on every core) and indexes them
  as it goes;
* ``ray``: ``ray.init(num_cpus=workers)`` (timed apart), then a dataset of the rows,
  ``azurite.ray.embed_documents`` with ``workers`` actors and ``write_collection`` of the
  vectors, documents and metadata: one import, searchable (exactly) once it returns, its
  graph built afterwards by the next client's index builder, which is timed too.

Both collections are then compared: the same ids, and each of 50 documents' own vector
finding it first. Results go to benches/results/latest-ray.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
from bench_embedding import sentences

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "latest-ray.json"
BATCH = 1_000
BLOCK_ROWS = 2_000


def rows(count: int, seed: int) -> pa.Table:
    return pa.table(
        {
            "id": [f"doc-{n}" for n in range(count)],
            "text": sentences(count, 20, seed),
            "shard": [n % 16 for n in range(count)],
            "source": [f"feed {n % 7}" for n in range(count)],
        }
    )


def one_process(directory: Path, table: pa.Table) -> dict[str, Any]:
    import azurite

    with azurite.PersistentClient(directory) as client:
        return _add_all(client.create_collection("docs"), table)


def _add_all(collection: Any, table: pa.Table) -> dict[str, Any]:
    ids = table.column("id").to_pylist()
    texts = table.column("text").to_pylist()
    metadatas = table.select(["shard", "source"]).to_pylist()
    started = time.perf_counter()
    for start in range(0, len(ids), BATCH):
        end = start + BATCH
        collection.add(
            ids=ids[start:end], documents=texts[start:end], metadatas=metadatas[start:end]
        )
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "documents_per_second": len(ids) / seconds}


def through_ray(directory: Path, table: pa.Table, workers: int, batch_size: int) -> dict[str, Any]:
    import ray

    import azurite
    from azurite.ray import embed_documents, write_collection

    started = time.perf_counter()
    # Ray sets OMP_NUM_THREADS to an actor's CPUs, and the model computes on that many.
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    init_seconds = time.perf_counter() - started
    try:
        started = time.perf_counter()
        blocks = [table.slice(start, BLOCK_ROWS) for start in range(0, len(table), BLOCK_ROWS)]
        dataset = embed_documents(
            ray.data.from_arrow(blocks),
            document_column="text",
            concurrency=workers,
            batch_size=batch_size,
        )
        write_collection(
            dataset,
            directory,
            "docs",
            embedding_column="embedding",
            document_column="text",
            metadata_columns=["shard", "source"],
            # The actors hold every CPU; the write tasks only stage Parquet files.
            ray_remote_args={"num_cpus": 0},
        )
        seconds = time.perf_counter() - started
    finally:
        ray.shutdown()
    started = time.perf_counter()
    with azurite.PersistentClient(directory) as client:
        collection = client.get_collection("docs")
        while collection.index_stats()["pending"]:
            time.sleep(0.2)
        graph_seconds = time.perf_counter() - started
    return {
        "ray_init_seconds": init_seconds,
        "seconds": seconds,
        "documents_per_second": len(table) / seconds,
        "graph_after_import_seconds": graph_seconds,
        "until_graph_built_documents_per_second": len(table) / (seconds + graph_seconds),
    }


def agree(first: Path, second: Path, table: pa.Table) -> dict[str, Any]:
    import azurite

    probe = table.column("id").to_pylist()[:: max(1, len(table) // 50)][:50]
    found = 0
    for directory in (first, second):
        with azurite.PersistentClient(directory) as client:
            collection = client.get_collection("docs")
            assert collection.count() == len(table)
            got = collection.get(ids=probe, include=["embeddings"])
            hits = collection.query(query_embeddings=got["embeddings"], n_results=1, include=[])
            found += sum(hit[0] == name for hit, name in zip(hits["ids"], got["ids"]))
    return {"count": len(table), "self_hits": found, "probes": 2 * len(probe)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=1024, help="rows per actor call")
    parser.add_argument("--skip-one-process", action="store_true")
    arguments = parser.parse_args()
    table = rows(arguments.documents, arguments.seed)
    with tempfile.TemporaryDirectory() as scratch:
        results: dict[str, Any] = {
            "documents": arguments.documents,
            "workers": arguments.workers,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_before": os.getloadavg(),
        }
        ray_directory = Path(scratch) / "ray"
        results["ray"] = through_ray(ray_directory, table, arguments.workers, arguments.batch_size)
        print(json.dumps(results["ray"]), flush=True)
        if not arguments.skip_one_process:
            one_directory = Path(scratch) / "one"
            results["one_process"] = one_process(one_directory, table)
            print(json.dumps(results["one_process"]), flush=True)
            results["ray_speedup"] = results["one_process"]["seconds"] / results["ray"]["seconds"]
            results["ray_speedup_until_graph_built"] = results["one_process"]["seconds"] / (
                results["ray"]["seconds"] + results["ray"]["graph_after_import_seconds"]
            )
            results["agreement"] = agree(one_directory, ray_directory, table)
        results["load_after"] = os.getloadavg()
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
