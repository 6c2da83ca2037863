"""``azurite run`` under many concurrent clients: no errors and flat memory.

Sixteen threads, each with its own ``chromadb.HttpClient`` (the official client), mix
upserts, updates, gets, queries and counts on one collection; each thread writes only its
own ids and checks what it reads back. The ids cycle over a fixed range, so the stored data
stops growing once every id has been written: from then on the server's memory should
only move by allocator noise. Its resident set size is sampled from ``/proc`` all along.

The short form runs ``AZURITE_SERVER_LOAD_SECONDS`` (default 6); the ``soak`` form
``AZURITE_SERVER_LOAD_SOAK_SECONDS`` (default 60).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import chromadb
import pytest
from server.servers import Server, azurite_server

CLIENTS = 16
IDS_PER_CLIENT = 40
DIMENSION = 32
SHORT_SECONDS = float(os.environ.get("AZURITE_SERVER_LOAD_SECONDS", "6"))
SOAK_SECONDS = float(os.environ.get("AZURITE_SERVER_LOAD_SOAK_SECONDS", "60"))
SAMPLE_EVERY = 0.25
# Growth of the server's RSS allowed between the end of the warm-up (every id written, a
# third of the run gone) and the end of the run. The stored data is constant by then, so
# what remains is allocator noise: 1.1 MiB in a 60 s run (58.6 MiB at start, 65.1 after
# the warm-up, 66.2 at the end). A leak of one response body (~1 KiB) per request, at the
# ~790 requests/s measured on 2 cores, would add ~30 MiB over the last 40 s, and a leak of
# the records themselves far more; 16 MiB lets the noise through and not those. The short
# form only catches gross leaks; the soak form is the real check.
RSS_GROWTH_BOUND = 16 * 1024 * 1024


def rss(pid: int) -> int:
    """Resident set size of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with azurite_server(tmp_path) as running:
        yield running


def close_sessions(client: Any) -> None:
    """chromadb 1.5.9 never closes a client's HTTP session (nor its admin client's)."""
    for owner in (client, getattr(client, "_admin_client", None)):
        if owner is not None:
            owner._server._session.close()


def client_loop(
    client: Any, index: int, deadline: float, start: threading.Barrier, counts: list[int]
) -> None:
    rng = random.Random(index)
    collection = client.get_or_create_collection("load", embedding_function=None)
    documents: dict[str, str] = {}
    written = 0
    start.wait()
    while time.monotonic() < deadline:
        operation = rng.choice(("upsert", "upsert", "update", "get", "query", "count"))
        if operation == "upsert" or not documents:
            ids = [f"c{index}-{(written + i) % IDS_PER_CLIENT}" for i in range(4)]
            written += 4
            new = {id_: f"doc {index} {written} {id_}" for id_ in ids}
            collection.upsert(
                ids=ids,
                embeddings=[[rng.uniform(-1, 1) for _ in range(DIMENSION)] for _ in ids],
                metadatas=[{"owner": index, "n": written} for _ in ids],
                documents=[new[id_] for id_ in ids],
            )
            documents.update(new)
        elif operation == "update":
            id_ = rng.choice(sorted(documents))
            documents[id_] = f"updated {index} {written} {id_}"
            collection.update(ids=[id_], documents=[documents[id_]], embeddings=[[0.5] * DIMENSION])
        elif operation == "get":
            ids = rng.sample(sorted(documents), min(5, len(documents)))
            got = collection.get(ids=ids, include=["documents"])
            assert dict(zip(got["ids"], got["documents"])) == {i: documents[i] for i in ids}
        elif operation == "query":
            result = collection.query(
                query_embeddings=[[rng.uniform(-1, 1) for _ in range(DIMENSION)]],
                n_results=5,
                where={"owner": index},
                include=["documents"],
            )
            for id_, document in zip(result["ids"][0], result["documents"][0]):
                assert documents[id_] == document
        else:
            assert collection.count() <= CLIENTS * IDS_PER_CLIENT
        counts[index] += 1


def run_load(server: Server, seconds: float) -> dict[str, Any]:
    counts = [0] * CLIENTS
    errors: list[BaseException] = []
    start = threading.Barrier(CLIENTS + 1)
    deadline = time.monotonic() + seconds + 1.0  # time for every client to connect

    # chromadb shares one system per server address: the clients of the threads share its
    # connection pool, which opens a connection per concurrent request.
    clients: list[Any] = []

    def worker(index: int) -> None:
        try:
            client = chromadb.HttpClient(
                host=server.host,
                port=server.port,
                settings=chromadb.Settings(anonymized_telemetry=False),
            )
            clients.append(client)
            client_loop(client, index, deadline, start, counts)
        except BaseException as error:
            errors.append(error)
            start.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    samples: list[tuple[float, int]] = []
    while any(thread.is_alive() for thread in threads):
        samples.append((time.monotonic() - began, rss(server.process.pid)))
        time.sleep(SAMPLE_EVERY)
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    for client in clients:
        close_sessions(client)
    if errors:
        raise errors[0]
    assert server.process.poll() is None
    warm = [value for at, value in samples if at >= elapsed / 3]
    return {
        "requests": sum(counts),
        "seconds": elapsed,
        "rss_start": samples[0][1],
        "rss_warm": warm[0],
        "rss_end": warm[-1],
        "rss_max": max(warm),
    }


def check_and_report(figures: dict[str, Any]) -> None:
    mib = 1024 * 1024
    print(
        f"\n{CLIENTS} clients, {figures['seconds']:.1f} s: {figures['requests']} requests "
        f"({figures['requests'] / figures['seconds']:.0f}/s); server RSS "
        f"{figures['rss_start'] / mib:.1f} MiB at start, {figures['rss_warm'] / mib:.1f} after "
        f"warm-up, {figures['rss_end'] / mib:.1f} at the end (max {figures['rss_max'] / mib:.1f})"
    )
    assert figures["rss_max"] - figures["rss_warm"] <= RSS_GROWTH_BOUND


def test_many_clients(server: Server) -> None:
    check_and_report(run_load(server, SHORT_SECONDS))


@pytest.mark.soak
def test_many_clients_soak(server: Server) -> None:
    check_and_report(run_load(server, SOAK_SECONDS))
