"""The way back: an exported collection loaded into a chromadb client.

Only chromadb's public client API is used (``create_collection``, ``get_collection``,
``add`` / ``upsert``, ``get_max_batch_size``), so any chromadb client works: a
``PersistentClient``, an ``HttpClient`` of a Chroma server, Chroma Cloud's client.
"""

from __future__ import annotations

import json
import math
from typing import Any

from azurite.base_types import SparseVector
from azurite.errors import InvalidArgumentError
from azurite.io.records import Records
from azurite.io.sources import open_source

#: The HNSW parameters chromadb's ``create_collection`` accepts in a configuration.
_HNSW_CREATE_KEYS = (
    "space",
    "ef_construction",
    "ef_search",
    "max_neighbors",
    "num_threads",
    "batch_size",
    "sync_threshold",
    "resize_factor",
)


def _chroma_configuration(configuration_json: str) -> tuple[dict[str, Any], Any]:
    """chromadb's create-time configuration and embedding function for the stored
    configuration: the function is rebuilt by chromadb's own registry from its
    configuration, as chromadb rebuilds it when a collection is opened."""
    from chromadb.api.collection_configuration import load_collection_configuration_from_json

    stored = json.loads(configuration_json or "{}") or {}
    configuration: dict[str, Any] = {}
    hnsw = stored.get("hnsw")
    if hnsw:
        configuration["hnsw"] = {k: hnsw[k] for k in _HNSW_CREATE_KEYS if k in hnsw}
    if stored.get("spann"):
        configuration["spann"] = stored["spann"]
    function = None
    function_configuration = stored.get("embedding_function")
    if function_configuration is not None and function_configuration.get("type") != "legacy":
        function = load_collection_configuration_from_json(
            {"embedding_function": function_configuration}
        )["embedding_function"]
    return configuration, function


def _refusal(identifier: str, key: str, value: Any) -> str | None:
    """Why chromadb cannot hold ``value``, or None."""
    if isinstance(value, SparseVector):
        # chromadb 1.5's local clients refuse them ("Cannot convert Python object to
        # MetadataValue"); only Chroma Cloud stores them.
        return f"record {identifier!r}: chromadb's local clients cannot store the sparse vector of metadata key {key!r}"
    values = value if isinstance(value, list) else [value]
    if any(isinstance(item, float) and not math.isfinite(item) for item in values):
        # chromadb accepts the write and then returns the record without any metadata.
        return f"record {identifier!r}: chromadb loses the metadata of a record whose key {key!r} holds an infinite float"
    return None


def _check_metadatas(records: Records) -> None:
    for identifier, metadata in zip(records.ids, records.metadatas or ()):
        for key, value in (metadata or {}).items():
            problem = _refusal(identifier, key, value)
            if problem is not None:
                raise InvalidArgumentError(problem)


def _write(collection: Any, records: Records, mode: str) -> None:
    if records.missing_embeddings is not None and records.missing_embeddings.any():
        raise InvalidArgumentError(
            "Records without an embedding cannot be loaded into chromadb without embedding "
            "them: export the collection with its embeddings"
        )
    _check_metadatas(records)
    arguments: dict[str, Any] = {
        "ids": records.ids,
        "metadatas": records.metadatas,
        "documents": records.documents,
        "uris": records.uris,
    }
    if records.embeddings is not None:
        arguments["embeddings"] = records.embeddings
    (collection.upsert if mode == "upsert" else collection.add)(**arguments)


def load_into_chroma(
    chroma_client: Any,
    source: Any,
    name: str | None = None,
    mode: str = "create",
    format: str | None = None,
) -> Any:
    """Loads an exported collection (any source :func:`azurite.io.import_collection`
    reads) into ``chroma_client``, a chromadb client, as collection ``name`` (by default
    the exported one's name), in batches of the client's ``get_max_batch_size()``.
    ``mode`` is ``"create"`` (a new collection, with the file's configuration, metadata
    and embedding function), ``"add"`` or ``"upsert"`` (into an existing collection).
    chromadb cannot store sparse vectors (its local clients) or keep infinite floats: such
    records are refused, naming them. Unlike :func:`azurite.io.import_collection` this is
    not atomic, as chromadb cannot publish a collection in one step: a failed load into a
    new collection deletes it, one into an existing collection keeps the batches written
    before the failure. Returns chromadb's collection."""
    if mode not in ("create", "add", "upsert"):
        raise ValueError(f"mode must be one of create, add, upsert, got {mode!r}")
    batch_size = int(chroma_client.get_max_batch_size())
    with open_source(source, format) as opened:
        header = opened.header
        target = name if name is not None else (header.name if header else None)
        if target is None:
            raise InvalidArgumentError(
                f"{opened.description} names no collection: give the name to load it as"
            )
        if mode == "create":
            configuration, function = _chroma_configuration(
                header.configuration_json if header else "{}"
            )
            collection = chroma_client.create_collection(
                target,
                configuration=configuration or None,
                metadata=header.metadata if header else None,
                embedding_function=function,
            )
        else:
            collection = chroma_client.get_collection(target)
        try:
            for records in opened.batches(batch_size):
                _write(collection, records, mode)
        except BaseException:
            if mode == "create":
                # chromadb cannot publish a collection in one step; a collection created
                # here goes again, so that a failed load leaves no half-loaded one.
                chroma_client.delete_collection(target)
            raise
    return collection
