"""Clients for the documentation examples of the Search API: Azurite's three kinds
(persistent, ephemeral, HTTP against a real ``azurite run``) and chromadb 1.5.9's own
``HttpClient`` against the same server. Each kind comes with the package the examples
import their names from (``azurite`` as ``chromadb``, or the real ``chromadb``), so that an
example runs with the classes a user of that client would have.

Beside them, the independent model the tests compare with: the records' dense vectors
(the default MiniLM model, computed once), their BM25 vectors (chromadb's own
``ChromaBm25EmbeddingFunction``, IDF over the collection as Chroma Cloud applies it), and
the rules by which Chroma's documentation says rankings combine (a ``Knn`` without a
``default`` drops the records it did not rank, Rrf's ``-Σ wᵢ/(k + rankᵢ)``).
"""

from __future__ import annotations

import contextlib
import functools
import math
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import chromadb.execution.expression.operator
import chromadb.utils.embedding_functions
import numpy as np
import pytest
from chromadb.utils.embedding_functions import ChromaBm25EmbeddingFunction as ChromadbBm25
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2
from conftest import open_ephemeral_client
from server.servers import Server, azurite_server

import azurite
import azurite.execution.expression.operator
import azurite.utils.embedding_functions
from azurite.embedding_functions import DefaultEmbeddingFunction as AzuriteMiniLM
from azurite.embedding_functions import _minilm_files

AZURITE_KINDS = ("persistent", "ephemeral", "http")
EVERY_KIND = (*AZURITE_KINDS, "chromadb-http")
#: The metadata key the examples give their sparse index.
SPARSE_KEY = "sparse_embedding"
#: A ``Knn``'s candidate count when the example sets none (Chroma's default).
KNN_DEFAULT_LIMIT = 16


@dataclass
class Kind:
    """One client kind and the package whose names its user imports: ``api`` stands for
    ``chromadb`` (``from chromadb import Search, K, Knn``), ``operator`` for
    ``chromadb.execution.expression.operator`` and ``functions`` for
    ``chromadb.utils.embedding_functions``."""

    name: str
    client: Any
    api: types.ModuleType
    operator: types.ModuleType
    functions: types.ModuleType

    @property
    def is_azurite(self) -> bool:
        return self.api is azurite

    def sparse_schema(self) -> Any:
        """A schema filling ``sparse_embedding`` with BM25 vectors of the documents: the
        examples' hosted SPLADE function needs Chroma Cloud, BM25 runs here and is the
        sparse function the documentation names beside it."""
        schema = self.api.Schema()
        schema.create_index(
            config=self.api.SparseVectorIndexConfig(
                source_key=self.api.K.DOCUMENT,
                embedding_function=self.functions.ChromaBm25EmbeddingFunction(),
            ),
            key=SPARSE_KEY,
        )
        return schema


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with azurite_server(tmp_path_factory.mktemp("docs-server"), "--allow-reset") as running:
        yield running


@contextlib.contextmanager
def chromadb_default_model(directory: Path) -> Iterator[None]:
    """chromadb's default embedding function reading the MiniLM files Azurite ships,
    through a scratch cache directory: it would download them otherwise (this machine
    has no network), and the user's ~/.cache/chroma is neither read nor written."""
    (directory / "onnx").symlink_to(_minilm_files.resolve_model_dir(), target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ONNXMiniLM_L6_V2, "DOWNLOAD_PATH", directory)
        yield


@contextlib.contextmanager
def open_kind(name: str, server: Server, directory: Path) -> Iterator[Kind]:
    if name == "persistent":
        client: Any = azurite.PersistentClient(path=str(directory / "db"))
    elif name == "ephemeral":
        client = open_ephemeral_client()
        client.reset()
    elif name == "http":
        client = azurite.HttpClient(host=server.host, port=server.port)
    else:
        with chromadb_default_model(directory):
            client = chromadb.HttpClient(host=server.host, port=server.port)
            yield Kind(
                name,
                client,
                chromadb,
                chromadb.execution.expression.operator,
                chromadb.utils.embedding_functions,
            )
        # chromadb 1.5.9 never closes its HTTP sessions (the client's and its admin
        # client's) itself.
        for owner in (client, getattr(client, "_admin_client", None)):
            if owner is not None:
                owner._server._session.close()
        return
    try:
        yield Kind(
            name,
            client,
            azurite,
            azurite.execution.expression.operator,
            azurite.utils.embedding_functions,
        )
    finally:
        client.close()


