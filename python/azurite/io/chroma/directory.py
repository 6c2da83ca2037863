"""A chromadb persistent directory, opened for reading without chromadb and without
changing a byte of it.

``chroma.sqlite3`` is opened read-only (SQLite's ``mode=ro``: no journal, no migration, no
file created) inside one read transaction, so the catalog, the records and the log are read
as of one moment. Which layout a directory has is told by its ``migrations`` table: the
directories chromadb 1.5.0 to 1.5.9 write carry exactly the migrations below, those of
1.3.0 to 1.4.x all but the last of ``metadb``, those of 1.0.0 to 1.2.x also all but the
last of ``sysdb`` (chromadb adds one whenever the layout changes: the array-metadata table
arrived in 1.5.0, the schema column in 1.3.0, the integer ``max_seq_id`` in 1.0.0). Anything else, and any damage found, is refused before
a record is read.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

from azurite.errors import CorruptionError, InvalidArgumentError, VersionMismatchError
from azurite.io.chroma.hnsw import ID_MAP_FILE, HnswVectors, read_id_map
from azurite.io.chroma.records import CollectionRecords

STORE_FILE = "chroma.sqlite3"
SUPPORTED_VERSIONS = "chromadb 1.0.0 to 1.5.9"

# (directory, version) -> (file name, MD5 of its SQL), as chromadb records them.
_MIGRATIONS_1_5 = {
    ("embeddings_queue", 1): ("00001-embeddings.sqlite.sql", "d3755dfd232be8e8301f4d7fcfb3a486"),
    ("embeddings_queue", 2): (
        "00002-embeddings-queue-config.sqlite.sql",
        "8fbfe4ffb3e57f1d8bfdc58510a82e85",
    ),
    ("metadb", 1): ("00001-embedding-metadata.sqlite.sql", "2b4cf52c4bb2676e21d6860a4409f856"),
    ("metadb", 2): ("00002-embedding-metadata.sqlite.sql", "12a570f7121b3a8ce750a2a7c36da20f"),
    ("metadb", 3): ("00003-full-text-tokenize.sqlite.sql", "f97ad6334aeaa8f419f01110b648b97a"),
    ("metadb", 4): ("00004-metadata-indices.sqlite.sql", "fb36603a45ee2cd0254cef3ef86585e8"),
    ("metadb", 5): ("00005-max-seq-id-int.sqlite.sql", "0e9de46758761b373ce682925edcc326"),
    ("metadb", 6): ("00006-metadata-array-support.sqlite.sql", "e026f01ea92c1baa1493f4ad5ca7cfe7"),
    ("sysdb", 1): ("00001-collections.sqlite.sql", "38352d725ad1c16074fac420b22b4633"),
    ("sysdb", 2): ("00002-segments.sqlite.sql", "2913cb6a503055a95f625448037e8912"),
    ("sysdb", 3): ("00003-collection-dimension.sqlite.sql", "42d22d0574d31d419c2a0e7f625c93aa"),
    ("sysdb", 4): ("00004-tenants-databases.sqlite.sql", "048867ce8fcdefe4023c7110e4433591"),
    ("sysdb", 5): ("00005-remove-topic.sqlite.sql", "b1367c826b8fba5f96f27befdc1d42d2"),
    ("sysdb", 6): (
        "00006-collection-segment-metadata.sqlite.sql",
        "4eea7468935bf25d4604a0fed2366116",
    ),
    ("sysdb", 7): ("00007-collection-config.sqlite.sql", "1c7e63bba346a42a18b6ab7f1c989bed"),
    ("sysdb", 8): ("00008-maintenance-log.sqlite.sql", "0a0e7e93111a01789addf64961c6127c"),
    ("sysdb", 9): (
        "00009-segment-collection-not-null.sqlite.sql",
        "054355aef9e63702bf54ea29e61563f1",
    ),
    ("sysdb", 10): ("00010-collection-schema.sqlite.sql", "5c3a5ac4b79df76799b4721827ed5e1d"),
}
# 1.5.0's table of array metadata and 1.3.0's schema column: directories of earlier 1.x
# versions lack them, and are read without them.
_ARRAY_MIGRATION = ("metadb", 6)
_SCHEMA_MIGRATION = ("sysdb", 10)
_LATER_MIGRATIONS = {_ARRAY_MIGRATION, _SCHEMA_MIGRATION}
_METADATA_SEGMENT = "urn:chroma:segment/metadata/sqlite"
_VECTOR_SEGMENT = "urn:chroma:segment/vector/hnsw-local-persisted"
_UPGRADE = (
    "Open it once with chromadb 1.5.9 (its PersistentClient migrates it in place; copy the "
    "directory first to keep the original), then import the migrated directory."
)


@dataclass(frozen=True)
class ChromaCollection:
    """A collection as chromadb's catalog holds it (configuration and schema as JSON)."""

    id: str
    name: str
    tenant: str
    database: str
    dimension: int | None
    metadata: dict[str, Any] | None
    configuration_json: str | None
    schema_json: str | None
    space: str


