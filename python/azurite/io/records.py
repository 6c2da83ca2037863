"""Records between the engine's columns and Arrow record batches, both ways.

:class:`Records` is a page of records as the engine reads and writes them (ids, a float32
matrix, documents, URIs, metadata dicts). :func:`to_batch` lays a page out as
``docs/formats.md`` describes; :func:`from_batch` reads a batch back, and also accepts the
tables people build themselves: strings, lists and embeddings of any Arrow width
(``large_string``, ``large_list``, float64 vectors), and metadata keys of a plain type
(``struct<author: string, year: int64>``) as well as the per-kind structs of an export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from azurite.api.engine import Matrix, Metadata
from azurite.base_types import SparseVector
from azurite.errors import InternalError, InvalidArgumentError
from azurite.io.layout import (
    DOCUMENT,
    EMBEDDING,
    ID,
    KIND_TYPES,
    METADATA,
    URI,
    Header,
)


@dataclass
class Records:
    """A page of records. ``embeddings`` has a row per record; the rows flagged in
    ``missing_embeddings`` hold no vector (zeros) and are to be embedded from their
    documents. A column the page does not carry is ``None``."""

    ids: list[str]
    embeddings: Matrix | None = None
    missing_embeddings: npt.NDArray[np.bool_] | None = None
    documents: list[str | None] | None = None
    uris: list[str | None] | None = None
    metadatas: list[Metadata | None] | None = None

    def __len__(self) -> int:
        return len(self.ids)


# ---- engine columns → Arrow


def value_kind(value: Any) -> str:
    """The layout kind of one metadata value (bool before int: a bool is an int in
    Python)."""
    kind = type(value)
    if kind is str:
        return "str"
    if kind is bool:
        return "bool"
    if kind is int:
        return "int"
    if kind is float:
        return "float"
    if kind is SparseVector:
        return "sparse"
    if kind is list and value:
        return f"{value_kind(value[0])}_list"
    raise InternalError(f"unexpected metadata value {value!r}")


def _sparse_row(value: SparseVector) -> dict[str, Any]:
    return {"indices": value.indices, "values": value.values, "tokens": value.labels}


def _metadata_array(
    metadatas: list[Metadata | None], kinds: dict[str, list[str]], struct_type: pa.StructType
) -> pa.StructArray:
    rows = len(metadatas)
    slots: dict[tuple[str, str], list[Any]] = {}
    for row, metadata in enumerate(metadatas):
        if metadata is None:
            continue
        for key, value in metadata.items():
            kind = value_kind(value)
            slot = slots.get((key, kind))
            if slot is None:
                if kind not in kinds.get(key, ()):
                    raise InternalError(
                        f"metadata key {key!r} holds a value of kind {kind!r} that the "
                        "collection's schema did not list when the export began (a write "
                        "during the export?); export again"
                    )
                slot = slots[(key, kind)] = [None] * rows
            slot[row] = _sparse_row(value) if kind == "sparse" else value
    key_arrays = []
    for key_field in struct_type:
        children = []
        present = np.zeros(rows, dtype=bool)
        for kind_field in key_field.type:
            slot = slots.get((key_field.name, kind_field.name))
            if slot is None:
                children.append(pa.nulls(rows, kind_field.type))
                continue
            child = pa.array(slot, kind_field.type)
            present |= child.is_valid().to_numpy(zero_copy_only=False)
            children.append(child)
        key_arrays.append(
            pa.StructArray.from_arrays(
                children, fields=list(key_field.type), mask=pa.array(~present)
            )
        )
    absent = pa.array([metadata is None for metadata in metadatas])
    return pa.StructArray.from_arrays(key_arrays, fields=list(struct_type), mask=absent)


def _embedding_array(records: Records, dimension: int) -> pa.Array:
    matrix = records.embeddings
    if matrix is None:
        return pa.nulls(len(records), pa.list_(pa.float32(), dimension))
    values = pa.array(np.ascontiguousarray(matrix, dtype=np.float32).reshape(-1))
    mask = None
    if records.missing_embeddings is not None and records.missing_embeddings.any():
        mask = pa.array(records.missing_embeddings)
    array = pa.FixedSizeListArray.from_arrays(values, dimension, mask=mask)
    return array.cast(pa.list_(pa.field("item", pa.float32(), nullable=False), dimension))


def to_batch(records: Records, header: Header, schema: pa.Schema) -> pa.RecordBatch:
    """``records`` laid out in ``schema`` (``header.arrow_schema()``)."""
    changed = None
    if EMBEDDING not in header.columns and records.embeddings is not None and len(records):
        changed = "records have vectors"
    if METADATA not in header.columns and any(m is not None for m in records.metadatas or ()):
        changed = "records have metadata"
    if changed is not None:
        raise InternalError(
            f"{changed} that the collection's schema did not show when the export began "
            "(a write during the export?); export again"
        )
    arrays: list[pa.Array] = []
    for field in schema:
        if field.name == ID:
            arrays.append(pa.array(records.ids, pa.string()))
        elif field.name == DOCUMENT:
            arrays.append(pa.array(records.documents, pa.string()))
        elif field.name == URI:
            arrays.append(pa.array(records.uris, pa.string()))
        elif field.name == EMBEDDING:
            arrays.append(_embedding_array(records, field.type.list_size))
        else:
            assert records.metadatas is not None
            arrays.append(_metadata_array(records.metadatas, header.metadata_kinds, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# ---- Arrow → engine columns


def _is_string(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind)) or (
        pa.types.is_string_view(kind)
    )


def _is_list(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(kind)
        or pa.types.is_large_list(kind)
        or pa.types.is_list_view(kind)
        or pa.types.is_large_list_view(kind)
        or pa.types.is_fixed_size_list(kind)
    )


def scalar_kind(kind: pa.DataType) -> str | None:
    """The layout kind an Arrow type's values read as, or None."""
    if _is_string(kind):
        return "str"
    if pa.types.is_boolean(kind):
        return "bool"
    if pa.types.is_integer(kind):
        return "int"
    if pa.types.is_floating(kind):
        return "float"
    if _is_list(kind):
        element = scalar_kind(kind.value_type)
        return f"{element}_list" if element in ("str", "int", "float", "bool") else None
    return None