@pytest.fixture(scope="module")
def kinds(
    docs_server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Kind]]:
    """One client of every kind for the whole module: the collections the examples read
    are built once per kind, not once per test. The HTTP kinds share the server, so each
    collection name is made unique per kind."""
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(
                open_kind(name, docs_server, tmp_path_factory.mktemp(name.replace("-", "_")))
            )
            for name in EVERY_KIND
        }


@pytest.fixture(params=EVERY_KIND)
def kind(request: pytest.FixtureRequest, kinds: dict[str, Kind]) -> Kind:
    """Every client kind, chromadb's own HttpClient included."""
    return kinds[request.param]


@pytest.fixture(params=AZURITE_KINDS)
def azurite_kind(request: pytest.FixtureRequest, kinds: dict[str, Kind]) -> Kind:
    """Azurite's client kinds, for examples whose spelling chromadb 1.5.9 refuses (the
    test shows chromadb's refusal) or that use classes only Azurite has."""
    return kinds[request.param]


def unique_name(kind: Kind, name: str) -> str:
    """``name`` for ``kind``: the HTTP kinds write to one server."""
    return f"{name}_{kind.name.replace('-', '_')}"


# ---- the independent model


@dataclass(frozen=True)
class Corpus:
    """Records as the tests write them, and what Chroma's documentation says a search
    over them returns."""

    ids: list[str]
    documents: list[str]
    metadatas: list[dict[str, Any]]

    @functools.cached_property
    def dense(self) -> np.ndarray:
        """The documents' vectors, computed when a test first needs them (not when the
        suite is collected)."""
        return minilm(self.documents)

    def record(self, record_id: str) -> tuple[str, dict[str, Any]]:
        position = self.ids.index(record_id)
        return self.documents[position], self.metadatas[position]

    def passing(self, where: Callable[[str, str, dict[str, Any]], bool] | None) -> list[str]:
        """The ids whose (id, document, metadata) pass ``where`` (a filter restated in
        Python), in insertion order."""
        if where is None:
            return list(self.ids)
        return [i for i, d, m in zip(self.ids, self.documents, self.metadatas) if where(i, d, m)]

    def dense_knn(
        self, query: str | Sequence[float], limit: int = KNN_DEFAULT_LIMIT, where: Any = None
    ) -> dict[str, float]:
        """The ``limit`` nearest records (squared euclidean, the default space) among
        those passing ``where``: id → distance."""
        vector = minilm([query])[0] if isinstance(query, str) else np.asarray(query, np.float64)
        allowed = self.passing(where)
        rows = [self.ids.index(i) for i in allowed]
        distances = ((self.dense[rows] - vector) ** 2).sum(axis=1)
        order = np.lexsort((np.arange(len(rows)), distances))[:limit]
        return {allowed[i]: float(distances[i]) for i in order}

    def sparse_knn(
        self,
        query: str | Mapping[str, Sequence[float]],
        limit: int = KNN_DEFAULT_LIMIT,
        where: Any = None,
        idf: bool = False,
    ) -> dict[str, float]:
        """The ``limit`` best matches of the documents' BM25 vectors for ``query`` (a text,
        embedded as a BM25 query, or a sparse vector given as indices and values) among
        those passing ``where``, id → score (``1 - Σ q·d``). Chroma weighs each dimension
        by its IDF over the collection only when the index says ``bm25=True``, which the
        documentation's schemas do not. Only records sharing a dimension are ranked."""
        function = ChromadbBm25()
        vectors = function(self.documents)
        holding: dict[int, int] = {}
        for vector in vectors:
            for index in vector.indices:
                holding[index] = holding.get(index, 0) + 1
        total = len(self.ids)
        if isinstance(query, str):
            embedded = function.embed_query([query])[0]
            indices, values = list(embedded.indices), list(embedded.values)
        else:
            indices, values = list(query["indices"]), list(query["values"])
        weights = {
            index: value
            * (
                math.log(1 + (total - holding.get(index, 0) + 0.5) / (holding.get(index, 0) + 0.5))
                if idf
                else 1.0
            )
            for index, value in zip(indices, values)
        }
        allowed = set(self.passing(where))
        scored = []
        for position, (record_id, vector) in enumerate(zip(self.ids, vectors)):
            shared = [v * weights[i] for i, v in zip(vector.indices, vector.values) if i in weights]
            if record_id in allowed and shared:
                scored.append((1.0 - sum(shared), position, record_id))
        scored.sort()
        return {record_id: score for score, _, record_id in scored[:limit]}


