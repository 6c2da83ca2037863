"""Ingest and query benchmark: Azurite against chromadb 1.5.9 on the same seeded workload.

    .venv/bin/python benches/bench_exact.py [--n 100000] [--dim 384] [--queries 200]
                                            [--systems azurite,chromadb] [--seed 0]

Each system runs in its own child process (this same file with --child) on a fresh temporary
directory with a PersistentClient, so that its peak RSS is its own and one system's memory
cannot slow the other. The parent computes the exact neighbours with numpy, prints a table
and writes benches/results/latest-exact.json. See benches/README.md for what is measured.
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
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

BATCH_SIZE = 5_000  # below chromadb's max batch size of 5,461
CLUSTERS = 100
CLUSTER_SPREAD = 0.35  # noise around each centre, before normalisation
NEIGHBOURS = 10
WARM_UP_QUERIES = 5
COLLECTION = "bench"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "latest-exact.json"


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

    def all_vectors(self) -> np.ndarray:
        return np.concatenate([vectors for _, vectors, _ in self.batches()])

    def query_vectors(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 2])
        clusters = rng.integers(0, CLUSTERS, self.queries)
        noise = rng.normal(scale=CLUSTER_SPREAD / np.sqrt(self.dim), size=(self.queries, self.dim))
        return _unit_rows(self.centres()[clusters] + noise)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def record_ids(start: int, count: int) -> list[str]:
    return [f"r{row}" for row in range(start, start + count)]


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


def record_documents(start: int, clusters: np.ndarray) -> list[str]:
    return [
        f"record {start + offset} of cluster {cluster}" for offset, cluster in enumerate(clusters)
    ]


# --------------------------------------------------------------------------------------------
# Child: one system, one directory
# --------------------------------------------------------------------------------------------


@dataclass
class SystemFigures:
    system: str
    version: str
    ingest_seconds: float
    ingest_vectors_per_second: float
    query_p50_ms: float
    query_p99_ms: float
    query_mean_ms: float
    baseline_rss_bytes: int  # after imports, before the client opened: the interpreter's share
    peak_rss_bytes: int
    disk_bytes: int
    result_ids: list[list[str]]


def run_child(system_name: str, workload: Workload, directory: Path) -> SystemFigures:
    system = importlib.import_module(system_name)
    baseline_rss = _peak_rss_bytes()
    client = system.PersistentClient(
        path=str(directory), settings=system.Settings(anonymized_telemetry=False)
    )
    collection = client.create_collection(COLLECTION, embedding_function=None)
    ingest_seconds = _ingest(collection, workload)
    latencies, result_ids = _query(collection, workload.query_vectors())
    client.close()
    return SystemFigures(
        system=system_name,
        version=system.__version__,
        ingest_seconds=ingest_seconds,
        ingest_vectors_per_second=workload.n / ingest_seconds,
        query_p50_ms=float(np.percentile(latencies, 50) * 1e3),
        query_p99_ms=float(np.percentile(latencies, 99) * 1e3),
        query_mean_ms=float(np.mean(latencies) * 1e3),
        baseline_rss_bytes=baseline_rss,
        peak_rss_bytes=_peak_rss_bytes(),
        disk_bytes=_directory_bytes(directory),
        result_ids=result_ids,
    )


def _ingest(collection: Any, workload: Workload) -> float:
    """Seconds spent inside add(); generating the batches is not counted."""
    spent = 0.0
    for start, vectors, clusters in workload.batches():
        ids = record_ids(start, len(vectors))
        metadatas = record_metadatas(start, clusters)
        documents = record_documents(start, clusters)
        began = time.perf_counter()
        collection.add(ids=ids, embeddings=vectors, metadatas=metadatas, documents=documents)
        spent += time.perf_counter() - began
    return spent


def _query(collection: Any, queries: np.ndarray) -> tuple[np.ndarray, list[list[str]]]:
    """Latency of each single-vector query with the default include, and the ids it returned."""
    for query in queries[:WARM_UP_QUERIES]:  # first queries may load or page in the index
        collection.query(query_embeddings=[query], n_results=NEIGHBOURS)
    latencies, result_ids = [], []
    for query in queries:
        began = time.perf_counter()
        result = collection.query(query_embeddings=[query], n_results=NEIGHBOURS)
        latencies.append(time.perf_counter() - began)
        result_ids.append(result["ids"][0])
    return np.asarray(latencies), result_ids


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def _directory_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


# --------------------------------------------------------------------------------------------
# Parent: run the children, compute recall, report
# --------------------------------------------------------------------------------------------


def run_system_in_child(system_name: str, workload: Workload) -> SystemFigures:
    directory = Path(tempfile.mkdtemp(prefix=f"bench-{system_name}-"))
    try:
        command = [
            sys.executable,
            __file__,
            "--child",
            system_name,
            "--directory",
            str(directory),
            *_workload_arguments(workload),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"{system_name} failed:\n{completed.stderr[-4000:]}")
        # The figures are the last line: libraries may print to stdout before it.
        return SystemFigures(**json.loads(completed.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _workload_arguments(workload: Workload) -> list[str]:
    return [
        "--n", str(workload.n), "--dim", str(workload.dim),
        "--queries", str(workload.queries), "--seed", str(workload.seed),
    ]  # fmt: skip


def exact_neighbours(workload: Workload) -> list[set[str]]:
    """True top-k ids by squared l2 (the collections' default space)."""
    vectors = workload.all_vectors()
    queries = workload.query_vectors()
    squared_norms = np.einsum("ij,ij->i", vectors, vectors)
    truth = []
    for query in queries:
        distances = squared_norms - 2.0 * (vectors @ query)  # + |q|², the same for every row
        best = np.argpartition(distances, NEIGHBOURS)[:NEIGHBOURS]
        truth.append({f"r{row}" for row in best})
    return truth


def recall_at_k(result_ids: list[list[str]], truth: list[set[str]]) -> float:
    found = [
        len(truth_ids.intersection(ids)) / NEIGHBOURS for ids, truth_ids in zip(result_ids, truth)
    ]
    return float(np.mean(found))


def report(
    workload: Workload, figures: list[SystemFigures], recalls: dict[str, float]
) -> dict[str, Any]:
    rows = [
        ("ingest vectors/s", "ingest_vectors_per_second", "{:,.0f}"),
        ("ingest seconds", "ingest_seconds", "{:.1f}"),
        ("query p50 ms", "query_p50_ms", "{:.2f}"),
        ("query p99 ms", "query_p99_ms", "{:.2f}"),
        ("query mean ms", "query_mean_ms", "{:.2f}"),
        ("recall@10", "recall_at_10", "{:.4f}"),
        ("peak RSS MiB", "peak_rss_mib", "{:,.0f}"),
        ("peak - baseline MiB", "engine_rss_mib", "{:,.0f}"),
        ("disk MiB", "disk_mib", "{:,.1f}"),
    ]
    summaries = {f.system: _summary(f, recalls[f.system]) for f in figures}
    names = list(summaries)
    compare = names == ["azurite", "chromadb"] or names == ["chromadb", "azurite"]
    header = f"{'':22}" + "".join(f"{name:>14}" for name in names)
    print(f"\nn={workload.n:,} dim={workload.dim} queries={workload.queries} seed={workload.seed}")
    print(header + (f"{'azurite/chromadb':>18}" if compare else ""))
    ratios: dict[str, float] = {}
    for label, key, style in rows:
        line = f"{label:22}" + "".join(f"{style.format(summaries[n][key]):>14}" for n in names)
        if compare and summaries["chromadb"][key]:
            ratios[key] = summaries["azurite"][key] / summaries["chromadb"][key]
            line += f"{ratios[key]:>18.2f}"
        print(line)
    return {
        "workload": asdict(workload),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "systems": summaries,
        "ratios_azurite_over_chromadb": ratios,
    }


def _summary(figures: SystemFigures, recall: float) -> dict[str, Any]:
    summary = {key: value for key, value in asdict(figures).items() if key != "result_ids"}
    mib = 1024 * 1024
    summary.update(
        recall_at_10=recall,
        peak_rss_mib=figures.peak_rss_bytes / mib,
        engine_rss_mib=(figures.peak_rss_bytes - figures.baseline_rss_bytes) / mib,
        disk_mib=figures.disk_bytes / mib,
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="records to ingest")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--systems", default="azurite,chromadb", help="comma-separated")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    workload = Workload(arguments.n, arguments.dim, arguments.queries, arguments.seed)

    if arguments.child:
        figures = run_child(arguments.child, workload, Path(arguments.directory))
        print(json.dumps(asdict(figures)))
        return

    figures = []
    for name in arguments.systems.split(","):
        print(f"running {name} ...", flush=True)
        figures.append(run_system_in_child(name, workload))
    truth = exact_neighbours(workload)
    recalls = {f.system: recall_at_k(f.result_ids, truth) for f in figures}
    results = report(workload, figures, recalls)
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {RESULTS_FILE}")


if __name__ == "__main__":
    main()