def _space(configuration_json: str | None, schema_json: str | None, metadata: Any) -> str:
    """The distance function, from where chromadb 1.5.9 looks for it: the schema's vector
    index, else the configuration, else the legacy ``hnsw:space`` metadata."""
    for text, path in (
        (schema_json, ("keys", "#embedding", "float_list", "vector_index", "config", "space")),
        (configuration_json, ("hnsw", "space")),
    ):
        value: Any = json.loads(text) if text else None
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value
    legacy = (metadata or {}).get("hnsw:space")
    return legacy if isinstance(legacy, str) else "l2"


def _client_configuration(name: str, parsed: Any, stored: str | None) -> str | None:
    """A collection's configuration as a client gives it. chromadb 1.0 to 1.2 stored its
    internal form, with the index settings under ``vector_index``; 1.3 and later store
    ``{}`` beside the schema. A configuration of chromadb 0.x is refused."""
    if not isinstance(parsed, dict) or "vector_index" not in parsed:
        if isinstance(parsed, dict) and "_type" in parsed:
            raise VersionMismatchError(
                f"collection {name!r} has the configuration of chromadb 0.x, which "
                f"{SUPPORTED_VERSIONS} do not read. {_UPGRADE}"
            )
        return stored
    configuration = {
        kind: settings for kind, settings in parsed["vector_index"].items() if settings
    }
    configuration["embedding_function"] = parsed.get("embedding_function")
    return json.dumps(configuration)


