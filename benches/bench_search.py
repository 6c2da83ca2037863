"""Search API benchmark: hybrid search in Azurite against what chromadb 1.5.9 users do by hand.

    .venv/bin/python benches/bench_search.py [--profile full|smoke] [--documents N]
                                             [--queries Q] [--candidates 100]
                                             [--embedding minilm|hashed]
                                             [--systems azurite,chromadb]

The corpus is real text read from this machine (docstring and comment paragraphs of the
installed Python sources, the rule in ``read_corpus``); the queries are the first sentences
of paragraphs held out of it. Both systems get the same documents, dense vectors and query
vectors, each system in a child process of its own (this file with --phase) on a fresh
temporary directory with a PersistentClient:

- Azurite: one collection whose schema fills a ``bm25`` sparse key from the documents
  with ``ChromaBm25EmbeddingFunction``; timed through ``collection.search`` with
  precomputed query vectors: a BM25-only ``Knn`` on the sparse key, a dense-only ``Knn``,
  and ``Rrf`` of the two.
- chromadb: its local client refuses sparse keys and ``search()``, so the dense half is
  ``collection.query`` and the BM25 half is computed in the process, as its users do: the
  documents' ``ChromaBm25EmbeddingFunction`` vectors in per-term postings (numpy), the IDF
  over the corpus at query time, the fusion by hand, and the documents read back with
  ``get(ids)``.

The parent checks that the two agree (BM25 exactly; dense and fused as overlap, the dense
half being approximate on both sides), prints the table with the ratio Azurite / chromadb
and writes benches/results/latest-search-<profile>.json and a markdown table beside it.
Dense vectors are cached in ~/.cache/azurite/bench/, keyed by corpus and embedding. See
benches/README.md and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib
import inspect
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_index import _ms, markdown

COLLECTION = "bench"
SPARSE_KEY = "bm25"
NEIGHBOURS = 10  # results per search, as a RAG prompt takes them
RRF_K = 60  # Rrf's default smoothing constant
WARM_UP_QUERIES = 5
BATCH = 1_000  # records per add(); chromadb refuses more than 5,461
EMBEDDING_BATCH = 1_000  # texts per call of the dense embedding function (progress lines)
HASHED_DIMENSION = 384
RESULTS_DIR = Path(__file__).resolve().parent / "results"
CACHE_DIR = Path.home() / ".cache" / "azurite" / "bench"


@dataclass(frozen=True)
class Profile:
    documents: int
    queries: int
    embedding: str


PROFILES = {
    "full": Profile(documents=100_000, queries=300, embedding="minilm"),
    # For the bench's own test: seconds, no model.
    "smoke": Profile(documents=2_000, queries=40, embedding="hashed"),
}

# --------------------------------------------------------------------------------------------
# Corpus: paragraphs of the docstrings and comments of the installed Python sources
# --------------------------------------------------------------------------------------------

CORPUS_RULE = "python-source-paragraphs/1"  # changes with the rule below: part of the cache key
MIN_WORDS, MAX_WORDS = 8, 200  # a paragraph kept as a document
QUERY_WORDS = (4, 30)  # a held-out paragraph's first sentence, kept as a query
SENTENCE_END = re.compile(r"(?<=[.!?])\s")


@dataclass
class Corpus:
    documents: list[str]
    queries: list[str]
    files_read: int
    duplicates_dropped: int
    last_file: str

    def digest(self, embedding: str) -> str:
        hashed = hashlib.sha256(f"{CORPUS_RULE}\n{embedding}\n".encode())
        for text in (*self.documents, "", *self.queries):
            hashed.update(text.encode() + b"\n")
        return hashed.hexdigest()[:16]


def source_files() -> Iterator[Path]:
    """The standard library's *.py files (its site-packages left out), then those of the
    running environment's site-packages, each tree in order of its relative paths."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for root in (stdlib, Path(sysconfig.get_paths()["purelib"])):
        paths = sorted(root.rglob("*.py"), key=lambda path: path.relative_to(root).as_posix())
        for path in paths:
            if root == stdlib and "site-packages" in path.relative_to(root).parts:
                continue
            yield path


