"""Vector index benchmark: Azurite against chromadb 1.5.9 on the same seeded workload.

    .venv/bin/python benches/bench_index.py [--n 100000] [--dim 384] [--queries 200]
                                            [--systems azurite,chromadb] [--seed 0]

Each system runs in child processes (this same file with --phase) on a fresh temporary
directory with a PersistentClient, so that its peak RSS is its own and one system's memory
cannot slow the other:

- ``main``: ingest with metadata and documents, then queries at the default ef and at ef 10
  and 200, 1- and 2-thread throughput, filtered queries, a selectivity sweep, ``get(where)``,
  delete 10% (then recall), update 1,000 embeddings; disk after close; peak RSS.
- ``cold``: a new process opens that directory and runs one query.
- ``plain``: ingest of embeddings only, on a directory of its own.

The parent computes every exact answer with numpy, prints a table with the ratio Azurite /
chromadb and writes benches/results/latest-index.json. See benches/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

BATCH_SIZE = 5_000  # below chromadb's max batch size of 5,461
CLUSTERS = 100
CLUSTER_SPREAD = 0.35  # noise around each centre, before normalisation
TOPICS = ("amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heron", "iris",
          "juniper", "kestrel", "lotus", "maple", "nectar", "onyx")  # fmt: skip
NEIGHBOURS = 10
WARM_UP_QUERIES = 5
FILTERED_QUERIES = 100
THREAD_QUERIES = 400  # per thread, in the 1- vs 2-thread throughput runs
GET_WHERE_REPEATS = 10
UPDATED = 1_000
COLLECTION = "bench"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "latest-index.json"

# Filters with their selectivity; `cluster` is uniform over 0..99, a topic is 1 record in 15.
FILTERS: dict[str, dict[str, Any]] = {
    "5%": {"where": {"cluster": {"$lt": 5}}},
    "14%": {"where": {"cluster": {"$lt": 14}}},
    "$contains 6.7%": {"where_document": {"$contains": "topic ember"}},
}
# Where the sweep looks: cluster < c keeps about c% of the records.
SWEEP_CLUSTERS = (1, 2, 5, 10, 14, 18, 22, 26, 30, 40, 60)
SWEEP_QUERIES = 40


# --------------------------------------------------------------------------------------------
# Workload: every piece is drawn from its own seeded stream, so a child can generate one batch
# at a time (keeping its memory for the engine) and the parent can regenerate all of it.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    n: int
    dim: int
    queries: int
    seed: int

    def centres(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 0])
        return _unit_rows(rng.normal(size=(CLUSTERS, self.dim)))

    def batches(self) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(first row, vectors, cluster of each row) for consecutive batches of BATCH_SIZE."""
        centres = self.centres()
        for number, start in enumerate(range(0, self.n, BATCH_SIZE)):
            size = min(BATCH_SIZE, self.n - start)
            rng = np.random.default_rng([self.seed, 1, number])
            clusters = rng.integers(0, CLUSTERS, size)
            noise = rng.normal(scale=CLUSTER_SPREAD / np.sqrt(self.dim), size=(size, self.dim))
            yield start, _unit_rows(centres[clusters] + noise), clusters

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        parts = list(self.batches())
        return (
            np.concatenate([vectors for _, vectors, _ in parts]),
            np.concatenate([clusters for _, _, clusters in parts]),
        )

    def query_vectors(self) -> np.ndarray:
        return self._drawn(2, self.queries)

    def updated_vectors(self) -> np.ndarray:
        return self._drawn(3, len(self.updated_rows()))

    def _drawn(self, stream: int, count: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, stream])
        clusters = rng.integers(0, CLUSTERS, count)
        noise = rng.normal(scale=CLUSTER_SPREAD / np.sqrt(self.dim), size=(count, self.dim))
        return _unit_rows(self.centres()[clusters] + noise)

    def deleted_rows(self) -> np.ndarray:
        return np.arange(0, self.n, 10)  # 10% of the records, spread over the collection

    def updated_rows(self) -> np.ndarray:
        return np.arange(5, self.n, 10)[:UPDATED]  # live rows, after the delete


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def record_ids(rows: Any) -> list[str]:
    return [f"r{row}" for row in rows]


