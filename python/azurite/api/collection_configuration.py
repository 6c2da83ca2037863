"""The collection configuration dicts of chromadb's
``chromadb.api.collection_configuration``: what ``create_collection(configuration=...)``
and ``collection.modify(configuration=...)`` take, and what ``collection.configuration``
holds."""

from __future__ import annotations

from typing import Any, TypedDict

from azurite.api.types import Space


class HNSWConfiguration(TypedDict, total=False):
    space: Space
    ef_construction: int
    max_neighbors: int
    ef_search: int
    num_threads: int
    batch_size: int
    sync_threshold: int
    resize_factor: float


class SpannConfiguration(TypedDict, total=False):
    search_nprobe: int
    write_nprobe: int
    space: Space
    ef_construction: int
    ef_search: int
    max_neighbors: int
    reassign_neighbor_count: int
    split_threshold: int
    merge_threshold: int


class CollectionConfiguration(TypedDict, total=True):
    """A collection's configuration as ``collection.configuration`` reports it."""

    hnsw: HNSWConfiguration | None
    spann: SpannConfiguration | None
    embedding_function: Any | None


# The parameters a collection is created with are those it reports.
CreateHNSWConfiguration = HNSWConfiguration
CreateSpannConfiguration = SpannConfiguration


class CreateCollectionConfiguration(TypedDict, total=False):
    """``create_collection(configuration=...)``: every part is optional."""

    hnsw: CreateHNSWConfiguration | None
    spann: CreateSpannConfiguration | None
    embedding_function: Any | None


class UpdateHNSWConfiguration(TypedDict, total=False):
    """The HNSW parameters that can change after creation."""

    ef_search: int
    num_threads: int
    batch_size: int
    sync_threshold: int
    resize_factor: float


class UpdateSpannConfiguration(TypedDict, total=False):
    search_nprobe: int
    ef_search: int


class UpdateCollectionConfiguration(TypedDict, total=False):
    """``collection.modify(configuration=...)``."""

    hnsw: UpdateHNSWConfiguration | None
    spann: UpdateSpannConfiguration | None
    embedding_function: Any | None


__all__ = [
    "CollectionConfiguration",
    "CreateCollectionConfiguration",
    "CreateHNSWConfiguration",
    "CreateSpannConfiguration",
    "HNSWConfiguration",
    "SpannConfiguration",
    "UpdateCollectionConfiguration",
    "UpdateHNSWConfiguration",
    "UpdateSpannConfiguration",
]
