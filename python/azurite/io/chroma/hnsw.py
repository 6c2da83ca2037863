"""The vectors of a chromadb 1.x local HNSW segment, read from its folder.

chromadb keeps one folder per vector segment, named by the segment's id, holding hnswlib's
index split in four files (``header.bin``, ``data_level0.bin``, ``length.bin``,
``link_lists.bin``) and ``index_metadata.pickle``, the map from record ids to hnswlib
labels. The folder is written every ``sync_threshold`` changes; the writes after it are in
the embeddings queue (see ``log.py``).

Only what a vector needs is read: the header, the level-0 block of each element (its vector
and its label) and, for cosine, the length of each vector. The files are mapped read-only.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from azurite.errors import CorruptionError

HEADER_FILE = "header.bin"
DATA_FILE = "data_level0.bin"
LENGTH_FILE = "length.bin"
ID_MAP_FILE = "index_metadata.pickle"

# hnswlib's persisted header: format version (i32), offset of level 0 in an element,
# capacity, element count, element size, label offset, data offset (u64 each), top level
# (i32), entry point (u32), M max, M0 max, M (u64), level multiplier (f64), ef_construction.
_HEADER = struct.Struct("<iQQQQQQiIQQQdQ")
_PERSISTENCE_VERSION = 1
_LINK_COUNT_SIZE = 4
_LABEL_SIZE = 8


class _PlainDataUnpickler(pickle.Unpickler):
    """The id map holds dicts, strings, ints and None only: a pickle that names any class
    or function is refused instead of being run (a directory is data, never code)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refers to {module}.{name}")


@dataclass(frozen=True)
class IdMap:
    """Which hnswlib label holds each record id, as of the folder's last write."""

    id_to_label: dict[str, int]


def read_id_map(path: str) -> IdMap:
    try:
        with open(path, "rb") as file:
            content = _PlainDataUnpickler(io.BytesIO(file.read())).load()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as error:
        raise CorruptionError(f"{path} is not a readable HNSW id map: {error}") from None
    id_to_label = content.get("id_to_label") if isinstance(content, dict) else None
    if not isinstance(id_to_label, dict) or not all(
        isinstance(key, str) and isinstance(value, int) and value >= 0
        for key, value in id_to_label.items()
    ):
        raise CorruptionError(f"{path} is not an HNSW id map of chromadb 1.x")
    return IdMap(id_to_label)


class HnswVectors:
    """The vectors a persisted HNSW segment folder holds, looked up by record id."""

    def __init__(self, folder: str, id_map: IdMap, dimension: int, cosine: bool) -> None:
        self.folder = folder
        self.dimension = dimension
        self.id_map = id_map
        header_path = os.path.join(folder, HEADER_FILE)
        try:
            with open(header_path, "rb") as file:
                header = file.read(_HEADER.size)
        except OSError as error:
            raise CorruptionError(f"cannot read {header_path}: {error}") from None
        if len(header) != _HEADER.size:
            raise CorruptionError(f"{header_path} is truncated")
        (version, level0_offset, _capacity, count, element_size, label_offset, data_offset,
         _top_level, _entry, _m_max, m0_max, _m, _mult, _ef) = _HEADER.unpack(header)  # fmt: skip
        links_size = _LINK_COUNT_SIZE + 4 * m0_max
        expected = (0, links_size, links_size + 4 * dimension, links_size + 4 * dimension + 8)
        if (
            version != _PERSISTENCE_VERSION
            or (
                level0_offset,
                data_offset,
                label_offset,
                element_size,
            )
            != expected
        ):
            raise CorruptionError(
                f"{header_path} does not describe an hnswlib index of {dimension}-dimensional "
                "vectors in the layout chromadb 1.x writes"
            )
        self.count = count
        self._data_offset = data_offset
        self._label_offset = label_offset
        self._elements = self._map(DATA_FILE, count * element_size).reshape(count, element_size)
        # The label of every element, to find the element that holds a label.
        labels = (
            np.ascontiguousarray(self._elements[:, label_offset : label_offset + _LABEL_SIZE])
            .view("<u8")
            .reshape(count)
        )
        wanted = np.fromiter(self.id_map.id_to_label.values(), dtype=np.int64)
        top = int(max(labels.max(initial=0), wanted.max(initial=0)))
        # chromadb numbers labels from 1 and never reuses one, so none exceeds the count.
        if top > count:
            raise CorruptionError(
                f"{os.path.join(folder, DATA_FILE)} or its id map names label {top}, beyond "
                f"the index's {count} elements"
            )
        self._element_of_label = np.full(top + 1, -1, dtype=np.int64)
        self._element_of_label[labels.astype(np.int64)] = np.arange(count, dtype=np.int64)
        missing = wanted[self._element_of_label[wanted] < 0]
        if len(missing):
            raise CorruptionError(
                f"{os.path.join(folder, DATA_FILE)} lacks {len(missing)} of the vectors its "
                f"id map names (label {int(missing.min())} first)"
            )
        self._lengths: npt.NDArray[np.float32] | None = (
            self._map(LENGTH_FILE, count * 4).view("<f4") if cosine else None
        )

    def _map(self, name: str, size: int) -> npt.NDArray[np.uint8]:
        path = os.path.join(self.folder, name)
        try:
            actual = os.path.getsize(path)
        except OSError as error:
            raise CorruptionError(f"cannot read {path}: {error}") from None
        if actual < size:
            raise CorruptionError(f"{path} holds {actual} bytes, its header needs {size}")
        if size == 0:
            return np.zeros(0, dtype=np.uint8)
        return np.memmap(path, dtype=np.uint8, mode="r", shape=(size,))

    def __contains__(self, record_id: str) -> bool:
        return record_id in self.id_map.id_to_label

    def vectors(self, record_ids: list[str]) -> npt.NDArray[np.float32]:
        """The vectors of these ids (each must be in the map), as chromadb's ``get`` returns
        them: for cosine, hnswlib keeps the vector normalised beside its length and gives
        back their product."""
        labels = np.fromiter(
            (self.id_map.id_to_label[i] for i in record_ids), dtype=np.int64, count=len(record_ids)
        )
        elements = self._element_of_label[labels]
        rows = self._elements[elements, self._data_offset : self._label_offset]
        vectors = np.ascontiguousarray(rows).view("<f4").reshape(len(record_ids), self.dimension)
        if self._lengths is not None:
            vectors = vectors * self._lengths[elements][:, None]
        return vectors.astype(np.float32, copy=False)


def as_hnswlib_returns(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """What hnswlib gives back for vectors added to a cosine index (one per row): it stores
    ``v / (|v| + 1e-30)`` and ``|v|``, and returns their product. The squared norm is summed
    in float32 in the vectors' order, as hnswlib does, so the result is its bits."""
    squares = vectors * vectors
    norms: npt.NDArray[np.float32] = np.add.accumulate(squares, axis=1, dtype=np.float32)
    lengths = np.sqrt(norms[:, -1:], dtype=np.float32)
    inverse = np.float32(1.0) / (lengths + np.float32(1e-30))
    returned: npt.NDArray[np.float32] = (vectors * inverse) * lengths
    return returned
