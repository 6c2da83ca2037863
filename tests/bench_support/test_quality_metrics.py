"""nDCG@10 of the quality benchmark (benches/quality/metrics.py) on rankings worked out by
hand from trec_eval's definition: linear graded gains, a log2(rank + 1) discount, the ideal
ordering of the judged documents cut at k, ties in score broken by the larger id."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

METRICS_FILE = Path(__file__).resolve().parents[2] / "benches" / "quality" / "metrics.py"


def load_metrics() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quality_metrics", METRICS_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


metrics = load_metrics()


def test_graded_gains_and_discounts() -> None:
    # DCG = 0/log2(2) + 2/log2(3) + 0/log2(4) + 1/log2(5) = 1.26186 + 0.43068 = 1.69254
    # IDCG = 2/log2(2) + 1/log2(3) = 2.63093
    ranking = ["d3", "d1", "d4", "d2"]
    assert metrics.ndcg_at_k(ranking, {"d1": 2, "d2": 1, "d3": 0}) == pytest.approx(
        0.6433224083306327, abs=1e-12
    )


def test_unjudged_documents_gain_nothing() -> None:
    # DCG = 2/1 + 3/log2(3) + 0 + 1/log2(5) = 4.32347; IDCG = 3 + 2/log2(3) + 1/2 = 4.76186
    judgments = {"a": 3, "b": 2, "d": 1}
    assert metrics.ndcg_at_k(["b", "a", "x", "d"], judgments) == pytest.approx(
        4.3234659 / 4.7618595, abs=1e-7
    )
    assert metrics.ndcg_at_k(["b", "a", "x", "d"], judgments) == pytest.approx(
        0.9079364505194771, abs=1e-12
    )


def test_only_the_first_k_count() -> None:
    ranking = [f"n{i}" for i in range(10)] + ["hit"]
    assert metrics.ndcg_at_k(ranking, {"hit": 1}) == 0.0
    assert metrics.ndcg_at_k(ranking, {"hit": 1}, k=11) == pytest.approx(
        1 / 3.584962500721156, abs=1e-12
    )


def test_the_ideal_is_cut_at_k_too() -> None:
    judgments = {f"r{i}": 1 for i in range(12)}
    assert metrics.ndcg_at_k([f"r{i}" for i in range(10)], judgments) == 1.0
    assert metrics.ndcg_at_k(["r0"], judgments, k=1) == 1.0


def test_perfect_empty_and_unanswerable() -> None:
    assert metrics.ndcg_at_k(["a", "b"], {"a": 2, "b": 1}) == 1.0
    assert metrics.ndcg_at_k(["b", "a"], {"a": 1, "b": 1}) == 1.0
    assert metrics.ndcg_at_k([], {"a": 1}) == 0.0
    assert metrics.ndcg_at_k(["a"], {"a": 0, "b": -1}) == 0.0
    assert metrics.ndcg_at_k(["b", "a"], {"a": 1, "b": -1}) == pytest.approx(
        1 / 1.5849625007211563, abs=1e-12
    )


def test_trec_eval_order_of_scored_results() -> None:
    assert metrics.trec_ranking({"a": 1.0, "b": 1.0, "c": 0.5, "d": 2.0}) == ["d", "b", "a", "c"]


def test_mean_over_judged_queries() -> None:
    qrels = {
        "q1": {"a": 1},
        "q2": {"b": 2, "c": 1},
        "q3": {"x": 0},  # no relevant document: not counted
        "q4": {"d": 1},  # no ranking given: scores 0
    }
    rankings = {"q1": ["a"], "q2": ["c", "b"], "q3": ["x"]}
    q2 = (1 + 2 / 1.5849625007211563) / (2 + 1 / 1.5849625007211563)
    assert metrics.mean_ndcg_at_k(rankings, qrels) == pytest.approx((1 + q2 + 0) / 3, abs=1e-12)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="must not hold a document twice"):
        metrics.ndcg_at_k(["a", "a"], {"a": 1})
    with pytest.raises(ValueError, match="k must be at least 1"):
        metrics.ndcg_at_k(["a"], {"a": 1}, k=0)
    with pytest.raises(ValueError, match="no query has a positive relevance judgment"):
        metrics.mean_ndcg_at_k({}, {"q": {"a": 0}})


def test_recall_counts_relevant_documents_in_the_first_k() -> None:
    judgments = {"a": 2, "b": 1, "c": 1, "d": 0}
    assert metrics.recall_at_k(["a", "x", "c", "d"], judgments, k=100) == pytest.approx(2 / 3)
    assert metrics.recall_at_k(["x", "a", "b", "c"], judgments, k=2) == pytest.approx(1 / 3)
    assert metrics.recall_at_k(["a"], {"a": 0}) == 0.0
    with pytest.raises(ValueError, match="k must be at least 1"):
        metrics.recall_at_k(["a"], judgments, k=0)


def test_paired_bootstrap_brackets_the_mean_difference() -> None:
    first = [0.5, 0.75, 1.0, 0.25] * 25
    second = [0.25, 0.75, 0.5, 0.25] * 25
    # Differences 0.25, 0, 0.5, 0 (mean 0.1875); every resample lies between 0 and 0.5.
    low, high = metrics.paired_bootstrap_interval(first, second, resamples=2_000, seed=3)
    assert 0.0 < low < 0.1875 < high < 0.5
    assert metrics.paired_bootstrap_interval(first, second, 2_000, 3) == (low, high)
    assert metrics.paired_bootstrap_interval(second, first, 2_000, 3) == pytest.approx(
        (-high, -low)
    )
    assert metrics.paired_bootstrap_interval([0.5] * 9, [0.5] * 9, resamples=10) == (0.0, 0.0)


def test_paired_bootstrap_bad_arguments() -> None:
    with pytest.raises(ValueError, match="same, non-empty list of queries"):
        metrics.paired_bootstrap_interval([0.5], [0.5, 0.25])
    with pytest.raises(ValueError, match="same, non-empty list of queries"):
        metrics.paired_bootstrap_interval([], [])
    with pytest.raises(ValueError, match="resamples must be at least 1"):
        metrics.paired_bootstrap_interval([0.5], [0.5], resamples=0)
