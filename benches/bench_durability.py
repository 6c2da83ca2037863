"""What each durability mode costs: writes per second with ``azurite_durability="process"``
(the default: survives the process crashing) and ``"full"`` (fsyncs every commit: survives
power loss), for single-record adds and for 1,000-record batches.

    .venv/bin/python benches/bench_durability.py
    .venv/bin/python benches/bench_durability.py --single 2000 --batches 50 --dim 384

Each mode writes into a fresh directory under --dir (default: a temporary directory; put
it on the disk you care about, the figures are the disk's fsync latency as much as
Azurite's). The modes alternate for --rounds rounds and the best round of each is
printed, which keeps other load on the machine from favouring one mode.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import azurite


def measure(path: Path, durability: str, single: int, batches: int, dim: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    client = azurite.PersistentClient(
        path, settings=azurite.Settings(azurite_durability=durability)
    )
    try:
        collection = client.create_collection("bench", embedding_function=None)
        vectors = rng.normal(size=(single, dim)).astype(np.float32)
        start = time.perf_counter()
        for i in range(single):
            collection.add(ids=[f"s{i}"], embeddings=vectors[i : i + 1], metadatas=[{"i": i}])
        single_seconds = time.perf_counter() - start

        batch = rng.normal(size=(1_000, dim)).astype(np.float32)
        seconds = 0.0
        for b in range(batches):
            ids = [f"b{b}-{i}" for i in range(1_000)]
            metadatas = [{"i": i} for i in range(1_000)]
            start = time.perf_counter()
            collection.add(ids=ids, embeddings=batch, metadatas=metadatas)
            seconds += time.perf_counter() - start
        assert collection.count() == single + 1_000 * batches
    finally:
        client.close()
    return {
        "single_calls_per_s": single / single_seconds,
        "batch_calls_per_s": batches / seconds,
        "batch_records_per_s": 1_000 * batches / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--single", type=int, default=1_000, help="single-record adds")
    parser.add_argument("--batches", type=int, default=20, help="1,000-record adds")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--dir", type=Path, default=None, help="where to write")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per mode (best kept)")
    arguments = parser.parse_args()
    print(
        f"{arguments.single} single-record adds and {arguments.batches} adds of 1,000 "
        f"records, dimension {arguments.dim}, one metadata key per record; best of "
        f"{arguments.rounds} rounds"
    )
    print(f"{'mode':8} {'single adds/s':>14} {'1k batches/s':>13} {'records/s (1k)':>15}")
    best: dict[str, dict[str, float]] = {}
    for _ in range(arguments.rounds):
        for durability in ("process", "full"):
            with tempfile.TemporaryDirectory(dir=arguments.dir) as directory:
                figures = measure(
                    Path(directory), durability, arguments.single, arguments.batches, arguments.dim
                )
            kept = best.setdefault(durability, figures)
            for key, value in figures.items():
                kept[key] = max(kept[key], value)
    for durability, figures in best.items():
        print(
            f"{durability:8} {figures['single_calls_per_s']:14,.0f} "
            f"{figures['batch_calls_per_s']:13,.1f} {figures['batch_records_per_s']:15,.0f}"
        )


if __name__ == "__main__":
    main()