def _is_sparse_type(kind: pa.DataType) -> bool:
    if not pa.types.is_struct(kind):
        return False
    names = {field.name: field.type for field in kind}
    return (
        set(names) <= {"indices", "values", "tokens"}
        and scalar_kind(names.get("indices", pa.null())) == "int_list"
        and scalar_kind(names.get("values", pa.null())) == "float_list"
        and ("tokens" not in names or scalar_kind(names["tokens"]) == "str_list")
    )


def key_kinds(key: pa.Field) -> dict[str, pa.DataType]:
    """The kinds a metadata key's Arrow field holds, each with its Arrow type; raises
    ValueError naming what does not fit the layout."""
    kind = key.type
    if pa.types.is_struct(kind) and not _is_sparse_type(kind):
        found = {}
        for child in kind:
            if pa.types.is_null(child.type):
                continue  # a kind no row holds, as a table built from Python objects has
            if child.name not in KIND_TYPES:
                raise ValueError(f"metadata key {key.name!r} has an unknown kind {child.name!r}")
            fits = (
                _is_sparse_type(child.type)
                if child.name == "sparse"
                else scalar_kind(child.type) == child.name
            )
            if not fits:
                raise ValueError(
                    f"metadata key {key.name!r}: its {child.name!r} values are of Arrow type "
                    f"{child.type}"
                )
            found[child.name] = child.type
        return found
    if _is_sparse_type(kind):
        return {"sparse": kind}
    if pa.types.is_null(kind):
        return {}
    plain = scalar_kind(kind)
    if plain is None:
        raise ValueError(
            f"metadata key {key.name!r} is of Arrow type {kind}, which holds no metadata value"
        )
    return {plain: kind}


def check_schema(schema: pa.Schema, source: str) -> None:
    """Refuses, naming ``source``, a schema that does not hold records."""
    names = schema.names
    unknown = [name for name in names if name not in (ID, DOCUMENT, URI, EMBEDDING, METADATA)]
    if unknown:
        raise InvalidArgumentError(f"{source}: unknown columns {unknown}")
    if ID not in names or not _is_string(schema.field(ID).type):
        raise InvalidArgumentError(f"{source}: records need an id column of strings")
    for name in (DOCUMENT, URI):
        if name in names and not _is_string(schema.field(name).type):
            raise InvalidArgumentError(f"{source}: the {name} column must hold strings")
    if EMBEDDING in names:
        kind = schema.field(EMBEDDING).type
        if not _is_list(kind) or not pa.types.is_floating(kind.value_type):
            raise InvalidArgumentError(
                f"{source}: the embedding column must hold lists of floats, not {kind}"
            )
    if METADATA in names:
        kind = schema.field(METADATA).type
        if not pa.types.is_struct(kind):
            raise InvalidArgumentError(f"{source}: the metadata column must be a struct")
        for key in kind:
            try:
                key_kinds(key)
            except ValueError as error:
                raise InvalidArgumentError(f"{source}: {error}") from None