_MINILM: list[Any] = []
_VECTORS: dict[str, np.ndarray] = {}


def minilm(texts: Sequence[str]) -> np.ndarray:
    """The default model's vectors of ``texts`` (one loaded model for the session, each
    text embedded once: the examples repeat their queries)."""
    if not _MINILM:
        _MINILM.append(AzuriteMiniLM())
    missing = [text for text in dict.fromkeys(texts) if text not in _VECTORS]
    if missing:
        _VECTORS.update(zip(missing, np.asarray(_MINILM[0](missing), dtype=np.float64)))
    return np.stack([_VECTORS[text] for text in texts])


def as_ranks(scores: Mapping[str, float]) -> dict[str, float]:
    """A ``Knn(return_rank=True)``: each record's 0-based position instead of its score."""
    ordered = sorted(scores, key=lambda record_id: scores[record_id])
    return {record_id: float(rank) for rank, record_id in enumerate(ordered)}


def combine(
    knns: Sequence[tuple[Mapping[str, float], float | None]],
    formula: Callable[..., float],
) -> dict[str, float]:
    """A rank expression over several ``Knn``s, as the ranking page defines it: a record
    is scored only if every ``Knn`` without a ``default`` ranked it; a ``Knn`` that did
    not rank it gives its ``default``."""
    candidates = {record_id for scores, _ in knns for record_id in scores}
    combined = {}
    for record_id in candidates:
        values = []
        for scores, default in knns:
            if record_id in scores:
                values.append(scores[record_id])
            elif default is not None:
                values.append(default)
        if len(values) == len(knns):
            combined[record_id] = formula(*values)
    return combined


def rrf(
    ranks: Sequence[tuple[Mapping[str, float], float | None]],
    weights: Sequence[float] | None = None,
    k: float = 60,
    normalize: bool = False,
) -> dict[str, float]:
    """Rrf's score, ``-Σ wᵢ/(k + rankᵢ)``, each rank from its list."""
    w = list(weights) if weights is not None else [1.0] * len(ranks)
    if normalize:
        w = [value / sum(w) for value in w]
    return combine(ranks, lambda *r: -sum(wi / (k + ri) for wi, ri in zip(w, r)))


def best(scores: Mapping[str, float], limit: int | None = None, offset: int = 0) -> list[str]:
    """The ids of ``scores`` best (lowest) first, from ``offset``, at most ``limit``."""
    ordered = sorted(scores, key=lambda record_id: scores[record_id])
    return ordered[offset : None if limit is None else offset + limit]


def assert_ranking(
    rows: Sequence[Mapping[str, Any]],
    expected: Mapping[str, float],
    limit: int | None = None,
    offset: int = 0,
) -> None:
    """The rows are the best of ``expected`` from ``offset`` (at most ``limit``), in order,
    each with its expected score (float32 precision: the engine computes in float32).
    Records whose expected scores tie may come in either order."""
    wanted = best(expected, limit, offset)
    assert len(rows) == len(wanted), ([row["id"] for row in rows], wanted)
    for row, want in zip(rows, wanted):
        assert row["id"] in expected, row["id"]
        assert row["score"] == pytest.approx(expected[want], rel=1e-4, abs=1e-5)
        assert row["score"] == pytest.approx(expected[row["id"]], rel=1e-4, abs=1e-5)
