"""Export and import through the asynchronous HTTP client against `azurite run`: the same
tables and files as the synchronous client's, and the same all-or-nothing import."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from records_support import all_records, edge_records, finite
from server.servers import Server, azurite_server

import azurite
from azurite._core import Database
from azurite.errors import InvalidArgumentError

#: The finite edge records: how many, and the columns of their export.
RECORDS = len(finite(edge_records())["ids"])
COLUMNS = ["id", "document", "uri", "embedding", "metadata"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with azurite_server(tmp_path_factory.mktemp("server")) as running:
        yield running


@pytest.fixture
def http_client(server: Server) -> Iterator[azurite.ClientAPI]:
    """A synchronous client of the same server: the reference the asynchronous one is
    compared with."""
    client = azurite.HttpClient(host=server.host, port=server.port)
    yield client
    client.close()


@pytest.fixture
def source(http_client: azurite.ClientAPI, request: pytest.FixtureRequest) -> Any:
    """A collection holding every edge record the wire carries, named after the test."""
    collection = http_client.create_collection(
        f"source-{request.node.name}",
        metadata={"owner": "tests"},
        configuration={"hnsw": {"space": "ip"}},
        embedding_function=None,
    )
    collection.add(**finite(edge_records()))
    return collection


def run(server: Server, scenario: Any) -> Any:
    """Runs ``scenario(client)`` with an asynchronous client of ``server``, in a loop of
    its own."""

    async def with_client() -> Any:
        client = await azurite.AsyncHttpClient(host=server.host, port=server.port)
        try:
            return await scenario(client)
        finally:
            await client.close()

    return asyncio.run(with_client())


def test_to_arrow_is_the_synchronous_clients_table(server: Server, source: Any) -> None:
    async def scenario(client: Any) -> tuple[pa.Table, pa.Table]:
        collection = await client.get_collection(source.name, embedding_function=None)
        return await collection.to_arrow(), await collection.to_arrow(
            where={"i": {"$gt": 0}}, include=["metadatas"]
        )

    table, filtered = run(server, scenario)
    assert table.num_rows == RECORDS
    assert table.equals(source.to_arrow(), check_metadata=True)
    expected = source.to_arrow(where={"i": {"$gt": 0}}, include=["metadatas"])
    assert filtered.column_names == ["id", "metadata"]
    assert filtered.equals(expected, check_metadata=True)


def test_an_exported_file_imports_as_an_exact_copy(
    server: Server, http_client: azurite.ClientAPI, source: Any, tmp_path: Path
) -> None:
    path = tmp_path / "async.parquet"

    async def scenario(client: Any) -> int:
        collection = await client.get_collection(source.name, embedding_function=None)
        written = await collection.export_to(path, batch_size=4)
        copy = await client.create_collection("async-copy", embedding_function=None)
        await copy.import_from(path, batch_size=5)
        assert await copy.count() == RECORDS
        return written

    assert run(server, scenario) == RECORDS
    assert all_records(http_client.get_collection("async-copy")) == all_records(source)


def test_an_upsert_import_twice_changes_nothing(
    server: Server, http_client: azurite.ClientAPI, source: Any, tmp_path: Path
) -> None:
    path = tmp_path / "twice.jsonl"
    source.export_to(path)
    target = http_client.create_collection("twice", embedding_function=None)
    # "id-0" is in the file too: the first import updates it, as an upsert does.
    target.add(
        ids=["kept", "id-0"], embeddings=[[0.5] * 5] * 2, documents=["kept as it was", "old"]
    )

    async def import_once(client: Any) -> int:
        collection = await client.get_collection("twice", embedding_function=None)
        await collection.import_from(path, mode="upsert", batch_size=3)
        return int(await collection.count())

    assert run(server, import_once) == RECORDS + 1
    once = all_records(target)
    assert run(server, import_once) == RECORDS + 1
    assert all_records(target) == once
    documents = target.get(ids=["kept", "id-0"], include=["documents"])["documents"]
    assert documents == ["kept as it was", source.get(ids=["id-0"])["documents"][0]]


def test_a_source_failing_halfway_leaves_the_target_unchanged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "broken.jsonl"
    # A server of its own, so that its directory can be opened once it has stopped.
    with (
        azurite_server(tmp_path) as server,
        azurite.HttpClient(host=server.host, port=server.port) as http_client,
    ):
        source = http_client.create_collection("source", embedding_function=None)
        source.add(**finite(edge_records()))
        source.export_to(path)
        # The bad line comes after every record: four batches of four are staged before
        # the source fails on it.
        with path.open("ab") as file:
            file.write(b"{not json\n")
        bad_line = RECORDS + 2
        target = http_client.create_collection("unchanged", embedding_function=None)
        target.add(ids=["id-0", "other"], embeddings=[[1.0] * 5, [2.0] * 5])
        before = all_records(target)

        async def scenario(client: Any) -> list[str]:
            collection = await client.get_collection("unchanged", embedding_function=None)
            with pytest.raises(InvalidArgumentError, match=f"broken.jsonl, line {bad_line}: "):
                await collection.import_from(path, mode="upsert", batch_size=4)
            return sorted(found.name for found in await client.list_collections())

        assert run(server, scenario) == ["source", "unchanged"]
        assert all_records(target) == before
    # An open drops the staging collections it finds, with a warning: the import's was
    # dropped already.
    with caplog.at_level(logging.WARNING, logger="azurite_core"):
        Database(tmp_path / "db").close()
    assert [r.getMessage() for r in caplog.records if "import" in r.getMessage()] == []


def test_a_create_import_into_a_collection_is_refused(server: Server, source: Any) -> None:
    async def scenario(client: Any) -> None:
        collection = await client.get_collection(source.name, embedding_function=None)
        table = await collection.to_arrow()
        with pytest.raises(ValueError, match="mode='create' makes a new collection"):
            await collection.import_from(table, mode="create")
        with pytest.raises(InvalidArgumentError, match="format= is needed"):
            await collection.export_to(pa.BufferOutputStream())

    run(server, scenario)


def test_data_frames_have_a_row_per_record_and_a_column_per_field(
    server: Server, source: Any
) -> None:
    async def scenario(client: Any) -> tuple[Any, Any, Any]:
        collection = await client.get_collection(source.name, embedding_function=None)
        return (
            await collection.to_pandas(),
            await collection.to_polars(),
            await collection.to_polars(include=["documents"]),
        )

    pandas_frame, polars_frame, documents = run(server, scenario)
    assert pandas_frame.shape == (RECORDS, len(COLUMNS))
    assert list(pandas_frame.columns) == COLUMNS
    assert polars_frame.shape == (RECORDS, len(COLUMNS))
    assert polars_frame.columns == COLUMNS
    assert documents.columns == ["id", "document"]
    assert polars_frame["id"].to_list() == source.get(include=[])["ids"]


def test_a_cancelled_import_leaves_the_target_unchanged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    table = pa.table(
        {
            "id": [f"r{i}" for i in range(30)],
            "embedding": pa.array([[float(i), 1.0] for i in range(30)], pa.list_(pa.float32())),
        }
    )
    with (
        azurite_server(tmp_path) as server,
        azurite.HttpClient(host=server.host, port=server.port) as http_client,
    ):
        target = http_client.create_collection("cancelled", embedding_function=None)
        target.add(ids=["r0", "kept"], embeddings=[[9.0, 9.0], [8.0, 8.0]])
        before = all_records(target)

        async def scenario(client: Any) -> None:
            collection = await client.get_collection("cancelled", embedding_function=None)
            importing: list[asyncio.Task[None]] = []

            def batches() -> Iterator[pa.RecordBatch]:
                # The task is cancelled while it reads the second batch, the first one
                # written to the staging collection.
                for number, batch in enumerate(table.to_batches(max_chunksize=10)):
                    if number == 1:
                        importing[0].cancel()
                    yield batch

            reader = pa.RecordBatchReader.from_batches(table.schema, batches())
            importing.append(asyncio.ensure_future(collection.import_from(reader)))
            with pytest.raises(asyncio.CancelledError):
                await importing[0]

        run(server, scenario)
        assert all_records(target) == before
    with caplog.at_level(logging.WARNING, logger="azurite_core"):
        Database(tmp_path / "db").close()
    assert [r.getMessage() for r in caplog.records if "import" in r.getMessage()] == []
