"""The layout of an exported collection: its Arrow schema and the header beside it.

A record is a row of ``id``, ``document``, ``uri``, ``embedding`` and ``metadata``
(``docs/formats.md`` is the reference). Parquet has no union type, so a metadata key
whose values may take several types is a struct with one child per *kind* of value it can
hold, of which a row sets exactly one (none: the record lacks the key). The kinds a key can
hold are read from the collection's schema, which lists every value type writes have
introduced for every key, so the whole layout is fixed before the first record is read.
The schema names a list's element type as the type itself, so each type brings both its
scalar and its list child.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from azurite.api.engine import CollectionModel
from azurite.errors import InvalidArgumentError

#: The version of this layout; readers refuse a file of a later version.
FORMAT_VERSION = 1
#: The key of the header in a file's key-value (schema) metadata and in a JSONL header line.
HEADER_KEY = "azurite"
FORMAT_NAME = "azurite.collection"

ID, DOCUMENT, URI, EMBEDDING, METADATA = "id", "document", "uri", "embedding", "metadata"
#: The record columns in file order; ``include`` chooses among the last four.
COLUMNS = (ID, DOCUMENT, URI, EMBEDDING, METADATA)
INCLUDABLE = {"documents": DOCUMENT, "uris": URI, "embeddings": EMBEDDING, "metadatas": METADATA}

SPARSE_TYPE = pa.struct(
    [
        pa.field("indices", pa.list_(pa.uint32()), nullable=False),
        pa.field("values", pa.list_(pa.float32()), nullable=False),
        pa.field("tokens", pa.list_(pa.string())),
    ]
)

#: Every kind of metadata value, in the order a key's children appear, with its Arrow type.
KIND_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "str_list": pa.list_(pa.string()),
    "int": pa.int64(),
    "int_list": pa.list_(pa.int64()),
    "float": pa.float64(),
    "float_list": pa.list_(pa.float64()),
    "bool": pa.bool_(),
    "bool_list": pa.list_(pa.bool_()),
    "sparse": SPARSE_TYPE,
}

#: The kinds each value type of chromadb's serialized schema brings.
SCHEMA_TYPE_KINDS = {
    "string": ("str", "str_list"),
    "int": ("int", "int_list"),
    "float": ("float", "float_list"),
    "bool": ("bool", "bool_list"),
    "sparse_vector": ("sparse",),
}


def metadata_kinds(schema_json: str) -> dict[str, list[str]]:
    """Each metadata key of a collection's serialized schema with the kinds of value it
    can hold, keys sorted, kinds in layout order. Keys starting with ``#`` are the
    schema's own (the document, the embedding), not metadata."""
    keys = (json.loads(schema_json or "{}") or {}).get("keys") or {}
    found: dict[str, list[str]] = {}
    for key in sorted(keys):
        if key.startswith("#"):
            continue
        wanted = {
            kind for value_type in keys[key] for kind in SCHEMA_TYPE_KINDS.get(value_type, ())
        }
        if wanted:
            found[key] = [kind for kind in KIND_TYPES if kind in wanted]
    return found


def metadata_type(kinds: dict[str, list[str]]) -> pa.StructType:
    return pa.struct(
        [
            pa.field(key, pa.struct([pa.field(kind, KIND_TYPES[kind]) for kind in key_kinds]))
            for key, key_kinds in kinds.items()
        ]
    )


def embedding_type(dimension: int) -> pa.DataType:
    return pa.list_(pa.field("item", pa.float32(), nullable=False), dimension)


