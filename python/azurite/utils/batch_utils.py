"""``chromadb.utils.batch_utils``: splitting a write into batches a client accepts."""

from __future__ import annotations

from typing import Any, Optional, Protocol

from azurite.api.types import Documents, Embeddings, IDs, Metadatas

Batch = tuple[IDs, Optional[Embeddings], Optional[Metadatas], Optional[Documents]]


class BatchSizeSource(Protocol):
    """Any client: it knows the largest batch it accepts."""

    def get_max_batch_size(self) -> int: ...


def create_batches(
    api: BatchSizeSource,
    ids: IDs,
    embeddings: Any | None = None,
    metadatas: Metadatas | None = None,
    documents: Documents | None = None,
) -> list[Batch]:
    """Splits the records into consecutive batches of at most the client's
    ``get_max_batch_size()`` records; fewer records stay one batch, as given."""
    size = api.get_max_batch_size()
    if len(ids) <= size:
        return [(ids, embeddings, metadatas, documents)]
    return [
        (
            ids[start : start + size],
            embeddings[start : start + size] if embeddings is not None else None,
            # Empty metadatas or documents become None, as in chromadb.
            metadatas[start : start + size] if metadatas else None,
            documents[start : start + size] if documents else None,
        )
        for start in range(0, len(ids), size)
    ]


__all__ = ["create_batches"]
