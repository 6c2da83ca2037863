"""Hypothesis state machine: a persistent collection against a small pure-Python model.

Random sequences of add / update / upsert / delete / restart are applied both to a collection of
a `PersistentClient` and to `Model`; after every step the collection must agree with the model
on count, get() order, every stored field, and exact nearest neighbours. The restart rule closes
the client and opens a new one on the same directory, so everything must survive a reopen.

Set AZURITE_MODEL_TARGET=chromadb to run the same machine against chromadb 1.5.9 (that is how
the machine itself is checked), and AZURITE_MODEL_EXAMPLES to change the number of examples
(default 50; the examples are derandomized, so every run tries the same ones).
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

TARGET = os.environ.get("AZURITE_MODEL_TARGET", "azurite")
if TARGET not in ("azurite", "chromadb"):
    raise ValueError(f"AZURITE_MODEL_TARGET must be azurite or chromadb, got {TARGET!r}")
system: ModuleType = importlib.import_module(TARGET)

ID_POOL = [f"id{number}" for number in range(40)]
# Each metadata key has one type, so filters never compare across types.
METADATA_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "n": st.integers(-5, 5),
    "tag": st.sampled_from(["red", "green", "blue"]),
    "flag": st.booleans(),
    "score": st.sampled_from([-1.5, 0.0, 0.25, 2.0]),
}
GRID = [-1.0, -0.5, 0.0, 0.5, 1.0]  # coarse values make exact distance ties common
DISTANCE_TOLERANCE = 1e-4  # the engine computes in float32, the model in float64
NEIGHBOURS = 5


@dataclass
class Record:
    embedding: np.ndarray  # float32, as stored
    metadata: dict[str, Any] | None
    document: str | None


class Model:
    """What the collection must contain. Dict order is get() order: first-insertion order,
    kept by update/upsert, lost by delete (a re-added id goes to the end)."""

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}

    def add(
        self,
        ids: list[str],
        embeddings: list[np.ndarray],
        metadatas: list[Any],
        documents: list[Any],
    ) -> None:
        for record_id, embedding, metadata, document in zip(ids, embeddings, metadatas, documents):
            if record_id not in self.records:  # adding an existing id is silently ignored
                self.records[record_id] = Record(
                    embedding, _without_none_values(metadata), document
                )

    def update(
        self,
        ids: list[str],
        embeddings: list[np.ndarray] | None,
        metadatas: list[Any],
        documents: list[Any],
    ) -> None:
        for index, record_id in enumerate(ids):
            record = self.records.get(record_id)
            if record is None:  # updating a missing id is silently ignored
                continue
            if embeddings is not None:
                record.embedding = embeddings[index]
            if metadatas[index] is not None:
                record.metadata = _merge_metadata(record.metadata, metadatas[index])
            if documents[index] is not None:  # a None document keeps the old one
                record.document = documents[index]

    def upsert(
        self,
        ids: list[str],
        embeddings: list[np.ndarray],
        metadatas: list[Any],
        documents: list[Any],
    ) -> None:
        for index, record_id in enumerate(ids):
            if record_id in self.records:
                self.update(
                    [record_id],
                    [embeddings[index]],
                    [metadatas[index]],
                    [documents[index]],
                )
            else:
                self.add(
                    [record_id],
                    [embeddings[index]],
                    [metadatas[index]],
                    [documents[index]],
                )

    def delete(self, ids: list[str]) -> None:
        for record_id in ids:
            self.records.pop(record_id, None)

    def matching(self, where: dict[str, Any]) -> list[str]:
        return [
            record_id
            for record_id, record in self.records.items()
            if _where_matches(where, record.metadata)
        ]


def _without_none_values(metadata: dict[str, Any] | None) -> dict[str, Any] | None:
    if metadata is None:
        return None
    kept = {key: value for key, value in metadata.items() if value is not None}
    return kept or None


def _merge_metadata(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any] | None:
    """Key-by-key merge where a None value deletes the key; no keys left reads back as None."""
    merged = dict(old or {})
    for key, value in new.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged or None


def _where_matches(where: dict[str, Any], metadata: dict[str, Any] | None) -> bool:
    """Whether `metadata` matches `where`, by Chroma's filter rules, for the single-key clauses
    this machine generates."""
    ((key, condition),) = where.items()
    ((operator, operand),) = condition.items()
    values = metadata or {}
    if key not in values:
        return operator in ("$ne", "$nin")  # the negative operators match a missing key
    value = values[key]
    if operator == "$eq":
        return value == operand
    if operator == "$ne":
        return value != operand
    if operator == "$in":
        return value in operand
    if operator == "$nin":
        return value not in operand
    return {
        "$gt": value > operand,
        "$gte": value >= operand,
        "$lt": value < operand,
        "$lte": value <= operand,
    }[operator]


def _distance(space: str, stored: np.ndarray, query: np.ndarray) -> float:
    """Reference distances in float64 (squared l2, 1 - dot, cosine), incl. the zero-vector rule."""
    a, b = stored.astype(np.float64), query.astype(np.float64)
    if space == "l2":
        return float(np.sum((a - b) ** 2))
    if space == "ip":
        return float(1.0 - a @ b)
    a_unit = a / (np.linalg.norm(a) + 1e-30)
    b_unit = b / (np.linalg.norm(b) + 1e-30)
    return float(1.0 - a_unit @ b_unit)


def _open_client(path: str) -> Any:
    return system.PersistentClient(path=path, settings=system.Settings(anonymized_telemetry=False))


def _close_client(client: Any) -> None:
    """Release the client so that the next one really reopens the directory.

    Clients share one cached system per path; `close()` drops this client's reference and stops
    the system when it was the last one. Without `close()`, clearing the cache has that effect.
    """
    close = getattr(client, "close", None)
    if close is not None:
        close()
    else:
        type(client).clear_system_cache()


metadata_strategy = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional=METADATA_VALUES).map(lambda metadata: metadata or None),
)
# For update/upsert: None leaves the metadata alone; inside a dict a None value deletes that key.
update_metadata_strategy = st.one_of(
    st.none(),
    st.lists(st.sampled_from(sorted(METADATA_VALUES)), min_size=1, unique=True).flatmap(
        lambda keys: st.fixed_dictionaries({key: st.none() | METADATA_VALUES[key] for key in keys})
    ),
)
document_strategy = st.none() | st.sampled_from(["hello world", "cat", "", "Hello", "a dog"])
where_strategy = st.one_of(
    st.builds(
        lambda operator, operand: {"n": {operator: operand}},
        st.sampled_from(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"]),
        st.integers(-5, 5),
    ),
    st.builds(
        lambda operator, operand: {"tag": {operator: operand}},
        st.sampled_from(["$in", "$nin"]),
        st.lists(
            st.sampled_from(["red", "green", "blue"]),
            min_size=1,
            max_size=2,
            unique=True,
        ),
    ),
    st.builds(lambda operand: {"flag": {"$eq": operand}}, st.booleans()),
)


class CollectionStateMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.mkdtemp(prefix="azurite-model-")
        self.client = _open_client(self.directory)
        self.model = Model()

    @initialize(
        space=st.sampled_from(["l2", "cosine", "ip"]),
        dim=st.integers(2, 6),
        legacy_metadata=st.booleans(),
        data=st.data(),
    )
    def create_collection(
        self, space: str, dim: int, legacy_metadata: bool, data: st.DataObject
    ) -> None:
        self.space, self.dim = space, dim
        if legacy_metadata:
            arguments: dict[str, Any] = {"metadata": {"hnsw:space": space}}
        else:
            arguments = {"configuration": {"hnsw": {"space": space}}}
        self.collection = self.client.create_collection(
            "model", embedding_function=None, **arguments
        )
        self.queries = [self._draw_vector(data) for _ in range(2)]

    def teardown(self) -> None:
        _close_client(self.client)
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- drawing ----------------------------------------------------------------------------

    def _draw_vector(self, data: st.DataObject) -> np.ndarray:
        # Thousandths, not arbitrary floats: a tiny vector's squared norm underflows float32 and
        # makes cosine distances meaningless in any float32 engine.
        element = st.sampled_from(GRID) | st.integers(-1000, 1000).map(lambda i: i / 1000)
        values = data.draw(st.lists(element, min_size=self.dim, max_size=self.dim))
        return np.asarray(values, dtype=np.float32)

    def _draw_ids(self, data: st.DataObject, existing_share: float) -> list[str]:
        """Distinct ids, biased towards ids the model holds when `existing_share` is high."""
        existing = list(self.model.records)
        pool = existing if existing and data.draw(st.floats(0, 1)) < existing_share else ID_POOL
        return data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6, unique=True))

    def _draw_fields(
        self, data: st.DataObject, count: int, metadata: st.SearchStrategy[Any]
    ) -> tuple[list[np.ndarray], list[Any], list[Any]]:
        embeddings = [self._draw_vector(data) for _ in range(count)]
        metadatas = data.draw(st.lists(metadata, min_size=count, max_size=count))
        documents = data.draw(st.lists(document_strategy, min_size=count, max_size=count))
        return embeddings, metadatas, documents

    # -- rules ------------------------------------------------------------------------------

    @rule(data=st.data())
    def add(self, data: st.DataObject) -> None:
        ids = self._draw_ids(data, existing_share=0.2)
        embeddings, metadatas, documents = self._draw_fields(data, len(ids), metadata_strategy)
        self.collection.add(
            ids=ids, embeddings=embeddings, metadatas=metadatas, documents=documents
        )
        self.model.add(ids, embeddings, metadatas, documents)

    @rule(data=st.data(), with_embeddings=st.booleans())
    def update(self, data: st.DataObject, with_embeddings: bool) -> None:
        ids = self._draw_ids(data, existing_share=0.8)
        embeddings, metadatas, documents = self._draw_fields(
            data, len(ids), update_metadata_strategy
        )
        if not with_embeddings:
            # Without vectors, new documents would have to be embedded by an embedding function.
            self.collection.update(ids=ids, metadatas=metadatas)
            self.model.update(ids, None, metadatas, [None] * len(ids))
            return
        self.collection.update(
            ids=ids, embeddings=embeddings, metadatas=metadatas, documents=documents
        )
        self.model.update(ids, embeddings, metadatas, documents)

    @rule(data=st.data())
    def upsert(self, data: st.DataObject) -> None:
        ids = self._draw_ids(data, existing_share=0.5)
        embeddings, metadatas, documents = self._draw_fields(
            data, len(ids), update_metadata_strategy
        )
        self.collection.upsert(
            ids=ids, embeddings=embeddings, metadatas=metadatas, documents=documents
        )
        self.model.upsert(ids, embeddings, metadatas, documents)

    @rule(data=st.data())
    def delete_by_ids(self, data: st.DataObject) -> None:
        ids = self._draw_ids(data, existing_share=0.9)
        result = self.collection.delete(ids=ids)
        assert result == {"deleted": len(ids)}  # missing ids are counted too
        self.model.delete(ids)

    @rule(where=where_strategy)
    def delete_by_where(self, where: dict[str, Any]) -> None:
        expected = self.model.matching(where)
        result = self.collection.delete(where=where)
        assert result == {"deleted": len(expected)}, where
        self.model.delete(expected)

    @rule()
    def restart(self) -> None:
        _close_client(self.client)
        self.client = _open_client(self.directory)
        self.collection = self.client.get_collection("model", embedding_function=None)

    # -- invariants -------------------------------------------------------------------------

    @precondition(lambda self: hasattr(self, "collection"))
    @invariant()
    def count_matches(self) -> None:
        assert self.collection.count() == len(self.model.records)

    @precondition(lambda self: hasattr(self, "collection"))
    @invariant()
    def records_match_in_insertion_order(self) -> None:
        result = self.collection.get(include=["embeddings", "metadatas", "documents"])
        assert result["ids"] == list(self.model.records)
        for index, record in enumerate(self.model.records.values()):
            record_id = result["ids"][index]
            np.testing.assert_allclose(
                result["embeddings"][index], record.embedding, rtol=1e-6, atol=1e-6
            )
            assert result["metadatas"][index] == record.metadata, record_id
            assert result["documents"][index] == record.document, record_id

    @precondition(lambda self: hasattr(self, "collection"))
    @invariant()
    def query_returns_true_nearest_neighbours(self) -> None:
        stored = list(self.model.records.values())
        # Besides the fixed queries, one stored vector: its own record must come first (or tie).
        queries = [*self.queries, stored[0].embedding] if stored else self.queries
        n_results = max(1, min(NEIGHBOURS, len(stored)))
        result = self.collection.query(
            query_embeddings=queries, n_results=n_results, include=["distances"]
        )
        for position, query in enumerate(queries):
            self._check_neighbours(
                query, result["ids"][position], result["distances"][position], n_results
            )

    def _check_neighbours(
        self, query: np.ndarray, ids: list[str], distances: list[float], n_results: int
    ) -> None:
        """The hits are a correct top-k: with ties, any of the tied records may fill the last places."""
        truth = {
            record_id: _distance(self.space, r.embedding, query)
            for record_id, r in self.model.records.items()
        }
        assert len(ids) == min(n_results, len(truth))
        assert len(set(ids)) == len(ids)
        assert distances == sorted(distances)
        for record_id, reported in zip(ids, distances):
            assert reported == pytest.approx(
                truth[record_id], rel=DISTANCE_TOLERANCE, abs=DISTANCE_TOLERANCE
            )
        if ids:
            kth_best = sorted(truth.values())[len(ids) - 1]
            worst_returned = max(truth[record_id] for record_id in ids)
            assert worst_returned <= kth_best + DISTANCE_TOLERANCE * max(1.0, abs(kth_best))


CollectionStateMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("AZURITE_MODEL_EXAMPLES", "50")),
    stateful_step_count=30,
    deadline=None,
    derandomize=True,  # the same examples on every run, so CI failures reproduce
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestCollectionStateMachine = CollectionStateMachine.TestCase
