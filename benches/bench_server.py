"""Server benchmark: single-query QPS over loopback, ``azurite run`` against ``chroma run``.

    .venv/bin/python benches/bench_server.py [--n 20000] [--dim 128] [--seconds 5]
        [--rounds 3] [--clients 1,2,8] [--servers azurite,chroma]

Both servers run at once (each on a fresh temporary directory and a free port on
127.0.0.1) and get the same seeded collection through chromadb's official HttpClient.
Then, for each number of concurrent clients, that many client *processes* (so that the
clients' own Python does not cap the rate) each keep one connection open and send one
``query`` request at a time (one query vector, ``n_results=10``, the JSON body chromadb's
client sends) for a fixed time after a short warm-up. QPS is all answered queries over
the measured time; latency percentiles are over every request. Each point is measured
``--rounds`` times, alternating servers, and the median round is reported. Results go to
stdout and to benches/results/latest-server.json. Servers are always stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.server.servers import Server, azurite_server, chroma_server  # noqa: E402

RESULTS_FILE = ROOT / "benches" / "results" / "latest-server.json"
COLLECTION = "bench"
BATCH_SIZE = 5_000  # below the max batch size both servers report
NEIGHBOURS = 10
QUERY_POOL = 256
WARM_UP_SECONDS = 1.0
SERVERS = {"azurite": azurite_server, "chroma": chroma_server}


def _vectors(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n, dim), dtype=np.float32)


def load_collection(server: Server, n: int, dim: int) -> str:
    """Creates the benchmark collection and returns the path of its query route."""
    import chromadb

    client = chromadb.HttpClient(host=server.host, port=server.port)
    try:
        collection = client.create_collection(COLLECTION, embedding_function=None)
        vectors = _vectors(n, dim, seed=0)
        for start in range(0, n, BATCH_SIZE):
            stop = min(start + BATCH_SIZE, n)
            collection.add(
                ids=[str(i) for i in range(start, stop)],
                embeddings=vectors[start:stop],
                metadatas=[{"i": i} for i in range(start, stop)],
            )
        assert collection.count() == n
        return (
            f"/api/v2/tenants/default_tenant/databases/default_database/collections/"
            f"{collection.id}/query"
        )
    finally:
        # chromadb 1.5.9 does not close its HTTP sessions itself.
        client._server._session.close()
        client._admin_client._server._session.close()


def query_bodies(dim: int, seed: int) -> list[bytes]:
    """Request bodies as chromadb's client sends them, one query vector each."""
    return [
        json.dumps(
            {
                "ids": None,
                "query_embeddings": [vector.tolist()],
                "n_results": NEIGHBOURS,
                "where": None,
                "where_document": None,
                "include": ["metadatas", "documents", "distances"],
            }
        ).encode()
        for vector in _vectors(QUERY_POOL, dim, seed)
    ]


def client_worker(url: str, bodies: list[bytes], start_at: float, end_at: float, out: Any) -> None:
    """One client process: one connection, one request at a time until ``end_at``;
    latencies of requests sent after ``start_at`` (the warm-up before it is not counted)."""
    latencies = []
    headers = {"content-type": "application/json"}
    with httpx.Client(timeout=30.0) as http:
        position = 0
        while True:
            sent = time.monotonic()
            if sent >= end_at:
                break
            response = http.post(url, content=bodies[position % len(bodies)], headers=headers)
            response.raise_for_status()
            position += 1
            if sent >= start_at:
                latencies.append(time.monotonic() - sent)
    out.put(latencies)


def measure(url: str, bodies: list[bytes], clients: int, seconds: float) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    # Processes take a while to spawn: the clock starts once they all can.
    start_at = time.monotonic() + 2.0 + WARM_UP_SECONDS
    end_at = start_at + seconds
    workers = [
        context.Process(
            target=client_worker,
            args=(url, bodies[i::clients] or bodies, start_at, end_at, results),
        )
        for i in range(clients)
    ]
    for worker in workers:
        worker.start()
    latencies = np.concatenate([np.asarray(results.get(), dtype=np.float64) for _ in workers])
    for worker in workers:
        worker.join()
    return {
        "clients": clients,
        "queries": len(latencies),
        "qps": len(latencies) / seconds,
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p99_ms": float(np.percentile(latencies, 99) * 1000),
    }


def measure_all(
    servers: dict[str, Server], arguments: argparse.Namespace, concurrency: list[int]
) -> list[dict]:
    """Loads every server, then measures them point by point, alternating between servers
    within each round, so that a change in the machine's load hits them alike. A point's
    figure is the round with the median QPS."""
    routes = {name: load_collection(s, arguments.n, arguments.dim) for name, s in servers.items()}
    bodies = query_bodies(arguments.dim, seed=1)
    rows = []
    for clients in concurrency:
        rounds: dict[str, list[dict]] = {name: [] for name in servers}
        for _ in range(arguments.rounds):
            for name, server in servers.items():
                url = server.url + routes[name]
                rounds[name].append(measure(url, bodies, clients, arguments.seconds))
        for name, points in rounds.items():
            point = sorted(points, key=lambda p: p["qps"])[len(points) // 2]
            print(
                f"{name:8} clients={clients}  qps={point['qps']:8.1f}  "
                f"p50={point['p50_ms']:.2f} ms  p99={point['p99_ms']:.2f} ms  "
                f"(rounds: {', '.join(str(round(p['qps'])) for p in points)})",
                flush=True,
            )
            rows.append({"server": name, **point, "round_qps": [p["qps"] for p in points]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="records in the collection")
    parser.add_argument("--dim", type=int, default=128, help="vector dimension")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per point")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per point")
    parser.add_argument("--clients", default="1,2,8", help="concurrent clients per point")
    parser.add_argument("--servers", default="azurite,chroma", help="servers to measure")
    arguments = parser.parse_args()
    concurrency = [int(c) for c in arguments.clients.split(",")]
    names = arguments.servers.split(",")
    with contextlib.ExitStack() as stack:
        servers = {}
        for name in names:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=name)))
            servers[name] = stack.enter_context(SERVERS[name](directory))
        rows = measure_all(servers, arguments, concurrency)
    report = {
        "command": " ".join(sys.argv),
        "n": arguments.n,
        "dim": arguments.dim,
        "seconds": arguments.seconds,
        "rounds": arguments.rounds,
        "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "results": rows,
    }
    RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_FILE.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {RESULTS_FILE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