def file_paragraphs(source: str) -> list[str]:
    """The paragraphs of a file's docstrings (module, classes, functions; split on blank
    lines) and comment blocks (runs of lines whose first non-blank character is ``#``; a
    ``#`` line without text ends one), in line order, white space collapsed."""
    found: list[tuple[int, str]] = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                line = node.body[0].lineno
                for paragraph in re.split(r"\n\s*\n", inspect.cleandoc(docstring)):
                    found.append((line, paragraph))
    block: list[str] = []
    for number, line in enumerate([*source.splitlines(), ""], start=1):
        comment = re.match(r"\s*#(.*)", line)
        text = comment.group(1).strip() if comment else ""
        if comment and text and not line.lstrip().startswith("#!"):
            block.append(text)
        elif block:
            found.append((number - len(block), " ".join(block)))
            block = []
    found.sort(key=lambda item: item[0])  # stable: a docstring's paragraphs keep their order
    return [" ".join(paragraph.split()) for _, paragraph in found]


def first_sentence(paragraph: str) -> str:
    return SENTENCE_END.split(paragraph, maxsplit=1)[0]


def read_corpus(documents: int, queries: int) -> Corpus:
    """The first `documents` distinct paragraphs of MIN_WORDS to MAX_WORDS words, in file
    and line order, less the held-out ones: from every `stride`-th distinct paragraph on
    (stride = (documents + queries) // queries), the first one whose first sentence has
    QUERY_WORDS words is held out, and that sentence becomes a query. A file that is not
    UTF-8 Python is skipped."""
    stride = (documents + queries) // queries
    kept: list[str] = []
    held_out: list[str] = []
    seen: set[str] = set()
    duplicates = files = 0
    last_file = ""
    for path in source_files():
        try:
            paragraphs = file_paragraphs(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, SyntaxError, ValueError):
            continue
        files += 1
        last_file = str(path)
        for paragraph in paragraphs:
            if not MIN_WORDS <= len(paragraph.split()) <= MAX_WORDS:
                continue
            if paragraph in seen:
                duplicates += 1
                continue
            seen.add(paragraph)
            sentence = first_sentence(paragraph)
            hold = len(held_out) < queries and (len(seen) - 1) // stride > len(held_out)
            if hold and QUERY_WORDS[0] <= len(sentence.split()) <= QUERY_WORDS[1]:
                held_out.append(sentence)
            elif len(kept) < documents:
                kept.append(paragraph)
            if len(kept) == documents and len(held_out) == queries:
                return Corpus(kept, held_out, files, duplicates, last_file)
    raise SystemExit(
        f"the installed Python sources give {len(kept):,} documents and {len(held_out)} "
        f"queries, fewer than the {documents:,} and {queries} asked for"
    )


# --------------------------------------------------------------------------------------------
# Dense vectors, cached by corpus and embedding
# --------------------------------------------------------------------------------------------


