"""Retrieval quality of Azurite's dense, BM25 and Rrf hybrid search: nDCG@10 and recall@100
on the stdlib-docstrings set (stdlib_set.py), judged as trec_eval judges (metrics.py).

    nice -n 19 .venv/bin/python benches/quality/run_quality.py [--candidates 100]

One ``PersistentClient`` collection on a fresh temporary directory, whose schema keeps the
default dense embedding (all-MiniLM-L6-v2, l2, HNSW defaults) and adds a sparse index
``bm25`` filled from each document by ``ChromaBm25EmbeddingFunction`` (IDF applied at query
time). Every query text is then searched four times, one ``collection.search`` call each,
with ``Search.limit`` = ``--candidates``:

* ``dense``: ``Knn(query=text, limit=candidates)``;
* ``bm25``: ``Knn(query=text, key="bm25", limit=candidates)``;
* ``rrf``: ``Rrf([dense, bm25])`` with chromadb's defaults (k 60, weights 1.0 each, not
  normalised), each ``Knn`` with ``return_rank=True`` and ``default=candidates``: a
  document one list missed is ranked just past that list's end, so the fusion runs over
  the union of the two lists, as reciprocal rank fusion is defined;
* ``rrf_intersection``: the same with the ``Knn`` default ``default=None``, under which
  Chroma keeps only documents that both lists returned.

These settings were fixed before any run and nothing is tuned on the judged queries.
A reference row ranks the same query embeddings against every stored embedding with numpy
(``dense_exact``), to tell the HNSW index's misses from the model's. Prints the table and
writes benches/results/latest-quality.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[1]
sys.path[:0] = [str(HERE), str(REPOSITORY / "python")]

import metrics  # noqa: E402
import stdlib_set  # noqa: E402

import azurite  # noqa: E402
from azurite import K, Knn, Rrf, Schema, Search, SparseVectorIndexConfig  # noqa: E402
from azurite.embedding_functions import (  # noqa: E402
    ChromaBm25EmbeddingFunction,
    DefaultEmbeddingFunction,
)
from azurite.execution.expression.operator import Rank  # noqa: E402

RESULTS_FILE = REPOSITORY / "benches" / "results" / "latest-quality.json"
SPARSE_KEY = "bm25"
RRF_K = 60
NDCG_DEPTH = 10
ADD_BATCH = 256
SYSTEMS = ("dense", "bm25", "rrf", "rrf_intersection", "dense_exact")


def quality_schema() -> Schema:
    config = SparseVectorIndexConfig(
        source_key=K.DOCUMENT, embedding_function=ChromaBm25EmbeddingFunction(), bm25=True
    )
    return Schema().create_index(config=config, key=SPARSE_KEY)


def rank_expressions(text: str, candidates: int) -> dict[str, Any]:
    """The rank of each searched system for one query text."""

    def fused(default: float | None) -> Rrf:
        lists: list[Rank] = [
            Knn(query=text, limit=candidates, return_rank=True, default=default),
            Knn(query=text, key=SPARSE_KEY, limit=candidates, return_rank=True, default=default),
        ]
        return Rrf(ranks=lists, k=RRF_K)

    return {
        "dense": Knn(query=text, limit=candidates),
        "bm25": Knn(query=text, key=SPARSE_KEY, limit=candidates),
        "rrf": fused(float(candidates)),
        "rrf_intersection": fused(None),
    }


def ranking_from_scores(scores: dict[str, float]) -> list[str]:
    """trec_eval's order of a result (Chroma's scores are lower-is-better)."""
    return metrics.trec_ranking({doc: -score for doc, score in scores.items()})


def scores_of(rows: list[Any]) -> dict[str, float]:
    scores = {}
    for row in rows:
        if row["score"] is None:
            raise RuntimeError(f"the search selected the score but row {row['id']} has none")
        scores[row["id"]] = float(row["score"])
    return scores


def exact_dense_rankings(
    collection: Any, queries: dict[str, str], candidates: int
) -> dict[str, list[str]]:
    """The `candidates` nearest stored embeddings of each query by squared l2, with numpy."""
    stored = collection.get(include=["embeddings"])
    ids = list(stored["ids"])
    vectors = np.asarray(stored["embeddings"], dtype=np.float32)
    query_ids = list(queries)
    embedded = np.asarray(
        DefaultEmbeddingFunction()([queries[q] for q in query_ids]), dtype=np.float32
    )
    rankings = {}
    for query_id, query in zip(query_ids, embedded):
        distances = ((vectors - query) ** 2).sum(axis=1)
        nearest = np.argsort(distances, kind="stable")[:candidates]
        rankings[query_id] = ranking_from_scores({ids[i]: float(distances[i]) for i in nearest})
    return rankings


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = action()
    return value, time.perf_counter() - start


def commit() -> str:
    def git(*args: str) -> str:
        found = subprocess.run(
            ["git", *args], cwd=REPOSITORY, capture_output=True, text=True, check=False
        )
        return found.stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + (" (with uncommitted changes)" if git("status", "--porcelain") else "")


def summarise(
    rankings: dict[str, dict[str, list[str]]], qrels: dict[str, dict[str, int]], candidates: int
) -> dict[str, Any]:
    query_ids = list(qrels)
    per_query = {
        system: [
            metrics.ndcg_at_k(rankings[system].get(q, []), qrels[q], NDCG_DEPTH) for q in query_ids
        ]
        for system in SYSTEMS
    }
    summary: dict[str, Any] = {"systems": {}, "rrf_minus": {}}
    for system in SYSTEMS:
        recall = [
            metrics.recall_at_k(rankings[system].get(q, []), qrels[q], candidates)
            for q in query_ids
        ]
        summary["systems"][system] = {
            f"ndcg@{NDCG_DEPTH}": metrics.mean_ndcg_at_k(rankings[system], qrels, NDCG_DEPTH),
            f"recall@{candidates}": float(np.mean(recall)),
            "queries_with_no_result": sum(1 for q in query_ids if not rankings[system].get(q)),
        }
    for other in ("dense", "bm25"):
        low, high = metrics.paired_bootstrap_interval(per_query["rrf"], per_query[other])
        summary["rrf_minus"][other] = {
            "mean": float(np.mean(per_query["rrf"]) - np.mean(per_query[other])),
            "bootstrap_95": [low, high],
            "queries_rrf_better": sum(a > b for a, b in zip(per_query["rrf"], per_query[other])),
            "queries_rrf_worse": sum(a < b for a, b in zip(per_query["rrf"], per_query[other])),
        }
    return summary


def table(summary: dict[str, Any], candidates: int) -> str:
    lines = [f"{'system':<18} {'nDCG@10':>8} {f'recall@{candidates}':>11}"]
    for system, figures in summary["systems"].items():
        ndcg, recall = figures[f"ndcg@{NDCG_DEPTH}"], figures[f"recall@{candidates}"]
        lines.append(f"{system:<18} {ndcg:>8.4f} {recall:>11.4f}")
    for other, difference in summary["rrf_minus"].items():
        low, high = difference["bootstrap_95"]
        lines.append(
            f"rrf - {other}: {difference['mean']:+.4f} (95% {low:+.4f} .. {high:+.4f}), "
            f"better on {difference['queries_rrf_better']} queries, "
            f"worse on {difference['queries_rrf_worse']}"
        )
    return "\n".join(lines)


def run(candidates: int, results_file: Path) -> dict[str, Any]:
    started = time.perf_counter()
    retrieval_set, build_seconds = timed(stdlib_set.build)
    documents, queries, qrels = retrieval_set.documents, retrieval_set.queries, retrieval_set.qrels
    print(f"set: {retrieval_set.counts()} on Python {platform.python_version()}", flush=True)

    with tempfile.TemporaryDirectory(prefix="azurite-quality-") as directory:
        client = azurite.PersistentClient(path=directory)
        collection = client.create_collection("stdlib-docstrings", schema=quality_schema())
        ids = list(documents)

        def load() -> None:
            for start in range(0, len(ids), ADD_BATCH):
                batch = ids[start : start + ADD_BATCH]
                collection.add(ids=batch, documents=[documents[i] for i in batch])

        _, load_seconds = timed(load)
        print(f"loaded {collection.count()} documents in {load_seconds:.1f} s", flush=True)

        def search_all() -> dict[str, dict[str, list[str]]]:
            found: dict[str, dict[str, list[str]]] = {system: {} for system in SYSTEMS}
            for query_id, text in queries.items():
                for system, rank in rank_expressions(text, candidates).items():
                    search = Search().rank(rank).limit(candidates).select(K.SCORE)
                    rows = collection.search(search).rows()[0]
                    found[system][query_id] = ranking_from_scores(scores_of(rows))
            return found

        rankings, search_seconds = timed(search_all)
        rankings["dense_exact"], exact_seconds = timed(
            lambda: exact_dense_rankings(collection, queries, candidates)
        )
        client.close()

    summary = summarise(rankings, qrels, candidates)
    results = {
        "set": {
            "name": "stdlib-docstrings",
            **retrieval_set.counts(),
            "sha256": retrieval_set.digest(),
        },
        "python": retrieval_set.python_version,
        "azurite": azurite.__version__,
        "commit": commit(),
        "machine": {"cores": os.cpu_count(), "load_average": list(os.getloadavg())},
        "settings": {
            "candidates_per_knn": candidates,
            "search_limit": candidates,
            "rrf_k": RRF_K,
            "rrf_weights": [1.0, 1.0],
            "rrf_knn_default": candidates,
            "rrf_intersection_knn_default": None,
            "ranking_order": "trec_eval: score, ties by the larger id",
        },
        **summary,
        "seconds": {
            "build_set": build_seconds,
            "load": load_seconds,
            "searches": search_seconds,
            "exact_dense": exact_seconds,
            "total": time.perf_counter() - started,
        },
    }
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--candidates",
        type=int,
        default=100,
        help="limit of every Knn list and of every search (also the recall depth)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_FILE)
    args = parser.parse_args(argv)
    if args.candidates < NDCG_DEPTH:
        parser.error(f"--candidates must be at least {NDCG_DEPTH}")
    results = run(args.candidates, args.output)
    print(table(results, args.candidates))
    print(f"{results['seconds']['total']:.0f} s; written to {args.output}")


if __name__ == "__main__":
    main()
