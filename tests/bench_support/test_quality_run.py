"""The searches and the summary of the quality run (benches/quality/run_quality.py), without
the model: the Search API requests it sends, the order it reads scores in, and the figures
it derives from rankings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

RUN_FILE = Path(__file__).resolve().parents[2] / "benches" / "quality" / "run_quality.py"


def load_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quality_run", RUN_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run_quality = load_run()


def test_the_four_searches_of_a_query() -> None:
    ranks = {name: rank.to_dict() for name, rank in run_quality.rank_expressions("x", 50).items()}
    dense = {"query": "x", "key": "#embedding", "limit": 50}
    sparse = {"query": "x", "key": "bm25", "limit": 50}
    assert ranks["dense"] == {"$knn": dense}
    assert ranks["bm25"] == {"$knn": sparse}

    def fused(default: float | None) -> dict[str, object]:
        extra: dict[str, object] = {"return_rank": True}
        if default is not None:
            extra["default"] = default
        # Rrf compiles to -(1/(60 + rank_dense) + 1/(60 + rank_bm25)), weights 1.0 each.
        terms = [
            {"$div": {"left": {"$val": 1.0}, "right": {"$sum": [{"$val": 60}, {"$knn": knn}]}}}
            for knn in ({**dense, **extra}, {**sparse, **extra})
        ]
        return {"$mul": [{"$val": -1}, {"$sum": terms}]}

    assert ranks["rrf"] == fused(50.0)
    assert ranks["rrf_intersection"] == fused(None)


def test_scores_are_read_lowest_first_ties_by_the_larger_id() -> None:
    scores = {"a": -0.03, "b": -0.05, "c": -0.03, "d": 0.4}
    assert run_quality.ranking_from_scores(scores) == ["b", "c", "a", "d"]


def test_summary_of_rankings() -> None:
    qrels = {"q1": {"a": 2, "b": 1}, "q2": {"c": 1}}
    rankings = {
        "dense": {"q1": ["a", "b"], "q2": ["x"]},
        "bm25": {"q1": ["x", "y"], "q2": ["c"]},
        "rrf": {"q1": ["a", "b"], "q2": ["c"]},
        "rrf_intersection": {"q1": ["a"]},
        "dense_exact": {"q1": ["b", "a"], "q2": ["x", "c"]},
    }
    summary = run_quality.summarise(rankings, qrels, 10)
    systems = summary["systems"]
    assert systems["rrf"] == {"ndcg@10": 1.0, "recall@10": 1.0, "queries_with_no_result": 0}
    assert systems["dense"]["ndcg@10"] == pytest.approx(0.5)
    assert systems["bm25"]["ndcg@10"] == pytest.approx(0.5)
    assert systems["bm25"]["recall@10"] == pytest.approx(0.5)
    assert systems["rrf_intersection"]["queries_with_no_result"] == 1
    assert systems["rrf_intersection"]["recall@10"] == pytest.approx(0.25)
    assert summary["rrf_minus"]["dense"]["mean"] == pytest.approx(0.5)
    assert summary["rrf_minus"]["dense"]["queries_rrf_better"] == 1
    assert summary["rrf_minus"]["bm25"]["queries_rrf_worse"] == 0
    low, high = summary["rrf_minus"]["bm25"]["bootstrap_95"]
    assert 0.0 <= low <= 0.5 <= high <= 1.0
    table = run_quality.table(summary, 10)
    assert "rrf                  1.0000      1.0000" in table
    assert "rrf - dense: +0.5000" in table
