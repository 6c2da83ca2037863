"""Collections written from and read as Ray datasets (``pip install azurite[ray]``).

:func:`write_collection` loads a Ray dataset into a collection of a local database
directory: Ray's write tasks lay their blocks out as records (``docs/formats.md``) in
Parquet files of a staging folder beside the directory, and the driver loads all of them
as one import, so that the collection shows every row of the job or, when the job fails,
none. Given a server's URL instead of a directory, :func:`write_collection` sends the
rows from write tasks on any node (:class:`ServerCollectionDatasink`), in requests that
the server applies whole. :func:`read_collection` reads a collection of either back as a
Ray dataset, a page of ids per read task.
Before the write, :func:`embed_documents` embeds a dataset's documents in a pool of actors,
each loading its embedding function once.
"""

from __future__ import annotations

from azurite.ray.embedding import (
    DocumentEmbedder,
    collection_embedding_function,
    embed_documents,
)
from azurite.ray.reading import read_collection
from azurite.ray.serving import ServerCollectionDatasink
from azurite.ray.writing import CollectionDatasink, write_collection

__all__ = [
    "CollectionDatasink",
    "DocumentEmbedder",
    "ServerCollectionDatasink",
    "collection_embedding_function",
    "embed_documents",
    "read_collection",
    "write_collection",
]
