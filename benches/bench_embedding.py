"""Default embedding function throughput: Azurite against chromadb 1.5.9 on the same texts.

    .venv/bin/python benches/bench_embedding.py [--sentences 1000] [--words 20] [--rounds 3]
                                                [--add-documents 10000] [--seed 0]

Both functions embed the same seeded twenty-word sentences in one call each round; rounds
alternate between the two (the machine may be busy) and the best round counts. chromadb's
function reads its model from ~/.cache/chroma/onnx_models/all-MiniLM-L6-v2/onnx; here it is
pointed (through its DOWNLOAD_PATH class attribute, in this process only) at the model
Azurite built offline, which has the same inputs, outputs and tokenizer files, so nothing is
downloaded and the user's cache is not touched. The vectors of both are compared too.
Then a documents-only `add` of --add-documents texts into an Azurite collection is timed.
Results go to benches/results/latest-embedding.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "latest-embedding.json"
VOCABULARY = (
    "time person year way day thing man world life hand part child eye woman place work "
    "week case point government company number group problem fact be have do say get "
    "make go know take see come think look want give use find tell ask seem feel try "
    "leave call good new first last long great little own other old right big high "
    "different small large next early young important few public bad same able river "
    "mountain engine garden kitchen window letter market student teacher doctor music "
    "picture history science language"
)


def sentences(count: int, words: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words_to_pick = VOCABULARY.split()
    return [" ".join(rng.choice(words_to_pick) for _ in range(words)) + "." for _ in range(count)]


def azurite_function() -> Callable[[list[str]], Any]:
    from azurite.embedding_functions import DefaultEmbeddingFunction

    return DefaultEmbeddingFunction()


def chromadb_function(model_dir: Path, scratch: Path) -> Callable[[list[str]], Any]:
    """chromadb's DefaultEmbeddingFunction reading `model_dir` instead of its cache."""
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    (scratch / "onnx").symlink_to(model_dir, target_is_directory=True)
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = scratch  # type: ignore[misc]
    return DefaultEmbeddingFunction()  # type: ignore[no-untyped-call]


def timed(function: Callable[[list[str]], Any], texts: list[str]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    vectors = np.stack(function(texts))
    return time.perf_counter() - started, vectors


def compare(
    functions: dict[str, Callable[[list[str]], Any]], texts: list[str], rounds: int
) -> dict[str, Any]:
    best = dict.fromkeys(functions, float("inf"))
    vectors: dict[str, np.ndarray] = {}
    for function in functions.values():
        function(texts[:8])  # load the model outside the timings
    for _ in range(rounds):
        for name, function in functions.items():
            seconds, vectors[name] = timed(function, texts)
            best[name] = min(best[name], seconds)
    result: dict[str, Any] = {
        name: {"best_seconds": seconds, "sentences_per_second": len(texts) / seconds}
        for name, seconds in best.items()
    }
    if len(vectors) == 2:
        first, second = vectors.values()
        result["max_abs_difference"] = float(np.abs(first - second).max())
    return result


def add_documents(count: int, seed: int) -> dict[str, Any]:
    import azurite

    texts = sentences(count, 20, seed + 1)
    client = azurite.EphemeralClient()
    collection = client.create_collection("bench_embedding_add")
    started = time.perf_counter()
    collection.add(ids=[str(i) for i in range(count)], documents=texts)
    seconds = time.perf_counter() - started
    client.delete_collection("bench_embedding_add")
    return {"documents": count, "seconds": seconds, "documents_per_second": count / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--words", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--add-documents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from azurite.embedding_functions import _minilm_files

    texts = sentences(args.sentences, args.words, args.seed)
    model_dir = _minilm_files.resolve_model_dir()
    with tempfile.TemporaryDirectory() as scratch:
        functions = {
            "azurite": azurite_function(),
            "chromadb": chromadb_function(model_dir, Path(scratch)),
        }
        throughput = compare(functions, texts, args.rounds)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "model_dir": str(model_dir),
        "sentences": args.sentences,
        "words_per_sentence": args.words,
        "rounds": args.rounds,
        "throughput": throughput,
        "add": add_documents(args.add_documents, args.seed) if args.add_documents else None,
    }
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2) + "\n")
    for name in functions:
        rate = throughput[name]["sentences_per_second"]
        print(f"{name:9} {rate:8.1f} sentences/s (best of {args.rounds})")
    if "max_abs_difference" in throughput:
        print(f"max |difference| between the two: {throughput['max_abs_difference']:.2e}")
    if report["add"]:
        add = report["add"]
        print(
            f"add(documents=...) of {add['documents']} documents: {add['seconds']:.1f} s "
            f"({add['documents_per_second']:.0f}/s)"
        )
    print(f"wrote {RESULTS_FILE}")


if __name__ == "__main__":
    main()
