"""The exported layout and its exact round trip through every format, read back without
touching a database: Parquet, Arrow IPC file and stream, JSON Lines, the Arrow table,
pandas and polars."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas
import polars
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from records_support import DIMENSION, all_records, edge_records, records_of

import azurite
from azurite.errors import InvalidArgumentError
from azurite.io import FORMAT_VERSION, Header, export_collection
from azurite.io.records import Records
from azurite.io.sources import open_source


@pytest.fixture
def edge_collection(client: azurite.Client) -> Iterator[Any]:
    collection = client.create_collection(
        "edges",
        metadata={"owner": "tests", "version": 3, "ratio": 0.5, "flag": True},
        configuration={"hnsw": {"space": "cosine", "ef_construction": 120, "max_neighbors": 12}},
        embedding_function=None,
    )
    collection.add(**edge_records())
    yield collection


def read_all(source: Any, batch_size: int = 4) -> tuple[Header | None, Records]:
    with open_source(source) as opened:
        pages = list(opened.batches(batch_size))
        header = opened.header
    assert pages and all(len(page) <= batch_size for page in pages)
    merged = Records(
        ids=[i for page in pages for i in page.ids],
        embeddings=np.concatenate([page.embeddings for page in pages]),
        documents=[d for page in pages for d in page.documents or []],
        uris=[u for page in pages for u in page.uris or []],
        metadatas=[m for page in pages for m in page.metadatas or []],
    )
    return header, merged


@pytest.mark.parametrize("suffix", [".parquet", ".arrow", ".jsonl"])
def test_a_file_holds_every_value_exactly(
    edge_collection: Any, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"out{suffix}"
    assert export_collection(edge_collection, path, batch_size=3) == edge_collection.count()
    header, records = read_all(path)
    assert records_of(records) == all_records(edge_collection)
    assert header is not None
    assert header.name == "edges"
    assert header.metadata == {"owner": "tests", "version": 3, "ratio": 0.5, "flag": True}
    assert isinstance(header.metadata["version"], int)
    assert header.dimension == DIMENSION
    assert json.loads(header.configuration_json) == edge_collection.configuration_json
    # The schema as it is now, grown by the keys the records introduced.
    current = edge_collection._engine.get_collection("default_tenant", "default_database", "edges")
    assert json.loads(header.schema_json) == json.loads(current["schema_json"])
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("format", ["parquet", "arrow", "jsonl"])
def test_a_stream_holds_every_value_exactly(
    edge_collection: Any, tmp_path: Path, format: str
) -> None:
    sink = io.BytesIO()
    export_collection(edge_collection, sink, format=format, batch_size=5)
    suffix = {"parquet": ".parquet", "arrow": ".arrows", "jsonl": ".jsonl"}[format]
    path = tmp_path / f"from-stream{suffix}"
    path.write_bytes(sink.getvalue())
    _, records = read_all(path)
    assert records_of(records) == all_records(edge_collection)


def test_arrow_table_pandas_and_polars_hold_every_value(edge_collection: Any) -> None:
    expected = all_records(edge_collection)
    table = edge_collection.to_arrow()
    assert records_of(read_all(table)[1]) == expected
    assert read_all(table)[0] == read_all(pa.Table.from_batches(table.to_batches()))[0]
    frame = edge_collection.to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert records_of(read_all(frame)[1]) == expected
    polars_frame = edge_collection.to_polars()
    assert isinstance(polars_frame, polars.DataFrame)
    assert records_of(read_all(polars_frame)[1]) == expected


def test_the_layout_is_the_documented_one(edge_collection: Any) -> None:
    schema = edge_collection.to_arrow().schema
    assert schema.names == ["id", "document", "uri", "embedding", "metadata"]
    assert schema.field("id").type == pa.string() and not schema.field("id").nullable
    assert schema.field("embedding").type == pa.list_(
        pa.field("item", pa.float32(), nullable=False), DIMENSION
    )
    metadata = schema.field("metadata").type
    mixed = metadata.field("mixed").type
    assert [child.name for child in mixed] == [
        "str",
        "str_list",
        "int",
        "int_list",
        "float",
        "float_list",
        "bool",
        "bool_list",
    ]
    assert mixed.field("int").type == pa.int64() and mixed.field("float").type == pa.float64()
    sparse = metadata.field("sp").type.field("sparse").type
    assert sparse.field("indices").type == pa.list_(pa.uint32())
    assert sparse.field("values").type == pa.list_(pa.float32())
    assert sparse.field("tokens").type == pa.list_(pa.string())
    header = json.loads(schema.metadata[b"azurite"])
    assert header["format"] == "azurite.collection"
    assert header["format_version"] == FORMAT_VERSION
    assert header["embedding_function"] == edge_collection.configuration_json["embedding_function"]
    assert header["collection"]["configuration"]["hnsw"]["space"] == "cosine"
    row = edge_collection.to_arrow().slice(10, 1).to_pylist()[0]["metadata"]["mixed"]
    assert row == {
        "str": None,
        "str_list": None,
        "int": 3,
        "int_list": None,
        "float": None,
        "float_list": None,
        "bool": None,
        "bool_list": None,
    }


def test_parquet_is_readable_by_any_reader(edge_collection: Any, tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    export_collection(edge_collection, path, batch_size=4)
    assert pq.ParquetFile(path).metadata.num_rows == edge_collection.count()
    assert pq.ParquetFile(path).metadata.num_row_groups == 5
    frame = polars.read_parquet(path)
    assert frame["id"].to_list() == edge_collection.get()["ids"]


def test_the_embedding_function_configuration_is_in_the_header(client: azurite.Client) -> None:
    from azurite.utils.embedding_functions import DefaultEmbeddingFunction

    collection = client.create_collection(
        "with-function", embedding_function=DefaultEmbeddingFunction()
    )
    header = Header.from_json(collection.to_arrow().schema.metadata[b"azurite"], "t")
    assert header.embedding_function == {"type": "known", "name": "default", "config": {}}
    assert header.dimension is None
    assert header.columns == ("id", "document", "uri")  # no vectors, no metadata keys yet


def test_filters_and_include_choose_records_and_columns(edge_collection: Any) -> None:
    table = edge_collection.to_arrow(where={"mixed": {"$eq": "text"}}, include=["documents"])
    assert table.schema.names == ["id", "document"]
    assert table.column("id").to_pylist() == ["id-9"]
    assert (
        edge_collection.to_arrow(where_document={"$contains": "document 1"}).num_rows == 8
    )  # 10 to 17


def test_a_file_that_is_no_export_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    path.write_text('{"id": "a"}\n')
    with pytest.raises(InvalidArgumentError, match="not an Azurite collection export"):
        open_source(path)
    (tmp_path / "other.parquet").write_bytes(b"not parquet")
    with pytest.raises(InvalidArgumentError, match="not a Parquet file"):
        open_source(tmp_path / "other.parquet")
    (tmp_path / "other.csv").write_text("id\na\n")
    with pytest.raises(InvalidArgumentError, match="Cannot tell the format"):
        open_source(tmp_path / "other.csv")
    table = pa.table({"id": ["a"], "colour": ["red"]})
    with pytest.raises(InvalidArgumentError, match=r"unknown columns \['colour'\]"):
        open_source(table)
    newer = pa.table({"id": ["a"]}).replace_schema_metadata(
        {"azurite": json.dumps({"format": "azurite.collection", "format_version": 99})}
    )
    with pytest.raises(InvalidArgumentError, match="format version 99 is not supported"):
        open_source(newer)


def test_tables_people_build_are_read_too() -> None:
    table = pa.table(
        {
            "id": pa.array(["a", "b"], pa.large_string()),
            "embedding": pa.array([[1.0, 2.0], [3.0, 4.0]], pa.list_(pa.float64())),
            "metadata": pa.array(
                [
                    {"author": "x", "year": 2001, "tags": ["p", "q"]},
                    {"author": None, "year": 7, "tags": None},
                ]
            ),
        }
    )
    _, records = read_all(table)
    assert records.metadatas == [{"author": "x", "year": 2001, "tags": ["p", "q"]}, {"year": 7}]
    assert records.embeddings.dtype == np.float32
    assert records.embeddings.tolist() == [[1.0, 2.0], [3.0, 4.0]]
