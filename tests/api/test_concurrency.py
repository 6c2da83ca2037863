"""The engine releases the GIL and stays consistent under concurrent use."""

from __future__ import annotations

import threading
import time

import numpy as np

import azurite


def test_a_long_engine_call_lets_other_python_threads_run() -> None:
    client = azurite.EphemeralClient()
    collection = client.get_or_create_collection("gil-release", embedding_function=None)
    rng = np.random.default_rng(3)
    # One large add: logging, storing and building the vector index all run in the engine.
    vectors = rng.normal(size=(12_000, 64)).astype(np.float32)
    ids = [str(i) for i in range(len(vectors))]

    call_started, call_ended = threading.Event(), threading.Event()
    call_span: list[float] = []

    def long_call() -> None:
        call_started.set()
        start = time.perf_counter()
        collection.add(ids=ids, embeddings=vectors)
        call_span.extend([start, time.perf_counter()])
        call_ended.set()

    worker = threading.Thread(target=long_call)
    worker.start()
    call_started.wait()
    ticks: list[float] = []
    while not call_ended.is_set():
        ticks.append(time.perf_counter())
    worker.join()
    start, end = call_span
    during = [t for t in ticks if start <= t <= end]
    # Had the call kept the GIL, this thread could not have run at all while it lasted.
    assert len(during) > 1000
    gaps = np.diff([start, *during, end])
    assert gaps.max() < (end - start) / 2
    assert collection.count() == len(vectors)
    client.delete_collection("gil-release")


def test_concurrent_writers_and_readers_keep_their_invariants() -> None:
    client = azurite.EphemeralClient()
    collection = client.get_or_create_collection("threads", embedding_function=None)
    errors: list[BaseException] = []
    batches, batch_size, dimension = 40, 50, 8

    def writer(worker: int) -> None:
        rng = np.random.default_rng(worker)
        try:
            for batch in range(batches):
                ids = [f"w{worker}-b{batch}-{i}" for i in range(batch_size)]
                collection.add(
                    ids=ids,
                    embeddings=rng.normal(size=(batch_size, dimension)).astype(np.float32),
                    metadatas=[{"worker": worker, "batch": batch}] * batch_size,
                )
        except BaseException as error:
            errors.append(error)

    def reader() -> None:
        query = np.ones(dimension, dtype=np.float32)
        try:
            for _ in range(200):
                count = collection.count()
                # Batches are applied whole: a reader never sees part of one.
                assert count % batch_size == 0
                result = collection.get(where={"worker": 0}, include=["metadatas"])
                batches_seen = {m["batch"] for m in result["metadatas"]}
                assert len(result["ids"]) == len(batches_seen) * batch_size
                if count:
                    hits = collection.query(query_embeddings=query, n_results=3, include=[])
                    assert len(hits["ids"][0]) == min(3, count)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    threads += [threading.Thread(target=reader) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert collection.count() == 3 * batches * batch_size
    client.delete_collection("threads")
