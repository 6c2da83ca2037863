"""Ray datasets written into and read from an ``azurite run`` server (azurite.ray), on a
local Ray cluster of two CPUs: every row read back equal, a worker killed mid-job, a job
failing for good partway, bad input."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import ray
from ray_rows import (
    METADATA_COLUMNS,
    Stored,
    expected_records,
    read_back,
    rows_table,
)
from server.servers import AZURITE, Server, azurite_server, free_port, running

import azurite
from azurite.errors import ChromaAuthError, InvalidArgumentError
from azurite.io.records import from_batch
from azurite.ray import read_collection, write_collection

pytestmark = [
    pytest.mark.ray,
    # Ray's own code warns of its own deprecated settings, which it reads itself.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
]

ROWS = 100_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with azurite_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def client(server: Server) -> Iterator[azurite.ClientAPI]:
    with azurite.HttpClient(host=server.host, port=server.port) as http_client:
        yield http_client


def fetched(client: azurite.ClientAPI, name: str) -> Stored:
    """The collection as an HTTP client gets it, in the form above."""
    got = client.get_collection(name).get(include=["embeddings", "documents", "metadatas"])
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    return {
        identifier: (vector.tobytes(), document, metadata)
        for identifier, vector, document, metadata in zip(
            got["ids"], vectors, got["documents"], got["metadatas"]
        )
    }


def write(dataset: ray.data.Dataset, url: str, name: str, **kwargs: Any) -> None:
    write_collection(
        dataset,
        url,
        name,
        embedding_column="vector",
        document_column="text",
        metadata_columns=METADATA_COLUMNS,
        **kwargs,
    )


def streamed(table: pa.Table) -> ray.data.Dataset:
    """``table`` in 8 blocks, for 8 write tasks."""
    return ray.data.from_arrow(table).repartition(8)


def test_rows_read_back_equal(server: Server, client: azurite.ClientAPI) -> None:
    table = rows_table(ROWS)
    started = time.perf_counter()
    write(streamed(table), server.url, "docs")
    elapsed = time.perf_counter() - started
    print(f"\n{ROWS} rows written into azurite run through Ray: {ROWS / elapsed:,.0f} rows/s")
    expected = expected_records(table)
    assert client.get_collection("docs").count() == ROWS
    stored = read_back(server.url, "docs")
    assert stored == expected
    assert fetched(client, "docs") == expected
    metadata = stored["row-8"][2]
    assert type(metadata["serial"]) is int and metadata["serial"] == 2**60 + 8
    assert type(metadata["score"]) is float
    assert type(stored["row-7"][2]["score"]) is float and stored["row-7"][2]["score"] == 1.0
    assert type(metadata["published"]) is bool
    assert metadata["weights"] == [0.5, 8.0] and type(metadata["weights"][1]) is float
    assert "edition" not in stored["row-3"][2]


def test_read_with_where_through_the_server(server: Server, client: azurite.ClientAPI) -> None:
    table = rows_table(2_000)
    write(ray.data.from_arrow(table), server.url, "filtered")
    dataset = read_collection(
        server.url,
        "filtered",
        where={"author": "author 3"},
        where_document={"$contains": "document 1"},
        include=["metadatas"],
        page_size=40,
    )
    got = from_batch(pa.concat_tables(ray.get(dataset.to_arrow_refs())), "the dataset")
    expected = [
        row["id"]
        for row in table.to_pylist()
        if row["author"] == "author 3" and "document 1" in row["text"]
    ]
    assert sorted(got.ids) == sorted(expected)
    assert dataset.schema().names == ["id", "metadata"]
    assert got.metadatas is not None
    assert all(
        metadata is not None and metadata["author"] == "author 3" for metadata in got.metadatas
    )


def test_killed_worker_is_retried_into_exactly_the_rows(
    server: Server, client: azurite.ClientAPI, tmp_path: Path
) -> None:
    rows = 20_000
    table = rows_table(rows)
    # In the second map batch of the last block: its task may have sent the first.
    chosen = f"row-{rows * 7 // 8 + 1_600}"
    marker = tmp_path / "killed"
    url = server.url

    # Local, so that Ray ships it by value: workers cannot import the test modules.
    def kill_once(batch: pa.Table) -> pa.Table:
        if chosen in batch.column("id").to_pylist() and not marker.exists():
            with azurite.HttpClient(host=url) as probe:
                marker.write_text(str(probe.get_collection("killed").count()))
            os.kill(os.getpid(), signal.SIGKILL)
        return batch

    dataset = streamed(table).map_batches(kill_once, batch_format="pyarrow", batch_size=1_000)
    write(dataset, url, "killed", batch_size=500)
    sent_before_the_kill = int(marker.read_text())
    assert 0 < sent_before_the_kill < rows
    assert client.get_collection("killed").count() == rows
    assert read_back(url, "killed") == expected_records(table)


def test_failed_upsert_job_leaves_whole_records_and_a_rerun_converges(
    server: Server, client: azurite.ClientAPI
) -> None:
    rows = 20_000
    table = rows_table(rows)
    failing_id = f"row-{rows * 7 // 8 + 600}"

    def fail_late(batch: pa.Table) -> pa.Table:
        if failing_id in batch.column("id").to_pylist():
            raise RuntimeError("the job fails partway")
        return batch

    failing = streamed(table).map_batches(fail_late, batch_format="pyarrow", batch_size=1_000)
    with pytest.raises(Exception, match="the job fails partway"):
        write(failing, server.url, "partial", mode="upsert", batch_size=500)
    expected = expected_records(table)
    left = read_back(server.url, "partial")
    assert 0 < len(left) < rows
    # Every block of 2,500 rows goes in requests of exactly 500: a request applied in part
    # would leave a count of another multiple.
    assert len(left) % 500 == 0
    assert failing_id not in left
    assert all(record == expected[identifier] for identifier, record in left.items())

    write(streamed(table), server.url, "partial", mode="upsert", batch_size=500)
    assert client.get_collection("partial").count() == rows
    assert read_back(server.url, "partial") == expected


def test_requests_are_resent_across_a_server_restart(tmp_path: Path) -> None:
    rows = 20_000
    table = rows_table(rows)
    port = free_port()
    command = [*AZURITE, "--path", str(tmp_path / "db"), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    reached = tmp_path / "reached"
    chosen = f"row-{rows // 2}"

    def announce_halfway(batch: pa.Table) -> pa.Table:
        if chosen in batch.column("id").to_pylist() and not reached.exists():
            reached.touch()
            # The server goes down while this task and the other one write.
            time.sleep(1.0)
        return batch

    dataset = streamed(table).map_batches(
        announce_halfway, batch_format="pyarrow", batch_size=1_000
    )
    failures: list[BaseException] = []

    def job() -> None:
        try:
            write(dataset, url, "restarted", mode="add", batch_size=500)
        except BaseException as error:
            failures.append(error)

    writer = threading.Thread(target=job)
    with running(command, port, tmp_path / "first.log"):
        writer.start()
        while not reached.exists() and writer.is_alive():
            time.sleep(0.02)
    # Stopped: the write tasks' next requests find no server until it is back.
    with (
        running(command, port, tmp_path / "second.log") as server,
        azurite.HttpClient(host=server.url) as client,
    ):
        writer.join()
        assert failures == []
        assert client.get_collection("restarted").count() == rows
        assert read_back(server.url, "restarted") == expected_records(table)


def test_headers_carry_the_token_of_a_server_that_requires_one(tmp_path: Path) -> None:
    table = rows_table(1_000)
    with azurite_server(tmp_path, "--auth-token", "ray-token") as server:
        with pytest.raises(ChromaAuthError):
            write(ray.data.from_arrow(table), server.url, "guarded")
        headers = {"Authorization": "Bearer ray-token"}
        write(ray.data.from_arrow(table), server.url, "guarded", headers=headers)
        dataset = read_collection(server.url, "guarded", headers=headers)
        records = from_batch(pa.concat_tables(ray.get(dataset.to_arrow_refs())), "the dataset")
        assert sorted(records.ids) == sorted(table.column("id").to_pylist())


def test_a_missing_column_fails_the_job_naming_it(
    server: Server, client: azurite.ClientAPI
) -> None:
    dataset = ray.data.from_arrow(pa.table({"id": ["a"], "vector": [[1.0, 2.0]]}))
    with pytest.raises(Exception, match="no column 'missing'"):
        write_collection(
            dataset,
            server.url,
            "bad-columns",
            embedding_column="vector",
            metadata_columns=["missing"],
        )
    assert client.get_collection("bad-columns").count() == 0


def test_records_the_server_refuses_fail_the_job_with_chromas_error(
    server: Server, client: azurite.ClientAPI
) -> None:
    collection = client.create_collection("three-dimensional", embedding_function=None)
    collection.add(ids=["kept"], embeddings=[[1.0, 2.0, 3.0]])
    dataset = ray.data.from_arrow(pa.table({"id": ["a", "b"], "vector": [[1.0, 2.0]] * 2}))
    with pytest.raises(
        InvalidArgumentError, match="Collection expecting embedding with dimension of 3, got 2"
    ):
        write_collection(dataset, server.url, "three-dimensional", embedding_column="vector")
    assert collection.get()["ids"] == ["kept"]


def test_a_server_that_is_down_fails_before_any_write() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    dataset = ray.data.from_arrow(pa.table({"id": ["a"], "vector": [[1.0, 2.0]]}))
    with pytest.raises(ValueError, match=f"Could not connect to the server at {url}"):
        write_collection(dataset, url, "nowhere", embedding_column="vector")


def test_a_collection_name_the_server_refuses_fails_before_any_write(server: Server) -> None:
    dataset = ray.data.from_arrow(pa.table({"id": ["a"], "vector": [[1.0, 2.0]]}))
    with pytest.raises(InvalidArgumentError, match="Expected a name containing 3-512 characters"):
        write_collection(dataset, server.url, "x", embedding_column="vector")
