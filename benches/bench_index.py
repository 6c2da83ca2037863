"""Vector index benchmark: Azurite against chromadb 1.5.9 on the same seeded workload.

    .venv/bin/python benches/bench_index.py [--profile full|scale] [--n N] [--dim 384]
                                            [--queries 200] [--batch 1000]
                                            [--systems azurite,chromadb] [--seed 0]

Each system runs in child processes (this same file with --phase) on a fresh temporary
directory with a PersistentClient, so that its peak RSS is its own and one system's memory
cannot slow the other. The ``full`` profile (n = 100,000 by default):

- ``main``: ingest with metadata and documents (peak RSS taken right after it), then
  queries at the default ef and at ef 10 and 200, 1- and 2-thread throughput, filtered
  queries, a selectivity sweep, ``get(where)``, delete 10% (then recall), update 1,000
  embeddings; disk after close; peak RSS of the whole phase.
- ``cold``: a new process opens that directory and runs one query.
- ``exit``: a new process adds 2% more records, updates 1,000 and returns from its main
  without calling ``close()``; ``reopen`` then measures open + first query in a new process
  and checks that every one of those writes is there.
- ``kill``: the same writes on further rows, then the process SIGKILLs itself right after
  the last acknowledged write; ``reopen`` twice (the second open shows whether the first
  one left the directory as fast to open as a clean close does).
- ``plain``: ingest of embeddings only, on a directory of its own.

The ``scale`` profile (n = 1,000,000 by default) keeps what a large collection is about:
ingest with metadata and documents, queries at the default ef, the filtered queries, open
after a clean and after an unclean exit, peak RSS and disk; it skips the ef variants, the
throughput runs, the sweep, ``get(where)``, delete, update and the embeddings-only ingest.

The parent computes every exact answer with numpy, streaming the vectors in blocks, prints a
table with the ratio Azurite / chromadb and writes benches/results/latest-index.json (or
latest-scale.json) and a markdown table beside it. See benches/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_BATCH = 1_000  # the batch; chromadb refuses more than 5,461
GENERATION_BLOCK = 1_000  # rows drawn per seeded stream: the data never depends on --batch
TRUTH_BLOCKS = 20  # generation blocks per step of the exact search in the parent
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
UNCLEAN_ADDED_SHARE = 0.02  # records each unclean-exit child adds, as a share of n
UNCLEAN_UPDATED = 1_000  # records each unclean-exit child gives a new embedding
PROBES = 10  # of the added and of the updated records, looked up after the reopen
COLLECTION = "bench"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
RESULTS_FILES = {
    "full": RESULTS_DIR / "latest-index.json",
    "scale": RESULTS_DIR / "latest-scale.json",
}
DEFAULT_N = {"full": 100_000, "scale": 1_000_000}

# Filters with their selectivity; `cluster` is uniform over 0..99, a topic is 1 record in 15.
FILTERS: dict[str, dict[str, Any]] = {
    "5%": {"where": {"cluster": {"$lt": 5}}},
    "14%": {"where": {"cluster": {"$lt": 14}}},
    "$contains 6.7%": {"where_document": {"$contains": "topic ember"}},
}
# Where the sweep looks: cluster < c keeps about c% of the records.
SWEEP_CLUSTERS = (1, 2, 5, 10, 14, 18, 22, 26, 30, 40, 60)
SWEEP_QUERIES = 40

# The unclean exits, in the order they run, each on rows of its own after the collection's.
UNCLEAN_EXITS = ("exit", "kill")
UNCLEAN_LABELS = {"exit": "exit without close()", "kill": "SIGKILL"}


# --------------------------------------------------------------------------------------------
# Workload: every block of rows is drawn from its own seeded stream, so a child can generate
# one batch at a time (keeping its memory for the engine) and the parent can regenerate any
# of it.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    n: int
    dim: int
    queries: int
    seed: int
    batch: int
    profile: str

    def centres(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 0])
        return _unit_rows(rng.normal(size=(CLUSTERS, self.dim)))

    def rows(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Vectors and clusters of rows start..stop; rows past n continue the same way."""
        centres = self.centres()
        vectors, clusters = [], []
        for block in range(start // GENERATION_BLOCK, (stop - 1) // GENERATION_BLOCK + 1):
            rng = np.random.default_rng([self.seed, 1, block])
            drawn = rng.integers(0, CLUSTERS, GENERATION_BLOCK)
            noise = rng.normal(
                scale=CLUSTER_SPREAD / np.sqrt(self.dim), size=(GENERATION_BLOCK, self.dim)
            )
            first = block * GENERATION_BLOCK
            keep = slice(max(start, first) - first, min(stop, first + GENERATION_BLOCK) - first)
            vectors.append(_unit_rows(centres[drawn[keep]] + noise[keep]))
            clusters.append(drawn[keep])
        return np.concatenate(vectors), np.concatenate(clusters)

    def batches(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        """(first row, vectors, cluster of each row) of consecutive batches of rows."""
        stop = self.n if stop is None else stop
        for first in range(start, stop, self.batch):
            yield (first, *self.rows(first, min(first + self.batch, stop)))

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
        if self.profile == "scale":
            return np.arange(0)
        return np.arange(0, self.n, 10)  # 10% of the records, spread over the collection

    def updated_rows(self) -> np.ndarray:
        return np.arange(5, self.n, 10)[:UPDATED]  # live rows, after the delete

    # The writes of the unclean-exit children: each adds rows of its own after the
    # collection's and gives new embeddings to live rows no other step touches.

    def unclean_added_rows(self, exit_kind: str) -> range:
        added = max(1, round(self.n * UNCLEAN_ADDED_SHARE))
        first = self.n + UNCLEAN_EXITS.index(exit_kind) * added
        return range(first, first + added)

    def unclean_updated_rows(self, exit_kind: str) -> np.ndarray:
        offset = 7 + 2 * UNCLEAN_EXITS.index(exit_kind)  # 7 and 9: never deleted nor updated
        return np.arange(offset, self.n, 10)[:UNCLEAN_UPDATED]

    def unclean_updated_vectors(self, exit_kind: str) -> np.ndarray:
        count = len(self.unclean_updated_rows(exit_kind))
        return self._drawn(4 + UNCLEAN_EXITS.index(exit_kind), count)

    def live_count_after(self, exit_kind: str) -> int:
        steps = UNCLEAN_EXITS[: UNCLEAN_EXITS.index(exit_kind) + 1]
        added = sum(len(self.unclean_added_rows(step)) for step in steps)
        return self.n - len(self.deleted_rows()) + added


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    unit: np.ndarray = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    return unit.astype(np.float32)


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

# Clients an unclean-exit child leaves open until the interpreter ends, as a script that
# never calls close() does.
_LEFT_OPEN: list[Any] = []


def open_collection(system: Any, directory: Path, create: bool) -> tuple[Any, Any]:
    client = system.PersistentClient(
        path=str(directory), settings=system.Settings(anonymized_telemetry=False)
    )
    if create:
        return client, client.create_collection(COLLECTION, embedding_function=None)
    return client, client.get_collection(COLLECTION, embedding_function=None)


def add_rows(
    collection: Any, workload: Workload, start: int, stop: int, with_metadata: bool = True
) -> list[float]:
    """Adds rows start..stop in batches; seconds spent inside each add(), generating the
    batches not counted."""
    spent = []
    for first, vectors, clusters in workload.batches(start, stop):
        ids = record_ids(range(first, first + len(vectors)))
        extra: dict[str, Any] = {}
        if with_metadata:
            extra = {
                "metadatas": record_metadatas(first, clusters),
                "documents": record_documents(first, clusters),
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
    figures["ingest_batch_seconds"] = add_rows(collection, workload, 0, workload.n)
    figures["ingest_peak_rss_bytes"] = _peak_rss_bytes()

    queries = workload.query_vectors()
    full = workload.profile == "full"
    for ef_search in (10, 200, 100) if full else (100,):  # the default, measured last and kept
        set_ef_search(collection, ef_search)
        latencies, ids = timed_queries(collection, queries)
        figures[f"query_ef{ef_search}"] = {"latencies": latencies, "ids": ids}

    if full:
        queries_per_second(collection, queries, 1)  # warm-up
        figures["qps_1_thread"] = queries_per_second(collection, queries, 1)
        figures["qps_2_threads"] = queries_per_second(collection, queries, 2)

    filtered = queries[:FILTERED_QUERIES]
    for name, filters in FILTERS.items():
        latencies, ids = timed_queries(collection, filtered, **filters)
        figures[f"filtered {name}"] = {"latencies": latencies, "ids": ids}
    if full:
        run_main_updates(collection, workload, figures)

    client.close()
    figures["disk_bytes"] = _directory_bytes(directory)
    figures["peak_rss_bytes"] = _peak_rss_bytes()
    return figures


def run_main_updates(collection: Any, workload: Workload, figures: dict[str, Any]) -> None:
    """The full profile's sweep, get(where), delete and update steps."""
    queries = workload.query_vectors()
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
    for start in range(0, len(deleted), workload.batch):
        collection.delete(ids=deleted[start : start + workload.batch])
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


def timed_open(system: Any, workload: Workload, directory: Path) -> tuple[float, Any, Any]:
    """Seconds to open the directory and answer one query (imports not counted)."""
    query = workload.query_vectors()[0]
    began = time.perf_counter()
    client, collection = open_collection(system, directory, create=False)
    collection.query(query_embeddings=[query], n_results=NEIGHBOURS)
    return time.perf_counter() - began, client, collection


def run_cold(system: Any, workload: Workload, directory: Path) -> dict[str, Any]:
    seconds, client, _ = timed_open(system, workload, directory)
    client.close()
    return {"cold_open_seconds": seconds}


def unclean_writes(system: Any, workload: Workload, directory: Path, exit_kind: str) -> None:
    """Adds the exit's records and updates its rows, leaving the client open."""
    client, collection = open_collection(system, directory, create=False)
    _LEFT_OPEN.append(client)
    added = workload.unclean_added_rows(exit_kind)
    add_rows(collection, workload, added.start, added.stop)
    updated = workload.unclean_updated_rows(exit_kind)
    vectors = workload.unclean_updated_vectors(exit_kind)
    for start in range(0, len(updated), workload.batch):
        part = slice(start, start + workload.batch)
        collection.update(ids=record_ids(updated[part]), embeddings=vectors[part])


def run_exit(system: Any, workload: Workload, directory: Path) -> dict[str, Any]:
    unclean_writes(system, workload, directory, "exit")
    return {}  # main prints the figures and returns: the interpreter ends with the client open


def run_kill(system: Any, workload: Workload, directory: Path) -> dict[str, Any]:
    unclean_writes(system, workload, directory, "kill")
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("SIGKILL did not end the process")


def run_reopen(system: Any, workload: Workload, directory: Path, after: str) -> dict[str, Any]:
    """Open + first query after an unclean exit, then whether every write of it is there:
    the record count, the stored embeddings of its last added and last updated records, and
    the last added record among the neighbours of its own vector."""
    seconds, client, collection = timed_open(system, workload, directory)
    added = workload.unclean_added_rows(after)[-PROBES:]
    updated = workload.unclean_updated_rows(after)[-PROBES:]
    probe_ids = record_ids([*added, *updated])
    written = np.concatenate(
        [
            workload.rows(added.start, added.stop)[0],
            workload.unclean_updated_vectors(after)[-PROBES:],
        ]
    )
    # Exact reads, not the graph: a probe that an approximate search misses is still written.
    got = collection.get(ids=probe_ids, include=["embeddings"])
    stored = dict(zip(got["ids"], got["embeddings"]))
    probes_found = sum(
        probe in stored and np.array_equal(np.asarray(stored[probe], np.float32), vector)
        for probe, vector in zip(probe_ids, written)
    )
    last_added = len(added) - 1
    nearest = collection.query(
        query_embeddings=written[last_added : last_added + 1], n_results=NEIGHBOURS
    )
    count = collection.count()
    client.close()
    return {
        "seconds": seconds,
        "count": count,
        "probes": len(probe_ids),
        "probes_found": probes_found,
        "last_added_queried": probe_ids[last_added] in nearest["ids"][0],
    }


def run_plain(system: Any, workload: Workload, directory: Path) -> dict[str, Any]:
    client, collection = open_collection(system, directory, create=True)
    seconds = add_rows(collection, workload, 0, workload.n, with_metadata=False)
    client.close()
    return {"plain_ingest_seconds": sum(seconds)}


PHASES: dict[str, Callable[..., dict[str, Any]]] = {
    "main": run_main,
    "cold": run_cold,
    "exit": run_exit,
    "kill": run_kill,
    "reopen": run_reopen,
    "plain": run_plain,
}


def _peak_rss_bytes() -> int:
    """The process's true high-water mark (not a sample), as the kernel keeps it."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB


def _check_peak_rss_is_own() -> None:
    """Refuses to measure when ru_maxrss already holds the parent's high-water mark: Linux
    keeps it across the exec of a child that subprocess starts with vfork, so a child of a
    large parent would report the parent's peak as its own."""
    status = Path("/proc/self/status")
    if not status.exists():
        return
    fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
    own_peak = int(fields["VmHWM"].split()[0]) * 1024
    if _peak_rss_bytes() > own_peak + 64 * 1024 * 1024:
        raise SystemExit(
            f"ru_maxrss ({_peak_rss_bytes() >> 20} MiB) starts above this process's own peak "
            f"({own_peak >> 20} MiB): it holds the parent's; run the benchmark from a small parent"
        )


def _directory_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


# --------------------------------------------------------------------------------------------
# Parent: run the children, compute the exact answers, report
# --------------------------------------------------------------------------------------------


def run_phase(
    system_name: str, phase: str, workload: Workload, directory: Path, after: str = ""
) -> dict[str, Any]:
    command = [
        sys.executable, __file__, "--phase", phase, "--child", system_name,
        "--directory", str(directory), "--profile", workload.profile,
        "--n", str(workload.n), "--dim", str(workload.dim), "--batch", str(workload.batch),
        "--queries", str(workload.queries), "--seed", str(workload.seed),
    ]  # fmt: skip
    if after:
        command += ["--after", after]
    began = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    print(f"  {system_name}: {phase} {after} {time.perf_counter() - began:.1f} s", flush=True)
    if phase == "kill":
        if completed.returncode != -signal.SIGKILL:
            raise RuntimeError(f"{system_name} kill ended with {completed.returncode}:\n"
                               f"{completed.stderr[-4000:]}")  # fmt: skip
        return {}
    if completed.returncode != 0:
        raise RuntimeError(f"{system_name} {phase} failed:\n{completed.stderr[-4000:]}")
    # The figures are the last line: libraries may print to stdout before it.
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def run_system(system_name: str, workload: Workload) -> dict[str, Any]:
    figures: dict[str, Any] = {"system": system_name, "phase_seconds": {}}
    directory = Path(tempfile.mkdtemp(prefix=f"bench-{system_name}-"))
    try:
        for phase in ("main", "cold"):
            began = time.perf_counter()
            figures.update(run_phase(system_name, phase, workload, directory))
            figures["phase_seconds"][phase] = time.perf_counter() - began
        for exit_kind in UNCLEAN_EXITS:
            began = time.perf_counter()
            run_phase(system_name, exit_kind, workload, directory)
            figures["phase_seconds"][exit_kind] = time.perf_counter() - began
            figures[f"reopen after {exit_kind}"] = run_phase(
                system_name, "reopen", workload, directory, after=exit_kind
            )
        # A second open: the first one after an unclean exit may catch up and persist.
        figures["second reopen after kill"] = run_phase(
            system_name, "reopen", workload, directory, after="kill"
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if workload.profile == "full":
        directory = Path(tempfile.mkdtemp(prefix=f"bench-{system_name}-"))
        try:
            figures.update(run_phase(system_name, "plain", workload, directory))
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return figures


@dataclass
class Search:
    """One set of queries to answer exactly, over the rows a mask allows."""

    queries: np.ndarray
    allowed: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (rows, clusters) -> mask


class Truth:
    """Exact nearest neighbours by squared l2 (the collections' default space), computed in
    one pass over the vectors, a block at a time, so that 1M x 384 never sits in memory."""

    def __init__(self, workload: Workload) -> None:
        self.workload = workload
        self.cluster_share: dict[int, float] = {}

    def neighbours(self, searches: dict[str, Search]) -> dict[str, list[set[str]]]:
        best = {
            name: (
                np.full((len(s.queries), NEIGHBOURS), np.inf, dtype=np.float32),
                np.full((len(s.queries), NEIGHBOURS), -1, dtype=np.int64),
            )
            for name, s in searches.items()
        }
        clusters_seen = np.zeros(CLUSTERS, dtype=np.int64)
        step = TRUTH_BLOCKS * GENERATION_BLOCK
        for start in range(0, self.workload.n, step):
            stop = min(start + step, self.workload.n)
            vectors, clusters = self.workload.rows(start, stop)
            clusters_seen += np.bincount(clusters, minlength=CLUSTERS)
            rows = np.arange(start, stop)
            norms = np.einsum("ij,ij->i", vectors, vectors)
            for name, search in searches.items():
                mask = search.allowed(rows, clusters)
                if not mask.any():
                    continue
                # |v|² - 2 q·v: the order of |q - v|², less |q|² (the same for every row)
                distances = norms[mask] - 2.0 * (search.queries @ vectors[mask].T)
                best_distances, best_rows = best[name]
                merged = np.concatenate([best_distances, distances], axis=1)
                merged_rows = np.concatenate(
                    [best_rows, np.broadcast_to(rows[mask], distances.shape)], axis=1
                )
                keep = np.argpartition(merged, NEIGHBOURS - 1, axis=1)[:, :NEIGHBOURS]
                best[name] = (
                    np.take_along_axis(merged, keep, axis=1),
                    np.take_along_axis(merged_rows, keep, axis=1),
                )
        cumulative = np.cumsum(clusters_seen) / self.workload.n
        self.cluster_share = {c + 1: float(cumulative[c]) for c in range(CLUSTERS)}
        return {
            name: [{f"r{row}" for row in found} for found in found_rows]
            for name, (_, found_rows) in best.items()
        }


def filter_mask(name: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    if name == "$contains 6.7%":
        ember = TOPICS.index("ember")
        return lambda rows, clusters: rows % len(TOPICS) == ember
    below = int(name.split()[1]) if name.startswith("sweep ") else int(name.rstrip("%"))
    return lambda rows, clusters: clusters < below


def exact_answers(workload: Workload) -> tuple[dict[str, list[set[str]]], dict[int, float]]:
    queries = workload.query_vectors()
    deleted = workload.deleted_rows()
    searches = {"plain": Search(queries, lambda rows, clusters: np.ones(len(rows), dtype=bool))}
    for name in FILTERS:
        searches[f"filtered {name}"] = Search(queries[:FILTERED_QUERIES], filter_mask(name))
    if workload.profile == "full":
        for below in SWEEP_CLUSTERS:
            name = f"sweep {below}"
            searches[name] = Search(queries[:SWEEP_QUERIES], filter_mask(name))
        searches["after delete"] = Search(queries, lambda rows, clusters: ~np.isin(rows, deleted))
    truth = Truth(workload)
    answers = truth.neighbours(searches)
    return answers, truth.cluster_share


def recall(result_ids: list[list[str]], truth: list[set[str]]) -> float:
    found = [
        len(expected.intersection(ids)) / NEIGHBOURS for ids, expected in zip(result_ids, truth)
    ]
    return float(np.mean(found))


def summarise(
    figures: dict[str, Any], workload: Workload, truth: dict[str, list[set[str]]],
    cluster_share: dict[int, float],
) -> dict[str, float]:  # fmt: skip
    full = workload.profile == "full"
    batch_seconds = figures["ingest_batch_seconds"]
    tenth = max(1, len(batch_seconds) // 10)
    first_rate = tenth * workload.batch / sum(batch_seconds[:tenth])
    last_rate = tenth * workload.batch / sum(batch_seconds[-tenth:])
    summary: dict[str, float] = {
        "ingest vec/s (metadata + documents)": workload.n / sum(batch_seconds),
        "ingest vec/s, first 10% of batches": first_rate,
        "ingest vec/s, last 10% of batches": last_rate,
        "ingest first / last 10% of batches": first_rate / last_rate,
    }
    if full:
        summary["ingest vec/s (embeddings only)"] = workload.n / figures["plain_ingest_seconds"]
    for ef in (100, 10, 200) if full else (100,):
        measured = figures[f"query_ef{ef}"]
        label = "default ef 100" if ef == 100 else f"ef {ef}"
        summary[f"query p50 ms, {label}"] = _ms(measured["latencies"], 50)
        summary[f"query p99 ms, {label}"] = _ms(measured["latencies"], 99)
        summary[f"recall@10, {label}"] = recall(measured["ids"], truth["plain"])
    if full:
        summary["QPS, 1 thread"] = figures["qps_1_thread"]
        summary["QPS, 2 threads"] = figures["qps_2_threads"]
        summary["2-thread / 1-thread QPS"] = figures["qps_2_threads"] / figures["qps_1_thread"]
    for name in FILTERS:
        measured = figures[f"filtered {name}"]
        summary[f"filtered {name} p50 ms"] = _ms(measured["latencies"], 50)
        summary[f"filtered {name} recall@10"] = recall(measured["ids"], truth[f"filtered {name}"])
    if full:
        summarise_updates(figures, truth, cluster_share, summary)

    clean = figures["cold_open_seconds"]
    summary["open + first query s, after close()"] = clean
    for exit_kind in UNCLEAN_EXITS:
        label = UNCLEAN_LABELS[exit_kind]
        reopened = figures[f"reopen after {exit_kind}"]
        summary[f"open + first query s, after {label}"] = reopened["seconds"]
        summary[f"open after {label} / after close()"] = reopened["seconds"] / clean
        summary[f"writes visible after {label}"] = writes_visible(reopened, workload, exit_kind)
    second = figures["second reopen after kill"]
    summary["open + first query s, second open after SIGKILL"] = second["seconds"]
    summary["writes visible, second open after SIGKILL"] = writes_visible(second, workload, "kill")

    mib = 1024 * 1024
    summary["ingest peak RSS MiB"] = figures["ingest_peak_rss_bytes"] / mib
    summary["peak RSS MiB"] = figures["peak_rss_bytes"] / mib
    summary["peak - baseline MiB"] = (
        figures["peak_rss_bytes"] - figures["baseline_rss_bytes"]
    ) / mib
    disk = "disk MiB (after delete and update)" if full else "disk MiB"
    summary[disk] = figures["disk_bytes"] / mib
    return summary


def writes_visible(reopened: dict[str, Any], workload: Workload, exit_kind: str) -> float:
    """Share of the checks passed: the record count, each probe's stored embedding, and the
    query that finds the last added record."""
    count_right = reopened["count"] == workload.live_count_after(exit_kind)
    passed = int(count_right) + int(reopened["probes_found"]) + int(reopened["last_added_queried"])
    return passed / (2 + int(reopened["probes"]))


def summarise_updates(
    figures: dict[str, Any], truth: dict[str, list[set[str]]],
    cluster_share: dict[int, float], summary: dict[str, float],
) -> None:  # fmt: skip
    for below in SWEEP_CLUSTERS:
        measured = figures[f"sweep {below}"]
        share = f"{100 * cluster_share[below]:.1f}%"
        summary[f"sweep cluster<{below} ({share}) p50 ms"] = _ms(measured["latencies"], 50)
        summary[f"sweep cluster<{below} ({share}) recall@10"] = recall(
            measured["ids"], truth[f"sweep {below}"]
        )
    summary["get(where) 5% p50 ms"] = _ms(figures["get_where"]["seconds"], 50)
    summary["get(where) rows"] = figures["get_where"]["rows"]
    summary["delete 10% s"] = figures["delete_seconds"]
    after = figures["query_after_delete"]
    summary["recall@10 after delete"] = recall(after["ids"], truth["after delete"])
    summary["update 1,000 s"] = figures["update_seconds"]
    summary["updated rows found first (of 100)"] = figures["updated_found_first"]


def _ms(seconds: list[float], percentile: int) -> float:
    return float(np.percentile(seconds, percentile) * 1e3)


def report(workload: Workload, summaries: dict[str, dict[str, float]]) -> dict[str, Any]:
    names = list(summaries)
    compare = sorted(names) == ["azurite", "chromadb"]
    print(
        f"\nprofile={workload.profile} n={workload.n:,} dim={workload.dim} "
        f"queries={workload.queries} batch={workload.batch} seed={workload.seed}"
    )
    print(
        f"{'':52}"
        + "".join(f"{name:>12}" for name in names)
        + ("   azurite/chromadb" if compare else "")
    )
    ratios: dict[str, float] = {}
    for key in summaries[names[0]]:
        values = [summaries[name][key] for name in names]
        line = f"{key:52}" + "".join(f"{value:>12,.4g}" for value in values)
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


# The targets of issues 3 and 12, as a ratio Azurite / chromadb (or an absolute bound).
TARGETS = {
    "ingest vec/s (metadata + documents)": ">= 5x",
    "ingest first / last 10% of batches": "<= 1.5 (Azurite)",
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
    "open + first query s, after close()": "<= 0.5x",
    "open + first query s, after exit without close()": "<= 0.5x",
    "open + first query s, after SIGKILL": "<= 0.5x",
    "open after exit without close() / after close()": "<= 1.5 (Azurite)",
    "open after SIGKILL / after close()": "<= 1.5 (Azurite)",
    "writes visible after exit without close()": "= 1.0",
    "writes visible after SIGKILL": "= 1.0",
    "writes visible, second open after SIGKILL": "= 1.0",
    "peak RSS MiB": "<= 0.8x",
    "disk MiB (after delete and update)": "<= 1.0x",
}
SCALE_TARGETS = {
    **TARGETS,
    "open + first query s, after close()": "<= 0.2 s and <= 0.25x",
    "open + first query s, after exit without close()": "<= 0.2 s and <= 0.25x",
    "open + first query s, after SIGKILL": "<= 0.2 s and <= 0.25x",
    "peak RSS MiB": "<= 0.5x",
    "disk MiB": "<= 1.0x",
}


def markdown(
    summaries: dict[str, dict[str, float]], ratios: dict[str, float], targets: dict[str, str]
) -> str:
    """The table of docs/benchmarks.md."""
    names = list(summaries)
    lines = [
        "| figure | " + " | ".join(names) + " | Azurite / chromadb | target |",
        "|---|" + "---:|" * len(names) + "---:|---|",
    ]
    for key in summaries[names[0]]:
        values = " | ".join(f"{summaries[name][key]:,.4g}" for name in names)
        ratio = f"{ratios[key]:.3g}" if key in ratios else ""
        lines.append(f"| {key} | {values} | {ratio} | {targets.get(key, '')} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=DEFAULT_N, default="full")
    parser.add_argument("--n", type=int, help="records to ingest (100,000; scale: 1,000,000)")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="records per add()")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--systems", default="azurite,chromadb", help="comma-separated")
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    parser.add_argument("--after", choices=UNCLEAN_EXITS, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    workload = Workload(
        n=arguments.n or DEFAULT_N[arguments.profile],
        dim=arguments.dim,
        queries=arguments.queries,
        seed=arguments.seed,
        batch=arguments.batch,
        profile=arguments.profile,
    )

    if arguments.phase:
        _check_peak_rss_is_own()
        system = importlib.import_module(arguments.child)
        extra = {"after": arguments.after} if arguments.phase == "reopen" else {}
        figures = PHASES[arguments.phase](system, workload, Path(arguments.directory), **extra)
        figures["version"] = system.__version__
        print(json.dumps(figures), flush=True)
        return

    print(f"load average at start: {os.getloadavg()}", flush=True)
    began = time.perf_counter()
    runs = [run_system(name, workload) for name in arguments.systems.split(",")]
    # Only now does the parent grow: a child's ru_maxrss starts from its parent's high-water
    # mark (Linux carries it across the exec of a child that subprocess spawns with vfork),
    # so a parent that held the vectors before would inflate every child's peak RSS.
    truth_began = time.perf_counter()
    truth, cluster_share = exact_answers(workload)
    truth_seconds = time.perf_counter() - truth_began
    summaries = {run["system"]: summarise(run, workload, truth, cluster_share) for run in runs}
    results = report(workload, summaries)
    results["versions"] = {run["system"]: run["version"] for run in runs}
    results["reopens"] = {
        run["system"]: {key: value for key, value in run.items() if "reopen" in key} for run in runs
    }
    results["wall_seconds"] = {
        **{run["system"]: run["phase_seconds"] for run in runs},
        "exact answers": truth_seconds,
        "total": time.perf_counter() - began,
    }
    print(f"\nwall time {results['wall_seconds']['total']:.0f} s "
          f"(exact answers {truth_seconds:.0f} s)")  # fmt: skip
    results_file = RESULTS_FILES[workload.profile]
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    table = results_file.with_suffix(".md")
    targets = TARGETS if workload.profile == "full" else SCALE_TARGETS
    table.write_text(markdown(summaries, results["ratios_azurite_over_chromadb"], targets))
    print(f"written to {results_file} and {table}")


if __name__ == "__main__":
    main()
