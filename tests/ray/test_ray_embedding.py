"""Documents embedded by an actor pool (azurite.ray.embed_documents) on real text, on a
local Ray cluster of two CPUs: the default model's vectors, each actor building its
function once, and a pipeline whose collection then answers text queries."""

from __future__ import annotations

import inspect
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import counting_embedding
import numpy as np
import pyarrow as pa
import pytest
import ray

import azurite
from azurite.embedding_functions import DefaultEmbeddingFunction, ONNXMiniLM_L6_V2
from azurite.ray import collection_embedding_function, embed_documents, write_collection

pytestmark = [
    pytest.mark.ray,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
]


@pytest.fixture(scope="module")
def counting_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("counting")


@pytest.fixture(scope="module", autouse=True)
def local_cluster(counting_log: Path) -> Iterator[None]:
    # The test module's own embedding function is shipped by value: workers cannot import
    # the test folder.
    ray.cloudpickle.register_pickle_by_value(counting_embedding)
    os.environ["COUNTING_EMBEDDING_LOG"] = str(counting_log)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"COUNTING_EMBEDDING_LOG": str(counting_log)}},
    )
    yield
    ray.shutdown()
    ray.cloudpickle.unregister_pickle_by_value(counting_embedding)
    del os.environ["COUNTING_EMBEDDING_LOG"]


def real_text(count: int) -> list[str]:
    """Distinct paragraphs of the standard library's documentation strings: English
    prose of every length, as shipped with Python."""
    import importlib

    paragraphs: list[str] = []
    for name in (
        "collections",
        "email.message",
        "http.client",
        "json",
        "logging",
        "pathlib",
        "subprocess",
        "threading",
        "unittest",
        "os",
        "argparse",
        "asyncio",
        "datetime",
        "decimal",
        "inspect",
        "random",
        "shutil",
        "tarfile",
        "tempfile",
        "zipfile",
    ):
        for _, member in inspect.getmembers(importlib.import_module(name)):
            for paragraph in textwrap.dedent(inspect.getdoc(member) or "").split("\n\n"):
                text = " ".join(paragraph.split())
                if len(text) > 40 and text not in paragraphs:
                    paragraphs.append(text)
    assert len(paragraphs) >= count, len(paragraphs)
    return paragraphs[:count]


def text_table(count: int) -> pa.Table:
    texts = real_text(count)
    return pa.table({"id": [f"p{n}" for n in range(count)], "text": texts})


def in_blocks(table: pa.Table, count: int) -> ray.data.Dataset:
    """``table`` as a dataset of ``count`` blocks. Not by ``repartition``: its tasks would
    wait for CPUs that the actor pool, started first, holds."""
    size = -(-table.num_rows // count)
    return ray.data.from_arrow(
        [table.slice(start, size) for start in range(0, table.num_rows, size)]
    )


def embedded(dataset: ray.data.Dataset) -> pa.Table:
    return pa.concat_tables(ray.get(dataset.to_arrow_refs())).sort_by("id")


def test_the_pool_gives_the_default_models_vectors() -> None:
    table = text_table(600)
    dataset = embed_documents(in_blocks(table, 6), document_column="text", batch_size=64)
    got = embedded(dataset)
    expected = dict(
        zip(
            table.column("id").to_pylist(),
            DefaultEmbeddingFunction()(table.column("text").to_pylist()),
        )
    )
    assert got.column_names == ["id", "text", "embedding"]
    assert got.schema.field("embedding").type == pa.list_(pa.float32(), 384)
    vectors = got.column("embedding").combine_chunks().flatten().to_numpy().reshape(-1, 384)
    for identifier, vector in zip(got.column("id").to_pylist(), vectors):
        np.testing.assert_allclose(vector, expected[identifier], atol=1e-6)


def test_each_actor_builds_its_function_once(counting_log: Path) -> None:
    table = text_table(400)
    dataset = embed_documents(
        in_blocks(table, 8),
        counting_embedding.CountingEmbeddingFunction(),
        document_column="text",
        batch_size=25,
        concurrency=2,
    )
    assert embedded(dataset).num_rows == 400
    events = [entry.name.split("-") for entry in counting_log.iterdir()]
    builds = [int(pid) for kind, pid, _ in events if kind == "built"]
    batches = [int(pid) for kind, pid, _ in events if kind == "embedded"]
    # Built by the test itself, above, in this process only.
    assert builds.count(os.getpid()) == 1
    actors = [pid for pid in builds if pid != os.getpid()]
    assert len(actors) == len(set(actors)) == 2
    assert set(batches) == set(actors)
    assert len(batches) == 400 // 25


def test_a_collections_function_embeds_a_pipeline_it_then_queries(tmp_path: Path) -> None:
    path = tmp_path / "db"
    client = azurite.PersistentClient(path)
    client.create_collection("docs", embedding_function=ONNXMiniLM_L6_V2())
    function = collection_embedding_function(path, "docs")
    assert function == {"name": "onnx_mini_lm_l6_v2", "config": {"preferred_providers": None}}
    table = text_table(800)
    write_collection(
        embed_documents(in_blocks(table, 4), function, "text"),
        path,
        "docs",
        embedding_column="embedding",
        document_column="text",
        # The actors hold both CPUs of the cluster.
        ray_remote_args={"num_cpus": 0},
    )
    collection = client.get_collection("docs")
    assert collection.count() == 800
    texts = table.column("text").to_pylist()
    for row in (3, 400, 799):
        hits = collection.query(query_texts=[texts[row]], n_results=1, include=["distances"])
        assert hits["ids"] == [[f"p{row}"]]
        assert hits["distances"][0][0] == pytest.approx(0.0, abs=1e-5)


def test_bad_functions_and_columns_are_refused() -> None:
    dataset = ray.data.from_arrow(text_table(10))
    with pytest.raises(ValueError, match="Embedding function no_such_function not found"):
        embed_documents(dataset, "no_such_function", "text")
    with pytest.raises(ValueError, match="concurrency must be a positive integer"):
        embed_documents(dataset, document_column="text", concurrency=0)
    with pytest.raises(Exception, match="no column 'body' to embed"):
        embedded(embed_documents(dataset, document_column="body", concurrency=1))
    numbers = ray.data.from_arrow(pa.table({"id": ["a"], "text": [1]}))
    with pytest.raises(Exception, match="the 'text' column must hold strings to embed"):
        embedded(embed_documents(numbers, document_column="text", concurrency=1))


def test_a_row_without_a_document_gets_no_vector() -> None:
    texts = real_text(3)
    table = pa.table({"id": ["a", "b", "c"], "text": [texts[0], None, texts[2]]})
    got = embedded(
        embed_documents(ray.data.from_arrow(table), document_column="text", concurrency=1)
    )
    vectors = got.column("embedding").to_pylist()
    assert vectors[1] is None
    expected = DefaultEmbeddingFunction()([texts[0], texts[2]])
    np.testing.assert_allclose(vectors[0], expected[0], atol=1e-6)
    np.testing.assert_allclose(vectors[2], expected[1], atol=1e-6)