def hashed_vectors(texts: Sequence[str]) -> np.ndarray:
    """A seeded bag-of-words projection, for runs without the model: each word a gaussian
    vector seeded by its CRC-32, a text the unit sum of its words' vectors."""
    words: dict[str, np.ndarray] = {}
    vectors = np.zeros((len(texts), HASHED_DIMENSION), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            if word not in words:
                rng = np.random.default_rng(zlib.crc32(word.encode()))
                words[word] = rng.normal(size=HASHED_DIMENSION).astype(np.float32)
            vectors[row] += words[word]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = vectors / np.where(norms == 0, 1, norms)
    return unit


def minilm_vectors(texts: Sequence[str]) -> np.ndarray:
    from azurite.embedding_functions import DefaultEmbeddingFunction

    function = DefaultEmbeddingFunction()
    parts = []
    began = time.perf_counter()
    for start in range(0, len(texts), EMBEDDING_BATCH):
        parts.append(np.asarray(function(list(texts[start : start + EMBEDDING_BATCH]))))
        done = min(start + EMBEDDING_BATCH, len(texts))
        print(f"  embedded {done:,} / {len(texts):,} "
              f"({time.perf_counter() - began:.0f} s)", flush=True)  # fmt: skip
    return np.concatenate(parts).astype(np.float32)


EMBEDDINGS = {"minilm": minilm_vectors, "hashed": hashed_vectors}


def dense_vectors(corpus: Corpus, embedding: str, cache_dir: Path) -> tuple[Path, bool]:
    """The .npy file of the documents' vectors followed by the queries' (computed and
    written on the first run), and whether it was already cached."""
    cached = cache_dir / f"search-{embedding}-{corpus.digest(embedding)}.npy"
    if cached.exists():
        return cached, True
    vectors = EMBEDDINGS[embedding]([*corpus.documents, *corpus.queries])
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial.npy")
    np.save(partial, vectors)
    partial.replace(cached)  # a run killed while writing leaves no truncated cache entry
    return cached, False


# --------------------------------------------------------------------------------------------
# Ranking by hand, as chromadb users do it: BM25 over per-term postings, fusion of ranks
# --------------------------------------------------------------------------------------------


class Bm25Postings:
    """The documents' BM25 vectors (``ChromaBm25EmbeddingFunction``, which leaves IDF to
    the query side) in one posting list per term: rows (ascending) and values. A query is
    weighted by Chroma's IDF, ``ln(1 + (N - n_t + 0.5) / (n_t + 0.5))`` over the N
    documents, and scored by dot product. Sums are float32 in the query's term order, the
    precision and order Azurite's sparse index uses, so the two rankings can be compared
    exactly; equal scores rank by row (insertion order)."""

    def __init__(self, vectors: Sequence[Any]) -> None:
        rows: dict[int, list[int]] = {}
        values: dict[int, list[float]] = {}
        for row, vector in enumerate(vectors):
            for index, value in zip(vector.indices, vector.values):
                rows.setdefault(index, []).append(row)
                values.setdefault(index, []).append(value)
        self.postings = {
            index: (np.asarray(rows[index], np.int32), np.asarray(values[index], np.float32))
            for index in rows
        }
        self.documents = len(vectors)

    def top(self, query: Any, limit: int) -> list[tuple[int, float]]:
        """The `limit` best rows sharing a term with `query`, as (row, score), best first."""
        scores = np.zeros(self.documents, dtype=np.float32)
        touched = np.zeros(self.documents, dtype=bool)
        documents = np.float32(self.documents)
        for index, value in zip(query.indices, query.values):
            posting = self.postings.get(index)
            if posting is None:
                continue
            rows, values = posting
            holding = np.float32(len(rows))
            idf = np.log1p((documents - holding + np.float32(0.5)) / (holding + np.float32(0.5)))
            scores[rows] += (np.float32(value) * idf) * values
            touched[rows] = True
        candidates = np.flatnonzero(touched)
        if len(candidates) > limit:
            # Everything scoring at least the limit-th best, ties included, then exact order.
            kth = np.partition(scores[candidates], len(candidates) - limit)[-limit]
            candidates = candidates[scores[candidates] >= kth]
        best = candidates[np.lexsort((candidates, -scores[candidates]))][:limit]
        return [(int(row), float(scores[row])) for row in best]


def fused_top(rankings: Sequence[Sequence[int]], default: int, limit: int) -> list[int]:
    """Reciprocal rank fusion as ``Rrf(k=60)`` defines it, weights 1: a row's score is
    ``-Σ 1 / (k + rank)`` with 0-based ranks and `default` as the rank of a row missing
    from a list; lowest first, ties by row. float32, summed in list order, as Azurite (and
    Chroma) evaluate the expression ``Rrf`` compiles to."""
    rows = list(dict.fromkeys(row for ranking in rankings for row in ranking))
    position = {row: i for i, row in enumerate(rows)}
    total = np.zeros(len(rows), dtype=np.float32)
    for ranking in rankings:
        ranks = np.full(len(rows), default, dtype=np.float32)
        ranks[[position[row] for row in ranking]] = np.arange(len(ranking), dtype=np.float32)
        total = total + np.float32(1.0) / (np.float32(RRF_K) + ranks)
    order = np.lexsort((np.asarray(rows), -total))[:limit]
    return [rows[i] for i in order]


def record_ids(rows: Sequence[int]) -> list[str]:
    return [f"d{row}" for row in rows]


def record_rows(ids: Sequence[str]) -> list[int]:
    return [int(record_id[1:]) for record_id in ids]


# --------------------------------------------------------------------------------------------
# Children: one system each
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    documents_file: str
    vectors_file: str
    documents: int
    queries: int
    candidates: int

    def load(self) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
        texts = json.loads(Path(self.documents_file).read_text(encoding="utf-8"))
        vectors = np.load(self.vectors_file)
        return (
            texts["documents"],
            texts["queries"],
            vectors[: self.documents],
            vectors[self.documents :],
        )


def timed(
    run: Any, queries: Sequence[Any], documents: Sequence[str]
) -> tuple[list[float], list[list[int]], bool]:
    """Latency of `run(query)` for each query after warm-ups, the rows it returned, and
    whether every answer came with the documents of its rows."""
    for query in queries[:WARM_UP_QUERIES]:  # the first searches may build or page in an index
        run(query)
    latencies, found, documents_right = [], [], True
    for query in queries:
        began = time.perf_counter()
        rows, texts = run(query)
        latencies.append(time.perf_counter() - began)
        found.append(rows)
        documents_right &= texts == [documents[row] for row in rows]
    return latencies, found, documents_right


def add_in_batches(collection: Any, documents: list[str], vectors: np.ndarray) -> float:
    began = time.perf_counter()
    for start in range(0, len(documents), BATCH):
        stop = min(start + BATCH, len(documents))
        collection.add(
            ids=record_ids(range(start, stop)),
            embeddings=vectors[start:stop],
            documents=documents[start:stop],
        )
    return time.perf_counter() - began


Answer = tuple[list[int], list[str]]  # rows, best first, and their documents


def run_azurite(workload: Workload, directory: Path) -> dict[str, Any]:
    import azurite
    from azurite import K, Knn, Rrf, Schema, Search, SparseVectorIndexConfig
    from azurite.embedding_functions import ChromaBm25EmbeddingFunction

    documents, queries, vectors, query_vectors = workload.load()
    client = azurite.PersistentClient(
        path=str(directory), settings=azurite.Settings(anonymized_telemetry=False)
    )
    bm25 = ChromaBm25EmbeddingFunction()
    schema = Schema().create_index(
        config=SparseVectorIndexConfig(source_key=K.DOCUMENT, embedding_function=bm25, bm25=True),
        key=SPARSE_KEY,
    )
    collection = client.create_collection(COLLECTION, schema=schema, embedding_function=None)
    ingest_seconds = add_in_batches(collection, documents, vectors)
    sparse_queries = bm25.embed_query(queries)
    limit = workload.candidates

    def answer(rank: Any) -> Answer:
        search = Search().rank(rank).limit(NEIGHBOURS).select(K.DOCUMENT, K.SCORE)
        result = collection.search(search)
        return record_rows(result["ids"][0]), result["documents"][0]

    def bm25_only(query: Any) -> Answer:
        return answer(Knn(query=query, key=SPARSE_KEY, limit=NEIGHBOURS))

    def dense_only(query: np.ndarray) -> Answer:
        return answer(Knn(query=query, limit=NEIGHBOURS))

    def hybrid(pair: tuple[np.ndarray, Any]) -> Answer:
        dense, sparse = pair
        return answer(
            Rrf(
                ranks=[
                    Knn(query=dense, limit=limit, default=limit, return_rank=True),
                    Knn(query=sparse, key=SPARSE_KEY, limit=limit, default=limit, return_rank=True),
                ],
                k=RRF_K,
            )
        )

    figures: dict[str, Any] = {"ingest_seconds": ingest_seconds}
    measure(figures, documents, bm25_only, dense_only, hybrid, query_vectors, sparse_queries)

    # Untimed: the candidate lists the fusion saw, for the parent to fuse them by hand.
    def candidates(rank: Any) -> Any:
        return collection.search(Search().rank(rank).limit(limit).select(K.SCORE))

    figures["dense_candidates"] = [
        record_rows(candidates(Knn(query=query, limit=limit))["ids"][0]) for query in query_vectors
    ]
    figures["bm25_candidates"] = []
    for query in sparse_queries:
        result = candidates(Knn(query=query, key=SPARSE_KEY, limit=limit))
        # Azurite reports 1 - score as a sparse Knn's distance, as Chroma Cloud does.
        scores = [1.0 - distance for distance in result["scores"][0]]
        figures["bm25_candidates"].append(list(zip(record_rows(result["ids"][0]), scores)))
    client.close()
    return figures


def run_chromadb(workload: Workload, directory: Path) -> dict[str, Any]:
    import chromadb
    from chromadb.utils.embedding_functions import ChromaBm25EmbeddingFunction

    documents, queries, vectors, query_vectors = workload.load()
    client = chromadb.PersistentClient(
        path=str(directory), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    collection = client.create_collection(COLLECTION, embedding_function=None)
    ingest_seconds = add_in_batches(collection, documents, vectors)
    bm25 = ChromaBm25EmbeddingFunction()
    began = time.perf_counter()
    postings = Bm25Postings(bm25(documents))
    postings_seconds = time.perf_counter() - began
    sparse_queries = bm25.embed_query(queries)
    limit = workload.candidates

    def with_documents(rows: list[int]) -> Answer:
        ids = record_ids(rows)
        got = collection.get(ids=ids, include=["documents"])
        by_id = dict(zip(got["ids"], got["documents"] or []))
        return rows, [by_id[record_id] for record_id in ids]  # get() keeps its own order

    def bm25_only(query: Any) -> Answer:
        return with_documents([row for row, _ in postings.top(query, NEIGHBOURS)])

    def dense_only(query: np.ndarray) -> Answer:
        result = collection.query(
            query_embeddings=[query], n_results=NEIGHBOURS, include=["documents", "distances"]
        )
        return record_rows(result["ids"][0]), list(result["documents"][0])

    def hybrid(pair: tuple[np.ndarray, Any]) -> Answer:
        dense, sparse = pair
        found = collection.query(query_embeddings=[dense], n_results=limit, include=[])
        keyword = [row for row, _ in postings.top(sparse, limit)]
        fused = fused_top([record_rows(found["ids"][0]), keyword], limit, NEIGHBOURS)
        return with_documents(fused)

    figures: dict[str, Any] = {
        "ingest_seconds": ingest_seconds,
        "bm25_postings_seconds": postings_seconds,
    }
    measure(figures, documents, bm25_only, dense_only, hybrid, query_vectors, sparse_queries)
    figures["bm25_candidates"] = [postings.top(query, limit) for query in sparse_queries]
    return figures


def measure(
    figures: dict[str, Any], documents: Sequence[str], bm25_only: Any, dense_only: Any,
    hybrid: Any, query_vectors: np.ndarray, sparse_queries: Sequence[Any],
) -> None:  # fmt: skip
    """Times the three searches, each over every query, into `figures`."""
    for name, run, inputs in (
        ("bm25", bm25_only, list(sparse_queries)),
        ("dense", dense_only, list(query_vectors)),
        ("rrf", hybrid, list(zip(query_vectors, sparse_queries))),
    ):
        latencies, found, documents_right = timed(run, inputs, documents)
        figures[name] = {"latencies": latencies, "rows": found, "documents_right": documents_right}


SYSTEMS = {"azurite": run_azurite, "chromadb": run_chromadb}


def run_child(system: str, workload: Workload) -> dict[str, Any]:
    """Runs one system in a process of its own on a fresh directory; its figures."""
    directory = Path(tempfile.mkdtemp(prefix=f"bench-search-{system}-"))
    command = [
        sys.executable, __file__, "--phase", system, "--workload", json.dumps(asdict(workload)),
        "--directory", str(directory),
    ]  # fmt: skip
    began = time.perf_counter()
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"  {system}: {time.perf_counter() - began:.1f} s", flush=True)
    if completed.returncode != 0:
        raise RuntimeError(f"{system} failed:\n{completed.stderr[-4000:]}")
    # The figures are the last line: libraries may print to stdout before it.
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    figures["wall_seconds"] = time.perf_counter() - began
    return figures


# --------------------------------------------------------------------------------------------
# Parent: the workload, the children, agreement and the report
# --------------------------------------------------------------------------------------------

SEARCHES = {"bm25": "BM25 Knn", "dense": "dense Knn", "rrf": "Rrf(dense, BM25)"}
TARGETS = {"BM25 Knn p50 ms": "≤ 2 ms", "Rrf(dense, BM25) p50 ms": "≤ 3 ms"}


def exact_dense(vectors: np.ndarray, queries: np.ndarray) -> list[set[int]]:
    """The true NEIGHBOURS nearest rows by squared l2, the collections' default space."""
    norms = np.einsum("ij,ij->i", vectors, vectors)
    found = []
    for start in range(0, len(queries), 100):
        distances = norms - 2.0 * (queries[start : start + 100] @ vectors.T)
        best = np.argpartition(distances, NEIGHBOURS - 1, axis=1)[:, :NEIGHBOURS]
        found.extend(set(rows.tolist()) for rows in best)
    return found


def overlap(first: Sequence[Sequence[int]], second: Sequence[Sequence[int]]) -> float:
    return float(np.mean([len(set(a) & set(b)) / NEIGHBOURS for a, b in zip(first, second)]))


def recall(found: Sequence[Sequence[int]], truth: Sequence[set[int]]) -> float:
    return float(np.mean([len(truth_rows.intersection(rows)) / NEIGHBOURS
                          for rows, truth_rows in zip(found, truth)]))  # fmt: skip


def summarise(figures: dict[str, Any], truth: list[set[int]]) -> dict[str, float]:
    summary: dict[str, float] = {}
    for name, label in SEARCHES.items():
        summary[f"{label} p50 ms"] = _ms(figures[name]["latencies"], 50)
        summary[f"{label} p95 ms"] = _ms(figures[name]["latencies"], 95)
    summary["dense Knn recall@10"] = recall(figures["dense"]["rows"], truth)
    summary["ingest s (not the measure)"] = figures["ingest_seconds"]
    return summary


def agreement(runs: dict[str, dict[str, Any]], candidates: int) -> dict[str, float]:
    """How far the systems' answers agree, and whether Azurite's fusion is the formula's.

    - ``rrf equals its lists fused by hand``: Azurite's Rrf top-10 against ``fused_top`` of
      the two candidate lists Azurite gives for the same queries (each Knn alone).
    - ``bm25 top-10 / top-candidates equal``: Azurite's sparse Knn against the BM25 postings
      in chromadb's process, row for row (ties by insertion order on both sides).
    - overlaps@10 of the dense and of the fused answers: the dense half is approximate on
      both sides, so their lists may differ where their graphs do.
    """
    found: dict[str, float] = {}
    queries = len(next(iter(runs.values()))["rrf"]["rows"])
    if "azurite" in runs:
        azurite = runs["azurite"]
        by_hand = [
            fused_top([dense, [row for row, _ in keyword]], candidates, NEIGHBOURS)
            for dense, keyword in zip(azurite["dense_candidates"], azurite["bm25_candidates"])
        ]
        found["rrf equals its lists fused by hand"] = (
            sum(a == b for a, b in zip(azurite["rrf"]["rows"], by_hand)) / queries
        )
    if sorted(runs) == ["azurite", "chromadb"]:
        azurite, chromadb = runs["azurite"], runs["chromadb"]
        found["bm25 top-10 equal"] = (
            sum(a == b for a, b in zip(azurite["bm25"]["rows"], chromadb["bm25"]["rows"])) / queries
        )
        same_candidates = 0
        score_gap = 0.0
        for mine, theirs in zip(azurite["bm25_candidates"], chromadb["bm25_candidates"]):
            same_candidates += [row for row, _ in mine] == [row for row, _ in theirs]
            for (_, score), (_, expected) in zip(mine, theirs):
                score_gap = max(score_gap, abs(score - expected) / max(abs(expected), 1e-9))
        found[f"bm25 top-{candidates} equal"] = same_candidates / queries
        found["bm25 largest relative score difference"] = score_gap
        for name in ("dense", "rrf"):
            found[f"{name} overlap@10"] = overlap(azurite[name]["rows"], chromadb[name]["rows"])
    for system, figures in runs.items():
        answers = figures["bm25"]["rows"]
        found[f"{system} BM25 answers with {NEIGHBOURS} rows"] = (
            sum(len(rows) == NEIGHBOURS for rows in answers) / queries
        )
        found[f"{system} returned the rows' documents"] = float(
            all(figures[name]["documents_right"] for name in SEARCHES)
        )
    return found


def report(
    summaries: dict[str, dict[str, float]], agreed: dict[str, float]
) -> dict[str, float]:  # fmt: skip
    """Prints the table with the ratio Azurite / chromadb per row; the ratios."""
    names = list(summaries)
    compare = sorted(names) == ["azurite", "chromadb"]
    print(f"\n{'':40}" + "".join(f"{name:>12}" for name in names)
          + ("   azurite/chromadb" if compare else ""))  # fmt: skip
    ratios: dict[str, float] = {}
    for key in summaries[names[0]]:
        line = f"{key:40}" + "".join(f"{summaries[name][key]:>12,.4g}" for name in names)
        if compare and summaries["chromadb"][key]:
            ratios[key] = summaries["azurite"][key] / summaries["chromadb"][key]
            line += f"{ratios[key]:>19.3g}"
        print(line)
    print()
    for key, value in agreed.items():
        print(f"{key:52}{value:>12.4g}")
    return ratios


def commit() -> str:
    """The checkout's commit, with ``-dirty`` when files differ from it."""
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty", "--abbrev=7"],
        cwd=Path(__file__).resolve().parent, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return described.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=PROFILES, default="full")
    parser.add_argument("--documents", type=int, help="documents (full 100,000; smoke 2,000)")
    parser.add_argument("--queries", type=int, help="queries (full 300; smoke 40)")
    parser.add_argument("--candidates", type=int, default=100, help="each Knn's limit in Rrf")
    parser.add_argument("--embedding", choices=EMBEDDINGS, help="full: minilm; smoke: hashed")
    parser.add_argument("--systems", default="azurite,chromadb", help="comma-separated")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR, help="dense vectors")
    parser.add_argument("--results", type=Path, help="JSON file (benches/results/latest-...)")
    parser.add_argument("--phase", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.phase:
        workload = Workload(**json.loads(arguments.workload))
        figures = SYSTEMS[arguments.phase](workload, Path(arguments.directory))
        figures["version"] = importlib.import_module(arguments.phase).__version__
        print(json.dumps(figures), flush=True)
        return

    profile = PROFILES[arguments.profile]
    documents = arguments.documents or profile.documents
    queries = arguments.queries or profile.queries
    embedding = arguments.embedding or profile.embedding
    load_at_start = os.getloadavg()
    print(f"load average at start: {load_at_start}", flush=True)
    began = time.perf_counter()
    corpus = read_corpus(documents, queries)
    corpus_seconds = time.perf_counter() - began
    print(f"corpus: {len(corpus.documents):,} documents, {len(corpus.queries)} queries from "
          f"{corpus.files_read:,} files ({corpus_seconds:.0f} s)", flush=True)  # fmt: skip
    began = time.perf_counter()
    vectors_file, cached = dense_vectors(corpus, embedding, arguments.cache_dir)
    embedding_seconds = time.perf_counter() - began
    print(f"dense vectors: {vectors_file} ({'cached' if cached else 'computed'})", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-search-") as scratch:
        documents_file = Path(scratch) / "texts.json"
        texts = {"documents": corpus.documents, "queries": corpus.queries}
        documents_file.write_text(json.dumps(texts), encoding="utf-8")
        workload = Workload(
            str(documents_file), str(vectors_file), documents, queries, arguments.candidates
        )
        runs = {name: run_child(name, workload) for name in arguments.systems.split(",")}

    vectors = np.load(vectors_file)
    truth = exact_dense(vectors[:documents], vectors[documents:])
    summaries = {name: summarise(figures, truth) for name, figures in runs.items()}
    agreed = agreement(runs, arguments.candidates)
    ratios = report(summaries, agreed)
    results = {
        "workload": {
            "profile": arguments.profile,
            "documents": documents,
            "queries": queries,
            "candidates": arguments.candidates,
            "rrf_k": RRF_K,
            "neighbours": NEIGHBOURS,
            "embedding": embedding,
            "corpus_rule": CORPUS_RULE,
            "corpus_files_read": corpus.files_read,
            "corpus_duplicates_dropped": corpus.duplicates_dropped,
            "corpus_last_file": corpus.last_file,
            "dense_vectors": str(vectors_file),
            "dense_vectors_cached": cached,
        },
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": os.getloadavg(),
        },
        "commit": commit(),
        "versions": {name: figures["version"] for name, figures in runs.items()},
        "systems": summaries,
        "ratios_azurite_over_chromadb": ratios,
        "agreement": agreed,
        "chromadb_bm25_postings_seconds": runs.get("chromadb", {}).get("bm25_postings_seconds"),
        "wall_seconds": {
            "corpus": corpus_seconds,
            "dense vectors": embedding_seconds,
            **{name: figures["wall_seconds"] for name, figures in runs.items()},
        },
    }
    results_file = arguments.results or RESULTS_DIR / f"latest-search-{arguments.profile}.json"
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    table = results_file.with_suffix(".md")
    table.write_text(markdown(summaries, ratios, TARGETS))
    print(f"written to {results_file} and {table}")


if __name__ == "__main__":
    main()
