"""The value types that every layer shares (chromadb's ``chromadb.base_types``): kept
apart from ``azurite.api.types`` so that validation and the compiled core can use them
without importing the whole API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

TYPE_KEY = "#type"
SPARSE_VECTOR_TYPE_VALUE = "sparse_vector"


@dataclass
class SparseVector:
    """A sparse vector: strictly ascending non-negative `indices` with their `values` (and
    optional `labels`), stored as a metadata value and searched through a key's sparse
    vector index."""

    indices: list[int]
    values: list[float]
    labels: list[str] | None = None

    def __post_init__(self) -> None:
        for name, column in (("indices", self.indices), ("values", self.values)):
            if not isinstance(column, list):
                raise ValueError(
                    f"Expected SparseVector {name} to be a list, got {type(column).__name__}"
                )
        if len(self.indices) != len(self.values):
            raise ValueError(
                "SparseVector indices and values must have the same length, "
                f"got {len(self.indices)} indices and {len(self.values)} values"
            )
        if self.labels is not None and len(self.labels) != len(self.indices):
            raise ValueError(
                "SparseVector labels must have the same length as indices and values, "
                f"got {len(self.labels)} labels, {len(self.indices)} indices"
            )
        for position, index in enumerate(self.indices):
            if not isinstance(index, int) or isinstance(index, bool):
                raise ValueError(
                    "SparseVector indices must be integers, got "
                    f"{type(index).__name__} at position {position}"
                )
            if index < 0:
                raise ValueError(
                    f"SparseVector indices must be non-negative, got {index} at position {position}"
                )
            if position and index <= self.indices[position - 1]:
                raise ValueError(
                    "SparseVector indices must be sorted in strictly ascending order, found "
                    f"indices[{position}]={index} <= indices[{position - 1}]="
                    f"{self.indices[position - 1]}"
                )
        for position, value in enumerate(self.values):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(
                    "SparseVector values must be numbers, got "
                    f"{type(value).__name__} at position {position}"
                )

    def to_dict(self) -> dict[str, Any]:
        """The transport form (labels travel as ``tokens``)."""
        record: dict[str, Any] = {
            TYPE_KEY: SPARSE_VECTOR_TYPE_VALUE,
            "indices": self.indices,
            "values": self.values,
        }
        if self.labels is not None:
            record["tokens"] = self.labels
        return record

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> SparseVector:
        if record.get(TYPE_KEY) != SPARSE_VECTOR_TYPE_VALUE:
            raise ValueError(
                f"Expected {TYPE_KEY}='{SPARSE_VECTOR_TYPE_VALUE}', got {record.get(TYPE_KEY)}"
            )
        return cls(indices=record["indices"], values=record["values"], labels=record.get("tokens"))


def serialize_metadata(metadata: Any) -> Any:
    """Metadata in its JSON form: each ``SparseVector`` as its transport dict."""
    if not isinstance(metadata, dict) or not any(
        isinstance(value, SparseVector) for value in metadata.values()
    ):
        return metadata
    return {
        key: value.to_dict() if isinstance(value, SparseVector) else value
        for key, value in metadata.items()
    }


def deserialize_metadata(metadata: Any) -> Any:
    """Metadata read from JSON: each ``{"#type": "sparse_vector", ...}`` as a
    ``SparseVector``."""
    if not isinstance(metadata, dict) or not any(
        isinstance(value, dict) and value.get(TYPE_KEY) == SPARSE_VECTOR_TYPE_VALUE
        for value in metadata.values()
    ):
        return metadata
    return {
        key: SparseVector.from_dict(value)
        if isinstance(value, dict) and value.get(TYPE_KEY) == SPARSE_VECTOR_TYPE_VALUE
        else value
        for key, value in metadata.items()
    }


SparseVectors = list[SparseVector]

#: A scalar metadata value.
LiteralValue = Union[str, int, float, bool]


def validate_sparse_vectors(vectors: Any) -> SparseVectors:
    """Checks that `vectors` is a list of :class:`SparseVector`."""
    if not isinstance(vectors, list):
        raise ValueError(f"Expected a list of sparse vectors, got {type(vectors).__name__}")
    for vector in vectors:
        if not isinstance(vector, SparseVector):
            raise ValueError(
                f"Expected SparseVector instance, got {type(vector).__name__}: {vector!r}"
            )
    return vectors