class ChromaDirectory:
    """A chromadb 1.5 persistent directory, read-only. Opening it checks the layout and
    that nothing is missing or damaged; ``records`` then reads one collection."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.path.abspath(path)
        store = os.path.join(self.path, STORE_FILE)
        if not os.path.isfile(store):
            raise InvalidArgumentError(
                f"{self.path} is not a chromadb persistent directory: it has no {STORE_FILE}"
            )
        for leftover in (store + "-journal", store + "-wal"):
            if os.path.exists(leftover) and os.path.getsize(leftover) > 0:
                raise InvalidArgumentError(
                    f"{leftover} exists: a chromadb process has the directory open, or one "
                    "stopped in the middle of a write. Close every chromadb client of it (or "
                    "open it once with chromadb and close it, which completes the write) and "
                    "import again; nothing was read or written."
                )
        uri = "file:" + quote(Path(store).as_posix()) + "?mode=ro"
        try:
            self._connection = sqlite3.connect(uri, uri=True, isolation_level=None)
            self._connection.execute("PRAGMA query_only = 1")
            # One read transaction for everything: a consistent view of the store.
            self._connection.execute("BEGIN")
            self._check_store(store)
        except sqlite3.DatabaseError as error:
            raise CorruptionError(f"{store} is not a readable SQLite database: {error}") from None
        self.collections = self._read_collections()
        self._records: dict[str, CollectionRecords] = {}
        for collection in self.collections:
            self._records[collection.id] = self._open_records(collection)
        for records in self._records.values():
            records.check()

    def __enter__(self) -> ChromaDirectory:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._connection.close()

    def _check_store(self, store: str) -> None:
        tables = {name for (name,) in self._connection.execute("SELECT name FROM sqlite_master")}
        if "migrations" not in tables:
            raise VersionMismatchError(
                f"{store} has no migrations table: it was not written by chromadb 0.4 or later"
            )
        found = {
            (directory, version): (filename, digest)
            for directory, version, filename, digest in self._connection.execute(
                "SELECT dir, version, filename, hash FROM migrations"
            )
        }
        unknown = sorted(set(found) - set(_MIGRATIONS_1_5))
        if unknown:
            raise VersionMismatchError(
                f"{store} carries migration {unknown[0][0]}/{found[unknown[0]][0]}, which "
                f"{SUPPORTED_VERSIONS} do not know: it was written by a newer chromadb. "
                f"Supported: directories written by {SUPPORTED_VERSIONS}."
            )
        missing = sorted(set(_MIGRATIONS_1_5) - set(found) - _LATER_MIGRATIONS)
        if missing:
            written_by = "chromadb 0.x" if ("metadb", 5) in missing else "an unknown chromadb"
            raise VersionMismatchError(
                f"{store} lacks migration {missing[0][0]}/{_MIGRATIONS_1_5[missing[0]][0]}: it "
                f"was written by {written_by}, whose layout differs. Supported: directories "
                f"written by {SUPPORTED_VERSIONS}. {_UPGRADE}"
            )
        self.has_array_metadata = _ARRAY_MIGRATION in found
        self.has_schema = _SCHEMA_MIGRATION in found
        if self.has_array_metadata and not self.has_schema:
            raise VersionMismatchError(
                f"{store} has the migration of 1.5.0 without that of 1.3.0: no chromadb "
                f"wrote it. Supported: directories written by {SUPPORTED_VERSIONS}."
            )
        for key, (filename, digest) in found.items():
            if (filename, digest) != _MIGRATIONS_1_5[key]:
                raise VersionMismatchError(
                    f"{store} records migration {key[0]}/{filename} with hash {digest}, not "
                    f"chromadb's: the directory was not written by {SUPPORTED_VERSIONS}"
                )
        problems = [row[0] for row in self._connection.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise CorruptionError(f"{store} is damaged (SQLite quick_check: {problems[0]})")

    def _read_collections(self) -> list[ChromaCollection]:
        schema_column = "c.schema_str" if self.has_schema else "NULL"
        rows = self._connection.execute(
            "SELECT c.id, c.name, d.tenant_id, d.name, c.dimension, c.config_json_str, "
            f"{schema_column} FROM collections c JOIN databases d ON c.database_id = d.id "
            "ORDER BY d.tenant_id, d.name, c.name"
        ).fetchall()
        collections = []
        for key, name, tenant, database, dimension, stored, schema in rows:
            metadata = self._collection_metadata(key)
            try:
                parsed = json.loads(stored) if stored else None
                json.loads(schema) if schema else None
            except ValueError:
                raise CorruptionError(
                    f"collection {name!r} has a configuration or schema that is not JSON"
                ) from None
            configuration = _client_configuration(name, parsed, stored)
            collections.append(
                ChromaCollection(
                    id=key,
                    name=name,
                    tenant=tenant,
                    database=database,
                    dimension=dimension,
                    metadata=metadata,
                    configuration_json=configuration,
                    schema_json=schema,
                    space=_space(configuration, schema, metadata),
                )
            )
        return collections

    def _collection_metadata(self, collection_id: str) -> dict[str, Any] | None:
        metadata: dict[str, Any] = {}
        for key, string, integer, real, boolean in self._connection.execute(
            "SELECT key, str_value, int_value, float_value, bool_value FROM collection_metadata "
            "WHERE collection_id = ?",
            (collection_id,),
        ):
            if string is not None:
                metadata[key] = string
            elif integer is not None:
                metadata[key] = integer
            elif real is not None:
                metadata[key] = real
            elif boolean is not None:
                metadata[key] = bool(boolean)
        return metadata or None

    def tenants(self) -> list[str]:
        return [t for (t,) in self._connection.execute("SELECT id FROM tenants ORDER BY id")]

    def databases(self) -> list[tuple[str, str]]:
        """Every (tenant, database name), collections or not."""
        return list(
            self._connection.execute(
                "SELECT tenant_id, name FROM databases ORDER BY tenant_id, name"
            )
        )

    def _segment(self, collection: ChromaCollection, scope: str, kind: str) -> str:
        rows = self._connection.execute(
            "SELECT id, type FROM segments WHERE collection = ? AND scope = ?",
            (collection.id, scope),
        ).fetchall()
        if len(rows) != 1 or rows[0][1] != kind:
            raise VersionMismatchError(
                f"collection {collection.name!r} has {scope} segments "
                f"{[r[1] for r in rows]}, not one {kind}: not a layout of {SUPPORTED_VERSIONS}"
            )
        return str(rows[0][0])

    def _max_seq(self, segment: str) -> int:
        row = self._connection.execute(
            "SELECT seq_id FROM max_seq_id WHERE segment_id = ?", (segment,)
        ).fetchone()
        if row is None:
            return 0
        if not isinstance(row[0], int):
            raise CorruptionError(f"segment {segment} has a max_seq_id that is not an integer")
        return row[0]

    def _open_records(self, collection: ChromaCollection) -> CollectionRecords:
        metadata_segment = self._segment(collection, "METADATA", _METADATA_SEGMENT)
        vector_segment = self._segment(collection, "VECTOR", _VECTOR_SEGMENT)
        folder = os.path.join(self.path, vector_segment)
        hnsw = None
        vector_seq = 0
        id_map_path = os.path.join(folder, ID_MAP_FILE)
        id_map = read_id_map(id_map_path) if os.path.exists(id_map_path) else None
        # chromadb treats a folder whose map is empty (or absent) as never written, and
        # replays the whole log into it: so do we.
        if id_map is not None and id_map.id_to_label:
            if collection.dimension is None:
                raise CorruptionError(
                    f"collection {collection.name!r} has vectors in {folder} but no "
                    "dimension in the catalog"
                )
            hnsw = HnswVectors(folder, id_map, collection.dimension, collection.space == "cosine")
            vector_seq = self._max_seq(vector_segment)
        return CollectionRecords(
            self._connection,
            collection.id,
            metadata_segment,
            collection.dimension,
            collection.space == "cosine",
            hnsw,
            self._max_seq(metadata_segment),
            vector_seq,
            self.has_array_metadata,
        )

    def records(self, collection: ChromaCollection) -> CollectionRecords:
        return self._records[collection.id]