def embedding_dimension(schema: pa.Schema) -> int | None:
    """The dimension a fixed-size embedding column declares."""
    if EMBEDDING not in schema.names:
        return None
    kind = schema.field(EMBEDDING).type
    return int(kind.list_size) if pa.types.is_fixed_size_list(kind) else None


def _strings(array: pa.Array) -> list[Any]:
    return array.to_pylist()  # type: ignore[no-any-return]


def _embeddings(array: pa.Array, source: str) -> tuple[Matrix, npt.NDArray[np.bool_] | None]:
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    missing = None if valid.all() else ~valid
    present = array if missing is None else array.filter(pa.array(valid))
    lengths = pc.list_value_length(present).to_numpy(zero_copy_only=False)
    if len(lengths) and (lengths != lengths[0]).any():
        raise InvalidArgumentError(f"{source}: Inconsistent dimensions in provided embeddings")
    dimension = int(lengths[0]) if len(lengths) else 0
    flat = present.flatten()
    if flat.null_count:
        raise InvalidArgumentError(f"{source}: an embedding holds a null value")
    values = flat.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    rows = values.reshape(len(present), dimension)
    if missing is None:
        return np.ascontiguousarray(rows), None
    matrix = np.zeros((len(array), dimension), dtype=np.float32)
    matrix[valid] = rows
    return matrix, missing


def _sparse_vectors(values: list[dict[str, Any]]) -> list[SparseVector]:
    return [
        SparseVector(indices=value["indices"], values=value["values"], labels=value.get("tokens"))
        for value in values
    ]


def _metadatas(array: pa.StructArray, source: str) -> list[Metadata | None]:
    rows = len(array)
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    metadatas: list[Metadata | None] = [None] * rows
    for row in np.flatnonzero(valid).tolist():
        metadatas[row] = {}
    for key_field, key_array in zip(array.type, array.flatten()):
        kinds = key_kinds(key_field)
        if pa.types.is_struct(key_field.type) and not _is_sparse_type(key_field.type):
            children = {
                child.name: child_array
                for child, child_array in zip(key_field.type, key_array.flatten())
                if child.name in kinds
            }
        else:
            children = {next(iter(kinds)): key_array} if kinds else {}
        held = np.zeros(rows, dtype=np.int8)
        for kind, child in children.items():
            present = child.is_valid().to_numpy(zero_copy_only=False) & valid
            if not present.any():
                continue
            held += present
            values = child.filter(pa.array(present)).to_pylist()
            if kind == "sparse":
                values = _sparse_vectors(values)
            for row, value in zip(np.flatnonzero(present).tolist(), values):
                metadata = metadatas[row]
                assert metadata is not None
                metadata[key_field.name] = value
        if (held > 1).any():
            raise InvalidArgumentError(
                f"{source}: metadata key {key_field.name!r} holds two values in one record"
            )
    return metadatas


def from_batch(batch: pa.RecordBatch | pa.Table, source: str) -> Records:
    """The records of ``batch`` (whose schema :func:`check_schema` accepted)."""
    names = batch.schema.names

    def column(name: str) -> Any:
        found = batch.column(name)
        return found.combine_chunks() if isinstance(found, pa.ChunkedArray) else found

    ids = _strings(column(ID))
    if any(identifier is None for identifier in ids):
        raise InvalidArgumentError(f"{source}: a record has a null id")
    records = Records(ids=ids)
    if DOCUMENT in names:
        records.documents = _strings(column(DOCUMENT))
    if URI in names:
        records.uris = _strings(column(URI))
    if EMBEDDING in names:
        records.embeddings, records.missing_embeddings = _embeddings(column(EMBEDDING), source)
    if METADATA in names:
        records.metadatas = _metadatas(column(METADATA), source)
    return records
