"""Default embedding function throughput: Azurite against chromadb 1.5.9 on the same texts.

    .venv/bin/python benches/bench_embedding.py [--sentences 1000] [--words 20] [--rounds 3]
                                                [--chromadb-sentences 320]
                                                [--add-documents 10000] [--seed 0]

Four things are timed round-robin on the same seeded twenty-word sentences (the machine may
be busy, so the best round counts and the load average is recorded):

* ``azurite``: Azurite's ``DefaultEmbeddingFunction`` (batches of 32 texts of similar token
  counts, each padded to its longest);
* ``reference``: the minimal loop of the offline-model notes (``MiniLMEmbedder``: tokenizers
  padding to the longest text, batches of 32 in input order, one onnxruntime session with
  ``ORT_ENABLE_ALL``) on the same model file: what the model gives with no library around it;
* ``chromadb``: chromadb's ``DefaultEmbeddingFunction``, which pads every text to 256 tokens.
  Its cost per batch does not depend on the texts, so it embeds the first
  ``--chromadb-sentences`` only. It reads its model from ~/.cache/chroma/onnx_models/
  all-MiniLM-L6-v2/onnx; here it is pointed (through its DOWNLOAD_PATH class attribute, in
  this process only) at the model Azurite uses, which has the same inputs, outputs and
  tokenizer files, so nothing is downloaded and the user's cache is not touched;
* ``matmul``: onnxruntime multiplying float32 matrices of the model's shapes, which gives the
  machine's current ceiling: the model spends nearly all its time in such products, so no
  float32 implementation can embed more sentences per second than this rate divided by the
  model's operations per sentence (reported as ``ceiling_sentences_per_second``).

Then a documents-only ``add`` of ``--add-documents`` texts into an Azurite collection is
timed twice: without a progress bar (nothing may be printed) and with one (the bar must
reach the total). Results go to benches/results/latest-embedding.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
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
HIDDEN, FEED_FORWARD, LAYERS, BATCH = 384, 1536, 6, 32


def sentences(count: int, words: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    words_to_pick = VOCABULARY.split()
    return [" ".join(rng.choice(words_to_pick) for _ in range(words)) + "." for _ in range(count)]


def azurite_function() -> Callable[[list[str]], Any]:
    from azurite.embedding_functions import DefaultEmbeddingFunction

    return DefaultEmbeddingFunction()


def reference_function(model_dir: Path) -> Callable[[list[str]], Any]:
    """The notes' MiniLMEmbedder: the model with the least code around it."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(
        str(model_dir / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
    )

    def embed(texts: list[str]) -> np.ndarray:
        out = []
        for start in range(0, len(texts), BATCH):
            encodings = tokenizer.encode_batch(texts[start : start + BATCH])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            (hidden,) = session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
            )
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
            out.append(pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12))
        return np.concatenate(out)

    return embed


def chromadb_function(model_dir: Path, scratch: Path) -> Callable[[list[str]], Any]:
    """chromadb's DefaultEmbeddingFunction reading `model_dir` instead of its cache."""
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    (scratch / "onnx").symlink_to(model_dir, target_is_directory=True)
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = scratch  # type: ignore[misc]
    return DefaultEmbeddingFunction()  # type: ignore[no-untyped-call]


def tokens_per_sentence(model_dir: Path, texts: list[str]) -> float:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    tokenizer.no_padding()
    return float(np.mean([len(e.ids) for e in tokenizer.encode_batch(texts)]))


def operations_per_sentence(tokens: float) -> float:
    """Floating-point operations (multiply and add counted apart) of the encoder's matrix
    products for one sentence of `tokens` tokens: Q, K, V, output and the two feed-forward
    projections per token, plus the attention scores and their weighted sum."""
    projections = 4 * HIDDEN * HIDDEN + 2 * HIDDEN * FEED_FORWARD
    attention = 2 * tokens * HIDDEN
    return 2 * LAYERS * tokens * (projections + attention)


