"""Documents embedded in parallel by a Ray actor pool, before a dataset is written.

Embedding is what costs in an ingestion job, and it parallelises by rows, while a
collection has one writer. :class:`DocumentEmbedder` is the callable class
``Dataset.map_batches`` runs in a pool of actors: each actor builds its embedding
function once, so that a model is loaded once per actor rather than once per batch, and
then embeds every batch it is given. :func:`embed_documents` starts that pool for a
dataset. The function is named as a collection configuration names it (``{"name": ...,
"config": ...}``, rebuilt from the registry of embedding functions inside the actor) or
given as an object, rebuilt in each actor from its class and ``get_config()`` (shipped as
it is when it cannot describe itself); :func:`collection_embedding_function` reads the
entry of an existing collection, so that its rows are embedded as the collection embeds
queries.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyarrow as pa
from ray.data import Dataset

from azurite.api import embedding
from azurite.api.client import DEFAULT_DATABASE, DEFAULT_TENANT, PersistentClient
from azurite.embedding_functions.base import registered_class
from azurite.errors import InvalidArgumentError
from azurite.io.layout import EMBEDDING

DEFAULT_BATCH_SIZE = 256
DEFAULT_EMBEDDING_FUNCTION: dict[str, Any] = {"name": "default", "config": {}}


class _Recipe:
    """What an actor builds its embedding function from, checked in the driver without
    building it there (a model can take seconds and gigabytes to load): a class of the
    registry (or the class of a function given, which Ray ships by reference) with its
    configuration; or, for a function that cannot describe itself, the object as given."""

    def __init__(self, function: Any) -> None:
        self.cls: Any = None
        self.config: dict[str, Any] = {}
        self.instance: Any = None
        if isinstance(function, str):
            function = {"name": function, "config": {}}
        if isinstance(function, dict):
            name, self.config = function.get("name"), function.get("config") or {}
            self.cls = registered_class(str(name))
            self.cls.validate_config(self.config)
            return
        embedding.validate_signature(function)
        if embedding.is_legacy(function) or not hasattr(type(function), "build_from_config"):
            self.instance = function
        else:
            self.cls, self.config = type(function), function.get_config()

    def build(self) -> Any:
        if self.instance is not None:
            return self.instance
        return self.cls.build_from_config(self.config)


class DocumentEmbedder:
    """For ``dataset.map_batches(DocumentEmbedder, fn_constructor_kwargs={...},
    concurrency=n)``: adds to each batch the column ``embedding_column``, the float32
    vectors of its ``document_column`` (a null document gets a null vector) as a
    fixed-size list, what :func:`~azurite.ray.write_collection` takes as an embedding
    column. The function is built when the actor starts and kept for its life."""

    def __init__(
        self,
        embedding_function: Any = DEFAULT_EMBEDDING_FUNCTION,
        document_column: str = "document",
        embedding_column: str = EMBEDDING,
    ) -> None:
        recipe = embedding_function if isinstance(embedding_function, _Recipe) else None
        self._function = (recipe or _Recipe(embedding_function)).build()
        self._document_column = document_column
        self._embedding_column = embedding_column

    def __call__(self, batch: pa.Table) -> pa.Table:
        if self._document_column not in batch.column_names:
            raise InvalidArgumentError(
                f"no column {self._document_column!r} to embed (the columns are "
                f"{batch.column_names})"
            )
        documents = batch.column(self._document_column).to_pylist()
        present = [row for row, document in enumerate(documents) if document is not None]
        if any(not isinstance(documents[row], str) for row in present):
            raise InvalidArgumentError(
                f"the {self._document_column!r} column must hold strings to embed"
            )
        vectors = embedding.embed(
            self._function, [documents[row] for row in present], is_query=False
        )
        dimension = len(vectors[0]) if vectors else 0
        values = np.zeros((len(documents), dimension), dtype=np.float32)
        if present:
            values[present] = np.asarray(vectors, dtype=np.float32)
        mask = np.ones(len(documents), dtype=bool)
        mask[present] = False
        column = pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), dimension)
        if not mask.any():
            return batch.append_column(self._embedding_column, column)
        with_nulls = pa.FixedSizeListArray.from_arrays(
            column.values, dimension, mask=pa.array(mask)
        )
        return batch.append_column(self._embedding_column, with_nulls)


def embed_documents(
    ds: Dataset,
    embedding_function: Any = DEFAULT_EMBEDDING_FUNCTION,
    document_column: str = "document",
    embedding_column: str = EMBEDDING,
    concurrency: int = 2,
    batch_size: int = DEFAULT_BATCH_SIZE,
    num_cpus: float = 1,
) -> Dataset:
    """``ds`` with the column ``embedding_column``: the vectors ``embedding_function``
    (a configuration entry, a registered name or an embedding function object; the
    default all-MiniLM-L6-v2 unless given) gives the documents of ``document_column``,
    computed by ``concurrency`` actors of ``num_cpus`` CPUs, ``batch_size`` rows at a
    time."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be a positive integer, got {concurrency}")
    return ds.map_batches(
        DocumentEmbedder,
        fn_constructor_kwargs={
            # Checked here rather than in each actor, where an error is a dead pool.
            "embedding_function": _Recipe(embedding_function),
            "document_column": document_column,
            "embedding_column": embedding_column,
        },
        batch_format="pyarrow",
        batch_size=batch_size,
        concurrency=concurrency,
        num_cpus=num_cpus,
    )


def collection_embedding_function(
    path: str | os.PathLike[str],
    collection: str,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> dict[str, Any]:
    """The configuration entry of the embedding function of the collection ``collection``
    of the database directory ``path`` (the default function's when it records none),
    for :func:`embed_documents`."""
    with PersistentClient(path, tenant=tenant, database=database) as client:
        stored = client.get_collection(collection).configuration_json.get("embedding_function")
    if stored is None:
        return DEFAULT_EMBEDDING_FUNCTION
    if stored.get("type") == "legacy" or stored.get("name") is None:
        raise ValueError(
            f"collection {collection!r} records a legacy embedding function, which cannot be "
            "rebuilt: pass the function itself"
        )
    return {"name": stored["name"], "config": stored.get("config") or {}}
