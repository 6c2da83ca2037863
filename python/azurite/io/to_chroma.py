"""The way back: an exported collection loaded into a chromadb client.

Only chromadb's public client API is used (``create_collection``, ``get_collection``,
``add`` / ``upsert``, ``get_max_batch_size``), so any chromadb client works: a
``PersistentClient``, an ``HttpClient`` of a Chroma server, Chroma Cloud's client.
"""

from __future__ import annotations

import json
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


def _chroma_metadatas(metadatas: list[Any] | None) -> list[Any] | None:
    """The metadata with sparse vectors as chromadb's own class, which its validation
    checks for."""
    if metadatas is None:
        return None
    from chromadb.base_types import SparseVector as ChromaSparseVector

    def convert(value: Any) -> Any:
        if isinstance(value, SparseVector):
            return ChromaSparseVector(
                indices=value.indices, values=value.values, labels=value.labels
            )
        return value

    return [
        {key: convert(value) for key, value in metadata.items()} if metadata else None
        for metadata in metadatas
    ]


def _write(collection: Any, records: Records, mode: str) -> None:
    if records.missing_embeddings is not None and records.missing_embeddings.any():
        raise InvalidArgumentError(
            "Records without an embedding cannot be loaded into chromadb without embedding "
            "them: export the collection with its embeddings"
        )
    arguments: dict[str, Any] = {
        "ids": records.ids,
        "metadatas": _chroma_metadatas(records.metadatas),
    }
    if records.embeddings is not None:
        arguments["embeddings"] = records.embeddings
    arguments["documents"] = records.documents
    arguments["uris"] = records.uris
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
    Unlike :func:`azurite.io.import_collection` this is not atomic: chromadb has no way to
    publish a collection in one step. Returns chromadb's collection."""
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
        for records in opened.batches(batch_size):
            _write(collection, records, mode)
    return collection