def record_metadatas(start: int, clusters: np.ndarray) -> list[dict[str, Any]]:
    return [
        {
            "cluster": int(cluster),
            "bucket": (start + offset) % 10,
            "kind": ("article", "note", "reply")[(start + offset) % 3],
            "even": (start + offset) % 2 == 0,
        }
        for offset, cluster in enumerate(clusters)
    ]


def record_topic(row: int) -> str:
    return TOPICS[row % len(TOPICS)]


def record_documents(start: int, clusters: np.ndarray) -> list[str]:
    return [
        f"record {start + offset} of cluster {cluster} topic {record_topic(start + offset)}"
        for offset, cluster in enumerate(clusters)
    ]


# --------------------------------------------------------------------------------------------
# Children: one system, one phase
# --------------------------------------------------------------------------------------------


def open_collection(system: Any, directory: Path, create: bool) -> tuple[Any, Any]:
    client = system.PersistentClient(
        path=str(directory), settings=system.Settings(anonymized_telemetry=False)
    )
    if create:
        return client, client.create_collection(COLLECTION, embedding_function=None)
    return client, client.get_collection(COLLECTION, embedding_function=None)


def ingest(collection: Any, workload: Workload, with_metadata: bool) -> list[float]:
    """Seconds spent inside each add(); generating the batches is not counted."""
    spent = []
    for start, vectors, clusters in workload.batches():
        ids = record_ids(range(start, start + len(vectors)))
        extra: dict[str, Any] = {}
        if with_metadata:
            extra = {
                "metadatas": record_metadatas(start, clusters),
                "documents": record_documents(start, clusters),
            }
        began = time.perf_counter()
        collection.add(ids=ids, embeddings=vectors, **extra)
        spent.append(time.perf_counter() - began)
    return spent


def timed_queries(
    collection: Any, queries: np.ndarray, **filters: Any
) -> tuple[list[float], list[list[str]]]:
    """Latency of each single-vector query (default include) and the ids it returned."""
    for query in queries[:WARM_UP_QUERIES]:  # first queries may load or page in the index
        collection.query(query_embeddings=[query], n_results=NEIGHBOURS, **filters)
    latencies, result_ids = [], []
    for query in queries:
        began = time.perf_counter()
        result = collection.query(query_embeddings=[query], n_results=NEIGHBOURS, **filters)
        latencies.append(time.perf_counter() - began)
        result_ids.append(result["ids"][0])
    return latencies, result_ids


def queries_per_second(collection: Any, queries: np.ndarray, threads: int) -> float:
    def work() -> None:
        for i in range(THREAD_QUERIES):
            collection.query(query_embeddings=[queries[i % len(queries)]], n_results=NEIGHBOURS)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    began = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * THREAD_QUERIES / (time.perf_counter() - began)


def set_ef_search(collection: Any, ef_search: int) -> None:
    collection.modify(configuration={"hnsw": {"ef_search": ef_search}})