@dataclass(frozen=True)
class Header:
    """What a file says about the collection it holds: enough to create it again.

    ``metadata`` is the collection's metadata; ``configuration_json`` and ``schema_json``
    are the collection's configuration and schema in chromadb's JSON forms (the
    configuration holds the embedding function's configuration, repeated in
    ``embedding_function`` for readers); ``columns`` are the record columns present;
    ``metadata_kinds`` each metadata key's kinds, in layout order."""

    name: str
    tenant: str
    database: str
    collection_id: str
    metadata: dict[str, Any] | None
    configuration_json: str
    schema_json: str
    dimension: int | None
    columns: tuple[str, ...]
    metadata_kinds: dict[str, list[str]]
    format_version: int = FORMAT_VERSION

    @classmethod
    def of_collection(cls, model: CollectionModel, include: list[str]) -> Header:
        columns = [ID] + [INCLUDABLE[name] for name in INCLUDABLE if name in include]
        kinds = metadata_kinds(model["schema_json"])
        if EMBEDDING in columns and model["dimension"] is None:
            columns.remove(EMBEDDING)  # no record has a vector to hold
        if METADATA in columns and not kinds:
            columns.remove(METADATA)  # Parquet cannot hold a struct without fields
        return cls(
            name=model["name"],
            tenant=model["tenant"],
            database=model["database"],
            collection_id=model["id"],
            metadata=model["metadata"],
            configuration_json=model["configuration_json"],
            schema_json=model["schema_json"],
            dimension=model["dimension"],
            columns=tuple(columns),
            metadata_kinds=kinds,
        )

    @property
    def embedding_function(self) -> Any:
        return (json.loads(self.configuration_json or "{}") or {}).get("embedding_function")

    def arrow_schema(self) -> pa.Schema:
        """The records' schema, with this header in its metadata."""
        fields = []
        for column in self.columns:
            if column == ID:
                fields.append(pa.field(ID, pa.string(), nullable=False))
            elif column in (DOCUMENT, URI):
                fields.append(pa.field(column, pa.string()))
            elif column == EMBEDDING:
                fields.append(pa.field(EMBEDDING, embedding_type(self.dimension or 0)))
            else:
                fields.append(pa.field(METADATA, metadata_type(self.metadata_kinds)))
        return pa.schema(fields, metadata={HEADER_KEY: self.to_json()})

    def to_dict(self) -> dict[str, Any]:
        from azurite.io.values import encode_value

        return {
            "format": FORMAT_NAME,
            "format_version": self.format_version,
            "collection": {
                "name": self.name,
                "tenant": self.tenant,
                "database": self.database,
                "id": self.collection_id,
                "metadata": encode_value(self.metadata),
                "configuration": json.loads(self.configuration_json or "null"),
                "schema": json.loads(self.schema_json or "null"),
                "dimension": self.dimension,
            },
            "embedding_function": self.embedding_function,
            "columns": list(self.columns),
            "metadata_kinds": self.metadata_kinds,
        }

    def to_json(self) -> str:
        from azurite.io.values import dumps

        return dumps(self.to_dict())

    @classmethod
    def from_dict(cls, header: Any, source: str) -> Header:
        """The header read from ``source`` (named in errors), checked whole."""
        from azurite.io.values import decode_value

        def refuse(problem: str) -> InvalidArgumentError:
            return InvalidArgumentError(f"{source}: {problem}")

        if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
            raise refuse("not an Azurite collection export (no azurite header)")
        version = header.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
            raise refuse(
                f"format version {version!r} is not supported (this Azurite reads up to "
                f"{FORMAT_VERSION}); upgrade Azurite to read it"
            )
        collection = header.get("collection")
        columns = header.get("columns")
        kinds = header.get("metadata_kinds")
        if not isinstance(collection, dict) or not isinstance(columns, list):
            raise refuse("the header lacks its collection or columns")
        if columns[:1] != [ID] or any(c not in COLUMNS for c in columns):
            raise refuse(f"unknown record columns {columns!r}")
        if not isinstance(kinds, dict) or any(
            not isinstance(k, list) or any(kind not in KIND_TYPES for kind in k)
            for k in kinds.values()
        ):
            raise refuse("the header's metadata kinds are malformed")
        try:
            dimension = collection["dimension"]
            if dimension is not None and (not isinstance(dimension, int) or dimension < 1):
                raise refuse(f"invalid dimension {dimension!r}")
            return cls(
                name=str(collection["name"]),
                tenant=str(collection["tenant"]),
                database=str(collection["database"]),
                collection_id=str(collection["id"]),
                metadata=decode_value(collection["metadata"]),
                configuration_json=json.dumps(collection["configuration"]),
                schema_json=json.dumps(collection["schema"]),
                dimension=dimension,
                columns=tuple(columns),
                metadata_kinds={key: list(k) for key, k in kinds.items()},
                format_version=version,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise refuse(f"the header is malformed ({error})") from None

    @classmethod
    def from_json(cls, text: str | bytes, source: str) -> Header:
        try:
            header = json.loads(text)
        except ValueError:
            raise InvalidArgumentError(f"{source}: the azurite header is not JSON") from None
        return cls.from_dict(header, source)
