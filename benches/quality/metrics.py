"""Ranking quality against relevance judgments: nDCG@k as trec_eval computes it
(``ndcg_cut.k``, the measure BEIR and MTEB report through pytrec_eval).

For one query with judgments ``qrels`` (document id → relevance grade) and a ranking:

    DCG@k  = Σ_{i=1..min(k, n)} gain(d_i) / log2(i + 1)
    nDCG@k = DCG@k / IDCG@k

where ``gain(d)`` is the document's grade (linear gain; unjudged documents and grades of 0
or below give 0) and IDCG@k is the DCG@k of the judged documents sorted by grade. A query
whose judgments hold no positive grade scores 0. Over a set of queries the score is the
mean over every query judged with a positive grade; a query that got no ranking scores 0
(trec_eval's ``-c``).

trec_eval ranks a run by score, highest first, and breaks ties by document id, the larger
first: :func:`trec_ranking` does the same for scored results.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

Qrels = Mapping[str, Mapping[str, int]]


def trec_ranking(scores: Mapping[str, float]) -> list[str]:
    """Document ids by score, highest first; equal scores by id, the larger first."""
    return [
        doc for doc, _ in sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)
    ]


def _dcg(gains: Iterable[float]) -> float:
    return sum(gain / math.log2(position + 2) for position, gain in enumerate(gains))


def ndcg_at_k(ranking: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k of one query's `ranking` (document ids, best first)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if len(set(ranking)) != len(ranking):
        raise ValueError("a ranking must not hold a document twice")
    ideal = _dcg(sorted((g for g in judgments.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return _dcg(max(judgments.get(doc, 0), 0) for doc in ranking[:k]) / ideal


def mean_ndcg_at_k(rankings: Mapping[str, Sequence[str]], qrels: Qrels, k: int = 10) -> float:
    """Mean nDCG@k over the queries of `qrels` with a positive judgment; `rankings` maps
    query id → ranking (a query missing from it scores 0)."""
    judged = [query for query, judgments in qrels.items() if any(g > 0 for g in judgments.values())]
    if not judged:
        raise ValueError("no query has a positive relevance judgment")
    total = sum(ndcg_at_k(rankings.get(query, ()), qrels[query], k) for query in judged)
    return total / len(judged)


def recall_at_k(ranking: Sequence[str], judgments: Mapping[str, int], k: int = 100) -> float:
    """The share of the documents judged relevant (grade above 0) that the first `k` of
    `ranking` hold (trec_eval's ``recall_k``); 0 for a query with none."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    relevant = {doc for doc, grade in judgments.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def paired_bootstrap_interval(
    first: Sequence[float], second: Sequence[float], resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """The 95% percentile interval of mean(first - second) over `resamples` resamplings of
    the queries with replacement (the paired bootstrap of Sakai 2006): per-query scores of
    two systems on the same queries, in the same order."""
    if len(first) != len(second) or not first:
        raise ValueError("the two systems need scores for the same, non-empty list of queries")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    differences = np.asarray(first, dtype=np.float64) - np.asarray(second, dtype=np.float64)
    generator = np.random.default_rng(seed)
    means = np.concatenate(
        [
            differences[generator.integers(0, len(differences), (size, len(differences)))].mean(
                axis=1
            )
            for size in _chunks(resamples, 1_000)
        ]
    )
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def _chunks(total: int, size: int) -> list[int]:
    # Resampling in blocks keeps the index matrix small whatever `resamples` is.
    return [min(size, total - start) for start in range(0, total, size)]