def matmul_probe(tokens: int) -> Callable[[], float]:
    """Times onnxruntime's float32 MatMul on a batch of the model's feed-forward shape
    ([32 * tokens, 384] by [384, 1536]); returns the operations per second."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(
        rng.standard_normal((HIDDEN, FEED_FORWARD)).astype(np.float32), "w"
    )
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "probe",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["m", HIDDEN])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["m", FEED_FORWARD])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = rng.standard_normal((BATCH * tokens, HIDDEN)).astype(np.float32)
    repeats = 50

    def probe() -> float:
        started = time.perf_counter()
        for _ in range(repeats):
            session.run(None, {"x": x})
        seconds = time.perf_counter() - started
        return repeats * 2 * x.shape[0] * HIDDEN * FEED_FORWARD / seconds

    return probe


def compare(
    functions: dict[str, tuple[Callable[[list[str]], Any], list[str]]],
    probe: Callable[[], float],
    rounds: int,
) -> dict[str, Any]:
    best = dict.fromkeys(functions, float("inf"))
    vectors: dict[str, np.ndarray] = {}
    best_rate = 0.0
    for function, texts in functions.values():
        function(texts[:8])  # load the model outside the timings
    for _ in range(rounds):
        for name, (function, texts) in functions.items():
            started = time.perf_counter()
            vectors[name] = np.stack(function(texts))
            best[name] = min(best[name], time.perf_counter() - started)
        best_rate = max(best_rate, probe())
    result: dict[str, Any] = {
        name: {
            "sentences": len(texts),
            "best_seconds": best[name],
            "sentences_per_second": len(texts) / best[name],
        }
        for name, (_, texts) in functions.items()
    }
    result["matmul_operations_per_second"] = best_rate
    result["max_abs_difference"] = {
        name: float(np.abs(vectors[name] - vectors["azurite"][: len(vectors[name])]).max())
        for name in functions
        if name != "azurite"
    }
    return result


def add_documents(count: int, seed: int, show_progress: bool) -> dict[str, Any]:
    """A documents-only add of `count` texts, timed, with what it printed."""
    import azurite
    from azurite.embedding_functions import DefaultEmbeddingFunction

    texts = sentences(count, 20, seed + 1)
    client = azurite.EphemeralClient()
    name = f"bench_embedding_add_{int(show_progress)}"
    collection = client.create_collection(
        name, embedding_function=DefaultEmbeddingFunction(show_progress=show_progress)
    )
    printed_out, printed_err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(printed_out), contextlib.redirect_stderr(printed_err):
        collection.add(ids=[str(i) for i in range(count)], documents=texts)
    seconds = time.perf_counter() - started
    stored = collection.count()
    client.delete_collection(name)
    err = printed_err.getvalue()
    return {
        "documents": count,
        "stored": stored,
        "show_progress": show_progress,
        "seconds": seconds,
        "documents_per_second": count / seconds,
        "printed_characters": len(printed_out.getvalue()) + len(err),
        "progress_bar_reached_total": f"{count}/{count}" in err,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--words", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chromadb-sentences", type=int, default=320)
    parser.add_argument("--add-documents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from azurite.embedding_functions import _minilm_files

    texts = sentences(args.sentences, args.words, args.seed)
    model_dir = _minilm_files.resolve_model_dir()
    tokens = tokens_per_sentence(model_dir, texts)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        functions = {
            "azurite": (azurite_function(), texts),
            "reference": (reference_function(model_dir), texts),
            "chromadb": (
                chromadb_function(model_dir, Path(scratch)),
                texts[: args.chromadb_sentences],
            ),
        }
        throughput = compare(functions, matmul_probe(round(tokens)), args.rounds)
    operations = operations_per_sentence(tokens)
    throughput["operations_per_sentence"] = operations
    throughput["ceiling_sentences_per_second"] = (
        throughput["matmul_operations_per_second"] / operations
    )
    adds = (
        [add_documents(args.add_documents, args.seed, show) for show in (False, True)]
        if args.add_documents
        else []
    )
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "model_dir": str(model_dir),
        "sentences": args.sentences,
        "words_per_sentence": args.words,
        "tokens_per_sentence": tokens,
        "batch_size": BATCH,
        "rounds": args.rounds,
        "throughput": throughput,
        "add": adds,
    }
    RESULTS_FILE.parent.mkdir(exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2) + "\n")
    for name, (_, used) in functions.items():
        rate = throughput[name]["sentences_per_second"]
        print(f"{name:9} {rate:8.1f} sentences/s (best of {args.rounds}, {len(used)} sentences)")
    print(
        f"ceiling  {throughput['ceiling_sentences_per_second']:8.1f} sentences/s "
        f"({throughput['matmul_operations_per_second'] / 1e9:.0f} GFLOP/s float32 MatMul, "
        f"{operations / 1e9:.3f} GFLOP per {tokens:.1f}-token sentence)"
    )
    for name, difference in throughput["max_abs_difference"].items():
        print(f"max |azurite - {name}|: {difference:.2e}")
    for add in adds:
        print(
            f"add(documents=...) of {add['documents']} documents, show_progress="
            f"{add['show_progress']}: {add['seconds']:.1f} s ({add['documents_per_second']:.0f}/s), "
            f"printed {add['printed_characters']} characters, bar reached total: "
            f"{add['progress_bar_reached_total']}"
        )
    print(f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"wrote {RESULTS_FILE}")


if __name__ == "__main__":
    main()
