"""JSON Lines: a header line ``{"azurite": {...}}``, then one record per line.

A record line is ``{"id", "document", "uri", "embedding", "metadata"}`` with the columns
the header lists; metadata values keep their types as :mod:`azurite.io.values` writes
them, and vectors are float32 values written as float64 (read back exactly).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import orjson

from azurite.errors import InvalidArgumentError
from azurite.io.layout import DOCUMENT, EMBEDDING, HEADER_KEY, METADATA, URI, Header
from azurite.io.records import Records
from azurite.io.values import decode_value, encode_value


def header_line(header: Header) -> bytes:
    return orjson.dumps({HEADER_KEY: header.to_dict()}) + b"\n"


def record_lines(records: Records, header: Header) -> bytes:
    """The records' lines, concatenated."""
    columns = header.columns
    vectors = None
    if EMBEDDING in columns and records.embeddings is not None:
        vectors = records.embeddings.astype(np.float64)
    missing = records.missing_embeddings
    lines = []
    for row, identifier in enumerate(records.ids):
        line: dict[str, Any] = {"id": identifier}
        if DOCUMENT in columns:
            line[DOCUMENT] = records.documents[row] if records.documents is not None else None
        if URI in columns:
            line[URI] = records.uris[row] if records.uris is not None else None
        if EMBEDDING in columns:
            absent = vectors is None or (missing is not None and missing[row])
            line[EMBEDDING] = None if absent else vectors[row]  # type: ignore[index]
        if METADATA in columns:
            metadata = records.metadatas[row] if records.metadatas is not None else None
            line[METADATA] = encode_value(metadata) if metadata is not None else None
        lines.append(orjson.dumps(line, option=orjson.OPT_SERIALIZE_NUMPY))
    return b"\n".join(lines) + b"\n" if lines else b""


def read_header(stream: IO[bytes], source: str) -> Header:
    first = stream.readline()
    try:
        parsed = orjson.loads(first) if first.strip() else None
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict) or HEADER_KEY not in parsed:
        raise InvalidArgumentError(
            f"{source}: not an Azurite collection export (its first line is no azurite header)"
        )
    return Header.from_dict(parsed[HEADER_KEY], source)


def _records(lines: list[dict[str, Any]], header: Header, line_number: int) -> Records:
    records = Records(ids=[line["id"] for line in lines])
    if DOCUMENT in header.columns:
        records.documents = [line.get(DOCUMENT) for line in lines]
    if URI in header.columns:
        records.uris = [line.get(URI) for line in lines]
    if EMBEDDING in header.columns:
        vectors = [line.get(EMBEDDING) for line in lines]
        missing = np.array([vector is None for vector in vectors], dtype=bool)
        dimension = header.dimension or 0
        matrix = np.zeros((len(lines), dimension), dtype=np.float32)
        for row, vector in enumerate(vectors):
            if vector is None:
                continue
            if len(vector) != dimension:
                raise InvalidArgumentError(
                    f"Collection expecting embedding with dimension of {dimension}, got "
                    f"{len(vector)} (line {line_number + row})"
                )
            matrix[row] = vector
        records.embeddings = matrix
        records.missing_embeddings = missing if missing.any() else None
    if METADATA in header.columns:
        records.metadatas = [
            decode_value(line[METADATA]) if line.get(METADATA) is not None else None
            for line in lines
        ]
    return records


def read_records(
    stream: IO[bytes], header: Header, batch_size: int, source: str
) -> Iterator[Records]:
    """The records after the header, ``batch_size`` at a time."""
    pending: list[dict[str, Any]] = []
    first_line = 2
    for number, raw in enumerate(stream, start=2):
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
            if not isinstance(line, dict) or not isinstance(line.get("id"), str):
                raise ValueError("a record needs a string id")
        except ValueError as error:
            raise InvalidArgumentError(f"{source}, line {number}: {error}") from None
        pending.append(line)
        if len(pending) == batch_size:
            yield _records(pending, header, first_line)
            pending, first_line = [], number + 1
    if pending:
        yield _records(pending, header, first_line)