def run_main(system: Any, workload: Workload, directory: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {"baseline_rss_bytes": _peak_rss_bytes()}
    client, collection = open_collection(system, directory, create=True)
    figures["ingest_batch_seconds"] = ingest(collection, workload, with_metadata=True)

    queries = workload.query_vectors()
    for ef_search in (10, 200, 100):  # 100 is the default, measured last and kept
        set_ef_search(collection, ef_search)
        latencies, ids = timed_queries(collection, queries)
        figures[f"query_ef{ef_search}"] = {"latencies": latencies, "ids": ids}

    queries_per_second(collection, queries, 1)  # warm-up
    figures["qps_1_thread"] = queries_per_second(collection, queries, 1)
    figures["qps_2_threads"] = queries_per_second(collection, queries, 2)

    filtered = queries[:FILTERED_QUERIES]
    for name, filters in FILTERS.items():
        latencies, ids = timed_queries(collection, filtered, **filters)
        figures[f"filtered {name}"] = {"latencies": latencies, "ids": ids}
    for below in SWEEP_CLUSTERS:
        latencies, ids = timed_queries(
            collection, queries[:SWEEP_QUERIES], where={"cluster": {"$lt": below}}
        )
        figures[f"sweep {below}"] = {"latencies": latencies, "ids": ids}

    get_where = {"cluster": {"$lt": 5}}
    collection.get(where=get_where)  # warm-up
    seconds = []
    for _ in range(GET_WHERE_REPEATS):
        began = time.perf_counter()
        got = collection.get(where=get_where)
        seconds.append(time.perf_counter() - began)
    figures["get_where"] = {"seconds": seconds, "rows": len(got["ids"])}

    deleted = record_ids(workload.deleted_rows())
    began = time.perf_counter()
    for start in range(0, len(deleted), BATCH_SIZE):
        collection.delete(ids=deleted[start : start + BATCH_SIZE])
    figures["delete_seconds"] = time.perf_counter() - began
    latencies, ids = timed_queries(collection, queries)
    figures["query_after_delete"] = {"latencies": latencies, "ids": ids}

    updated_ids = record_ids(workload.updated_rows())
    new_vectors = workload.updated_vectors()
    began = time.perf_counter()
    collection.update(ids=updated_ids, embeddings=new_vectors)
    figures["update_seconds"] = time.perf_counter() - began
    found = collection.query(query_embeddings=new_vectors[:100], n_results=1, include=[])
    figures["updated_found_first"] = sum(
        ids == [expected] for ids, expected in zip(found["ids"], updated_ids[:100])
    )

    client.close()
    figures["disk_bytes"] = _directory_bytes(directory)
    figures["peak_rss_bytes"] = _peak_rss_bytes()
    return figures


def run_cold(system: Any, workload: Workload, directory: Path) -> dict[str, Any]:
    query = workload.query_vectors()[0]
    began = time.perf_counter()
    client, collection = open_collection(system, directory, create=False)
    result = collection.query(query_embeddings=[query], n_results=NEIGHBOURS)
    seconds = time.perf_counter() - began
    client.close()
    return {"cold_open_seconds": seconds, "cold_result": result["ids"][0]}


def run_plain(system: Any, workload: Workload, directory: Path) -> dict[str, Any]:
    client, collection = open_collection(system, directory, create=True)
    seconds = ingest(collection, workload, with_metadata=False)
    client.close()
    return {"plain_ingest_seconds": sum(seconds)}


PHASES = {"main": run_main, "cold": run_cold, "plain": run_plain}


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def _directory_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


# --------------------------------------------------------------------------------------------
# Parent: run the children, compute the exact answers, report
# --------------------------------------------------------------------------------------------


def run_phase(system_name: str, phase: str, workload: Workload, directory: Path) -> dict:
    command = [
        sys.executable, __file__, "--phase", phase, "--child", system_name,
        "--directory", str(directory),
        "--n", str(workload.n), "--dim", str(workload.dim),
        "--queries", str(workload.queries), "--seed", str(workload.seed),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{system_name} {phase} failed:\n{completed.stderr[-4000:]}")
    # The figures are the last line: libraries may print to stdout before it.
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run_system(system_name: str, workload: Workload) -> dict[str, Any]:
    figures: dict[str, Any] = {"system": system_name}
    for phase in ("main", "cold"), ("plain",):
        directory = Path(tempfile.mkdtemp(prefix=f"bench-{system_name}-"))
        try:
            for name in phase:
                print(f"  {system_name}: {name}", flush=True)
                figures.update(run_phase(system_name, name, workload, directory))
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return figures


class Truth:
    """Exact nearest neighbours by squared l2 (the collections' default space)."""

    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self.vectors, self.clusters = workload.all_vectors()
        self.norms = np.einsum("ij,ij->i", self.vectors, self.vectors)
        self.topics = np.array([record_topic(row) for row in range(workload.n)])

    def neighbours(self, queries: np.ndarray, allowed: np.ndarray) -> list[set[str]]:
        rows = np.flatnonzero(allowed)
        vectors, norms = self.vectors[rows], self.norms[rows]
        truth = []
        for query in queries:
            distances = norms - 2.0 * (vectors @ query)  # + |q|², the same for every row
            best = np.argpartition(distances, NEIGHBOURS)[:NEIGHBOURS]
            truth.append({f"r{row}" for row in rows[best]})
        return truth

    def allowed(self, name: str) -> np.ndarray:
        if name.startswith("sweep "):
            return self.clusters < int(name.split()[1])
        if name == "$contains 6.7%":
            return self.topics == "ember"
        return self.clusters < int(name.rstrip("%"))


def recall(result_ids: list[list[str]], truth: list[set[str]]) -> float:
    found = [
        len(expected.intersection(ids)) / NEIGHBOURS for ids, expected in zip(result_ids, truth)
    ]
    return float(np.mean(found))


def summarise(figures: dict[str, Any], truth: Truth) -> dict[str, float]:
    workload = truth.workload
    queries = workload.query_vectors()
    everything = np.ones(workload.n, dtype=bool)
    plain_truth = truth.neighbours(queries, everything)
    batch_seconds = figures["ingest_batch_seconds"]
    tenth = max(1, len(batch_seconds) // 10)
    summary: dict[str, float] = {
        "ingest vec/s (metadata + documents)": workload.n / sum(batch_seconds),
        "ingest vec/s, first 10% of batches": tenth * BATCH_SIZE / sum(batch_seconds[:tenth]),
        "ingest vec/s, last 10% of batches": tenth * BATCH_SIZE / sum(batch_seconds[-tenth:]),
        "ingest vec/s (embeddings only)": workload.n / figures["plain_ingest_seconds"],
    }
    for ef in (100, 10, 200):
        measured = figures[f"query_ef{ef}"]
        label = "default ef 100" if ef == 100 else f"ef {ef}"
        summary[f"query p50 ms, {label}"] = _ms(measured["latencies"], 50)
        summary[f"query p99 ms, {label}"] = _ms(measured["latencies"], 99)
        summary[f"recall@10, {label}"] = recall(measured["ids"], plain_truth)
    summary["QPS, 1 thread"] = figures["qps_1_thread"]
    summary["QPS, 2 threads"] = figures["qps_2_threads"]
    summary["2-thread / 1-thread QPS"] = figures["qps_2_threads"] / figures["qps_1_thread"]
    for name in FILTERS:
        measured = figures[f"filtered {name}"]
        expected = truth.neighbours(queries[:FILTERED_QUERIES], truth.allowed(name))
        summary[f"filtered {name} p50 ms"] = _ms(measured["latencies"], 50)
        summary[f"filtered {name} recall@10"] = recall(measured["ids"], expected)
    for below in SWEEP_CLUSTERS:
        measured = figures[f"sweep {below}"]
        allowed = truth.allowed(f"sweep {below}")
        expected = truth.neighbours(queries[:SWEEP_QUERIES], allowed)
        share = f"{100 * allowed.mean():.1f}%"
        summary[f"sweep cluster<{below} ({share}) p50 ms"] = _ms(measured["latencies"], 50)
        summary[f"sweep cluster<{below} ({share}) recall@10"] = recall(measured["ids"], expected)
    summary["get(where) 5% p50 ms"] = _ms(figures["get_where"]["seconds"], 50)
    summary["get(where) rows"] = figures["get_where"]["rows"]
    summary["delete 10% s"] = figures["delete_seconds"]
    remaining = np.ones(workload.n, dtype=bool)
    remaining[workload.deleted_rows()] = False
    after = figures["query_after_delete"]
    summary["recall@10 after delete"] = recall(after["ids"], truth.neighbours(queries, remaining))
    summary["update 1,000 s"] = figures["update_seconds"]
    summary["updated rows found first (of 100)"] = figures["updated_found_first"]
    summary["cold open + first query s"] = figures["cold_open_seconds"]
    mib = 1024 * 1024
    summary["peak RSS MiB"] = figures["peak_rss_bytes"] / mib
    summary["peak - baseline MiB"] = (
        figures["peak_rss_bytes"] - figures["baseline_rss_bytes"]
    ) / mib
    summary["disk MiB (after delete and update)"] = figures["disk_bytes"] / mib
    return summary


def _ms(seconds: list[float], percentile: int) -> float:
    return float(np.percentile(seconds, percentile) * 1e3)


def report(workload: Workload, summaries: dict[str, dict[str, float]]) -> dict[str, Any]:
    names = list(summaries)
    compare = sorted(names) == ["azurite", "chromadb"]
    print(f"\nn={workload.n:,} dim={workload.dim} queries={workload.queries} seed={workload.seed}")
    print(
        f"{'':46}"
        + "".join(f"{name:>12}" for name in names)
        + ("   azurite/chromadb" if compare else "")
    )
    ratios: dict[str, float] = {}
    for key in summaries[names[0]]:
        values = [summaries[name][key] for name in names]
        line = f"{key:46}" + "".join(f"{value:>12,.4g}" for value in values)
        if compare and summaries["chromadb"][key]:
            ratios[key] = summaries["azurite"][key] / summaries["chromadb"][key]
            line += f"{ratios[key]:>19.3g}"
        print(line)
    return {
        "workload": asdict(workload),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_end": os.getloadavg(),
        },
        "systems": summaries,
        "ratios_azurite_over_chromadb": ratios,
    }


# Issue 3's targets, as a ratio Azurite / chromadb (or an absolute bound), per figure.
TARGETS = {
    "ingest vec/s (metadata + documents)": ">= 5x",
    "query p50 ms, default ef 100": "<= 0.25x",
    "recall@10, default ef 100": ">= chromadb",
    "2-thread / 1-thread QPS": ">= 1.8 (Azurite)",
    "filtered 5% p50 ms": "<= 1 ms",
    "filtered 5% recall@10": "= 1.0",
    "filtered 14% p50 ms": "<= 1 ms",
    "filtered 14% recall@10": "= 1.0",
    "filtered $contains 6.7% p50 ms": "<= 1 ms",
    "filtered $contains 6.7% recall@10": "= 1.0",
    "get(where) 5% p50 ms": "<= 0.1x",
    "delete 10% s": "<= 0.2x",
    "update 1,000 s": "<= 0.2x",
    "cold open + first query s": "<= 0.5x",
    "peak RSS MiB": "<= 0.8x",
    "disk MiB (after delete and update)": "<= 1.0x",
}


def markdown(summaries: dict[str, dict[str, float]], ratios: dict[str, float]) -> str:
    """The table of docs/benchmarks.md."""
    names = list(summaries)
    lines = [
        "| figure | " + " | ".join(names) + " | Azurite / chromadb | target |",
        "|---|" + "---:|" * len(names) + "---:|---|",
    ]
    for key in summaries[names[0]]:
        values = " | ".join(f"{summaries[name][key]:,.4g}" for name in names)
        ratio = f"{ratios[key]:.3g}" if key in ratios else ""
        lines.append(f"| {key} | {values} | {ratio} | {TARGETS.get(key, '')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="records to ingest")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--systems", default="azurite,chromadb", help="comma-separated")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    workload = Workload(arguments.n, arguments.dim, arguments.queries, arguments.seed)

    if arguments.phase:
        system = importlib.import_module(arguments.child)
        figures = PHASES[arguments.phase](system, workload, Path(arguments.directory))
        figures["version"] = system.__version__
        print(json.dumps(figures))
        return

    print(f"load average at start: {os.getloadavg()}", flush=True)
    figures = [run_system(name, workload) for name in arguments.systems.split(",")]
    truth = Truth(workload)
    summaries = {f["system"]: summarise(f, truth) for f in figures}
    results = report(workload, summaries)
    results["versions"] = {f["system"]: f["version"] for f in figures}
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n")
    table = RESULTS_FILE.with_suffix(".md")
    table.write_text(markdown(summaries, results["ratios_azurite_over_chromadb"]))
    print(f"\nwritten to {RESULTS_FILE} and {table}")


if __name__ == "__main__":
    main()
