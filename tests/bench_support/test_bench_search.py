"""The Search API benchmark's own correctness (benches/bench_search.py), not its timings:
the corpus rule, BM25 and rank fusion by hand on examples worked out from their formulas,
and one run of the ``smoke`` profile (both systems, a few thousand documents) whose
results file must have its shape and show the two systems agreeing."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH_FILE = ROOT / "benches" / "bench_search.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_search", BENCH_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


bench = load_bench()


class Sparse:
    """The two fields of a sparse vector that the postings read."""

    def __init__(self, pairs: dict[int, float]) -> None:
        self.indices = sorted(pairs)
        self.values = [pairs[index] for index in self.indices]


SOURCE = """#!/usr/bin/env python
# Header comment.
\"\"\"Module summary line.

Second paragraph of the module,
over two lines.\"\"\"
# A comment block that
# runs over two lines.
#
# Another block after an empty comment line.
def f():
    \"\"\"Function summary.\"\"\"
    x = 1  # a trailing comment is code, not a block
"""


def test_paragraphs_of_docstrings_and_comment_blocks_in_line_order() -> None:
    assert bench.file_paragraphs(SOURCE) == [
        "Header comment.",
        "Module summary line.",
        "Second paragraph of the module, over two lines.",
        "A comment block that runs over two lines.",
        "Another block after an empty comment line.",
        "Function summary.",
    ]


def test_first_sentence() -> None:
    assert bench.first_sentence("Return x. Then y.") == "Return x."
    assert bench.first_sentence("Call f() e.g.so and stop") == "Call f() e.g.so and stop"


def test_the_corpus_holds_distinct_paragraphs_and_queries_from_held_out_ones() -> None:
    corpus = bench.read_corpus(600, 12)
    assert len(corpus.documents) == 600
    assert len(corpus.queries) == 12
    assert len(set(corpus.documents)) == 600
    for document in corpus.documents:
        assert bench.MIN_WORDS <= len(document.split()) <= bench.MAX_WORDS
        assert " ".join(document.split()) == document
    for query in corpus.queries:
        low, high = bench.QUERY_WORDS
        assert low <= len(query.split()) <= high
        # A query is a sentence of no document: its paragraph was held out.
        assert not any(document.startswith(query) for document in corpus.documents)
    assert bench.read_corpus(600, 12) == corpus
    assert corpus.digest("hashed") != corpus.digest("minilm")


def test_bm25_postings_weight_by_idf_and_break_ties_by_row() -> None:
    # Term 1 is held by rows 0, 1, 2 of 4, term 2 by row 3 only.
    postings = bench.Bm25Postings(
        [Sparse({1: 0.5}), Sparse({1: 0.5}), Sparse({1: 0.8, 3: 0.1}), Sparse({2: 0.4})]
    )
    idf_common = math.log(1 + (4 - 3 + 0.5) / (3 + 0.5))
    idf_rare = math.log(1 + (4 - 1 + 0.5) / (1 + 0.5))
    found = postings.top(Sparse({1: 1.0, 2: 2.0}), 3)
    assert [row for row, _ in found] == [3, 2, 0]
    assert found[0][1] == pytest.approx(2.0 * idf_rare * 0.4, rel=1e-6)
    assert found[1][1] == pytest.approx(idf_common * 0.8, rel=1e-6)
    assert found[2][1] == pytest.approx(idf_common * 0.5, rel=1e-6)
    # Rows 0 and 1 tie: the earlier row first, whatever the limit cuts.
    assert [row for row, _ in postings.top(Sparse({1: 1.0}), 2)] == [2, 0]
    assert postings.top(Sparse({9: 1.0}), 3) == []


def test_rank_fusion_uses_the_default_rank_for_a_missing_row() -> None:
    # Scores -(1/(60 + r1) + 1/(60 + r2)), a missing row at rank 3:
    # row 7: ranks 0, 3 -> 1/60 + 1/63; row 8: 1, 0 -> 1/61 + 1/60; row 9: 2, 3; row 5: 3, 1.
    fused = bench.fused_top([[7, 8, 9], [8, 5]], default=3, limit=4)
    assert fused == [8, 7, 5, 9]
    # Equal scores (ranks 0, 1 and 1, 0): the earlier row first.
    assert bench.fused_top([[4, 2], [2, 4]], default=2, limit=2) == [2, 4]


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("bench-search")
    results = directory / "results.json"
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
    completed = subprocess.run(
        [sys.executable, str(BENCH_FILE), "--profile", "smoke",
         "--cache-dir", str(directory / "cache"), "--results", str(results)],
        capture_output=True, text=True, env=environment, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-4000:]
    found: dict[str, Any] = json.loads(results.read_text())
    found["table"] = results.with_suffix(".md").read_text()
    return found


def test_smoke_run_records_both_systems_with_the_measured_figures(
    smoke_results: dict[str, Any],
) -> None:
    workload = smoke_results["workload"]
    assert (workload["documents"], workload["queries"]) == (2_000, 40)
    assert workload["embedding"] == "hashed"
    assert len(smoke_results["machine"]["load_average_at_start"]) == 3
    assert len(smoke_results["machine"]["load_average_at_end"]) == 3
    assert set(smoke_results["systems"]) == {"azurite", "chromadb"}
    expected = {
        f"{label} {percentile} ms"
        for label in ("BM25 Knn", "dense Knn", "Rrf(dense, BM25)")
        for percentile in ("p50", "p95")
    }
    for summary in smoke_results["systems"].values():
        assert expected <= set(summary)
        assert all(summary[key] > 0 for key in expected)
    assert expected <= set(smoke_results["ratios_azurite_over_chromadb"])
    table = smoke_results["table"]
    assert "| BM25 Knn p50 ms |" in table and "≤ 2 ms" in table
    assert "| Rrf(dense, BM25) p50 ms |" in table and "≤ 3 ms" in table


def test_smoke_run_agrees_with_the_rankings_by_hand(smoke_results: dict[str, Any]) -> None:
    agreed = smoke_results["agreement"]
    assert agreed["rrf equals its lists fused by hand"] == 1.0
    assert agreed["bm25 top-10 equal"] == 1.0
    assert agreed["bm25 top-100 equal"] == 1.0
    assert agreed["bm25 largest relative score difference"] < 1e-6
    for system in ("azurite", "chromadb"):
        assert agreed[f"{system} BM25 answers with 10 rows"] == 1.0
        assert agreed[f"{system} returned the rows' documents"] == 1.0
    # Both dense halves are approximate graphs: close, not equal.
    assert agreed["dense overlap@10"] >= 0.9
    assert agreed["rrf overlap@10"] >= 0.9
