"""Export and import through Azurite's HTTP client against `azurite run`: the same calls,
the staging and publishing done by the server's engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from records_support import all_records, edge_records, finite
from server.servers import azurite_server

import azurite
from azurite.errors import InvalidArgumentError, NotFoundError
from azurite.io import export_collection, import_collection


@pytest.fixture
def http_client(tmp_path: Path) -> Iterator[azurite.ClientAPI]:
    with azurite_server(tmp_path) as server:
        client = azurite.HttpClient(host=server.host, port=server.port)
        yield client
        client.close()


def test_an_http_client_exports_and_imports(http_client: azurite.ClientAPI, tmp_path: Path) -> None:
    source = http_client.create_collection("remote-source", embedding_function=None)
    source.add(**finite(edge_records()))
    export_collection(source, tmp_path / "remote.parquet", batch_size=4)
    copy = import_collection(
        http_client, tmp_path / "remote.parquet", name="remote-copy", batch_size=5
    )
    assert all_records(copy) == all_records(source)
    copy.import_from(tmp_path / "remote.parquet", mode="upsert")
    assert all_records(copy) == all_records(source)


def test_vectors_that_contradict_the_header_leave_nothing(http_client: azurite.ClientAPI) -> None:
    source = http_client.create_collection("five", embedding_function=None)
    source.add(**finite(edge_records()))
    table = source.to_arrow().slice(0, 3)
    contradicting = table.set_column(3, "embedding", [[[1.0, 2.0]] * 3])
    with pytest.raises(InvalidArgumentError, match="dimension of 5, got 2"):
        import_collection(http_client, contradicting, name="never")
    with pytest.raises(NotFoundError):
        http_client.get_collection("never")
