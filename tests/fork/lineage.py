"""A deterministic history of writes to one collection, and a process that runs it while
another thread forks the collection, reporting each acknowledged write and fork on
stdout (``w <index>``, ``f <name> <writes acknowledged before> <after>``), until killed.

    python tests/fork/lineage.py DIR
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

import numpy as np

DIM = 4
#: id -> (vector, metadata value), in row order.
Model = dict[str, tuple[list[float], int]]


def vector(i: int) -> list[float]:
    values: list[float] = np.random.default_rng(i).normal(size=DIM).astype(np.float32).tolist()
    return values


def write(i: int, model: Model) -> tuple[str, list[str], list[float] | None, int | None]:
    """Write ``i`` of the history, given the state before it: ``(kind, ids, vector,
    metadata value)``."""
    live = list(model)
    choice = i % 5
    if choice in (0, 1, 2) or len(live) < 3:
        return "add", [f"w{i}"], vector(i), i
    target = live[(i * 7919) % len(live)]
    if choice == 3:
        return "update", [target], None, -i
    return "delete", [target], None, None


def apply(model: Model, op: tuple[str, list[str], list[float] | None, int | None]) -> None:
    kind, ids, values, meta = op
    if kind == "add":
        assert values is not None and meta is not None
        model[ids[0]] = (values, meta)
    elif kind == "update":
        assert meta is not None
        model[ids[0]] = (model[ids[0]][0], meta)
    else:
        del model[ids[0]]


def history(writes: int) -> list[Model]:
    """The states after 0, 1, ... ``writes`` writes."""
    model: Model = {}
    states = [dict(model)]
    for i in range(writes):
        apply(model, write(i, model))
        states.append(dict(model))
    return states


def run(collection: Any, op: tuple[str, list[str], list[float] | None, int | None]) -> None:
    kind, ids, values, meta = op
    if kind == "add":
        collection.add(ids=ids, embeddings=[values], metadatas=[{"m": meta}])
    elif kind == "update":
        collection.update(ids=ids, metadatas=[{"m": meta}])
    else:
        collection.delete(ids=ids)


def main(path: str) -> None:
    import azurite

    client = azurite.PersistentClient(path)
    source = client.create_collection(
        "source", embedding_function=None, configuration={"hnsw": {"sync_threshold": 10}}
    )
    printing = threading.Lock()
    acknowledged = 0

    def say(line: str) -> None:
        with printing:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def writer() -> None:
        nonlocal acknowledged
        model: Model = {}
        for i in range(10**9):
            op = write(i, model)
            run(source, op)
            apply(model, op)
            acknowledged = i + 1
            say(f"w {i}")

    threading.Thread(target=writer, daemon=True).start()
    for f in range(10**9):
        time.sleep(0.02)
        before = acknowledged
        source.fork(f"fork-{f}")
        say(f"f fork-{f} {before} {acknowledged}")


if __name__ == "__main__":
    main(sys.argv[1])
