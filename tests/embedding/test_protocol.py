"""The embedding function protocol, the registry, and how collections record, rebuild
and call their function (chromadb 1.5.9 semantics)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import azurite
from azurite import Client, PersistentClient
from azurite.embedding_functions import (
    DefaultEmbeddingFunction,
    EmbeddingFunction,
    ONNXMiniLM_L6_V2,
    config_to_embedding_function,
    get_builtins,
    known_embedding_functions,
)

from .functions import (
    HashEmbedding,
    LegacyEmbedding,
    OtherHashEmbedding,
    hashed_vector,
)

DEFAULT_ENTRY = {"type": "known", "name": "default", "config": {}}


# --------------------------------------------------------------------------- the protocol


def test_outputs_are_normalised_to_float32_arrays() -> None:
    vectors = HashEmbedding(3)(["a", "b"])
    assert [v.dtype for v in vectors] == [np.float32, np.float32]
    np.testing.assert_allclose(vectors[0], hashed_vector("a", 3))


def test_invalid_outputs_are_refused() -> None:
    class ReturnsNothing(EmbeddingFunction[list[str]]):
        def __call__(self, input: list[str]) -> Any:
            return None

    class ReturnsStrings(EmbeddingFunction[list[str]]):
        def __call__(self, input: list[str]) -> Any:
            return [["x"]]

    with pytest.raises(ValueError, match="returned None"):
        ReturnsNothing()(["a"])
    with pytest.raises(ValueError, match="Expected embeddings to be a list of floats or ints"):
        ReturnsStrings()(["a"])


def test_base_class_defaults() -> None:
    class Minimal(EmbeddingFunction[list[str]]):
        def __call__(self, input: list[str]) -> Any:
            return [[1.0, 2.0] for _ in input]

    minimal = Minimal()
    assert minimal.is_legacy()
    assert minimal.default_space() == "l2"
    assert minimal.supported_spaces() == ["cosine", "l2", "ip"]
    assert [v.tolist() for v in minimal.embed_query(["q"])] == [[1.0, 2.0]]
    assert not HashEmbedding().is_legacy()


def test_registry_knows_builtins_and_rebuilds_from_config() -> None:
    assert {"default", "onnx_mini_lm_l6_v2", "test_hash"} <= set(known_embedding_functions)
    assert {"DefaultEmbeddingFunction", "ONNXMiniLM_L6_V2"} <= get_builtins()
    rebuilt = config_to_embedding_function(
        {"type": "known", "name": "test_hash", "config": {"dimension": 7}}
    )
    assert isinstance(rebuilt, HashEmbedding)
    assert rebuilt.dimension == 7
    assert config_to_embedding_function({"type": "legacy"}) is None


def test_registry_errors() -> None:
    with pytest.raises(ValueError, match=re.escape("Embedding function nope not found.")):
        config_to_embedding_function({"type": "known", "name": "nope", "config": {}})
    with pytest.raises(ValueError, match="Could not build embedding function test_hash"):
        config_to_embedding_function({"type": "known", "name": "test_hash", "config": {}})


def test_default_functions_describe_themselves() -> None:
    default = DefaultEmbeddingFunction()
    assert (default.name(), default.get_config(), default.default_space()) == ("default", {}, "l2")
    assert default.max_tokens() == 256
    assert default == DefaultEmbeddingFunction()
    onnx = ONNXMiniLM_L6_V2()
    assert onnx.name() == "onnx_mini_lm_l6_v2"
    assert onnx.get_config() == {"preferred_providers": None}
    assert onnx.default_space() == "cosine"
    cpu = ONNXMiniLM_L6_V2.build_from_config({"preferred_providers": ["CPUExecutionProvider"]})
    assert cpu.get_config() == {"preferred_providers": ["CPUExecutionProvider"]}


@pytest.mark.parametrize(
    ("providers", "message"),
    [
        (["CPUExecutionProvider", "CPUExecutionProvider"], "must be unique"),
        (["NoSuchExecutionProvider"], "must be subset of available providers"),
        ([1], "must be a list of strings"),
    ],
)
def test_preferred_providers_are_checked(providers: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ONNXMiniLM_L6_V2(preferred_providers=providers)


# --------------------------------------------------------------------------- collections


def test_plain_functions_are_refused(client: Client) -> None:
    with pytest.raises(ValueError, match=re.escape("odict_keys(['self', 'input'])")):
        client.create_collection("lam", embedding_function=lambda input: input)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "entry", "space"),
    [
        ({}, DEFAULT_ENTRY, "l2"),
        (
            {"embedding_function": HashEmbedding(5)},
            {"type": "known", "name": "test_hash", "config": {"dimension": 5}},
            "cosine",
        ),
        ({"embedding_function": LegacyEmbedding()}, {"type": "legacy"}, "l2"),
        (
            {"configuration": {"embedding_function": HashEmbedding(3)}},
            {"type": "known", "name": "test_hash", "config": {"dimension": 3}},
            "cosine",
        ),
    ],
    ids=["default", "known", "legacy", "in-configuration"],
)
def test_function_is_recorded_with_the_collection(
    client: Client, kwargs: dict[str, Any], entry: dict[str, Any], space: str
) -> None:
    collection = client.create_collection("recorded", **kwargs)
    assert collection.configuration_json["embedding_function"] == entry
    assert collection.configuration_json["hnsw"]["space"] == space


def test_documents_and_query_texts_use_the_function(client: Client) -> None:
    function = HashEmbedding(4)
    collection = client.create_collection("docs", embedding_function=function)
    collection.add(ids=["a", "b"], documents=["apple", "banana"])
    collection.upsert(ids=["c"], documents=["cherry"])
    collection.update(ids=["a"], documents=["apricot"])
    assert function.calls == [["apple", "banana"], ["cherry"], ["apricot"]]
    stored = collection.get(ids=["a"], include=["embeddings", "documents"])
    np.testing.assert_allclose(stored["embeddings"][0], hashed_vector("apricot", 4), atol=1e-7)
    assert stored["documents"] == ["apricot"]
    # Queries go through embed_query, whose vectors are those of "query:<text>".
    result = collection.query(query_texts=["cherry"], n_results=3, include=["distances"])
    expected = 1 - float(hashed_vector("query:cherry", 4) @ hashed_vector("cherry", 4))
    distances = dict(zip(result["ids"][0], result["distances"][0]))
    assert distances["c"] == pytest.approx(expected, abs=1e-6)


def test_reopened_collection_embeds_with_the_stored_function(persistent_path: Path) -> None:
    with PersistentClient(persistent_path) as first:
        first.create_collection("kept", embedding_function=HashEmbedding(6))
    azurite.SharedSystemClient.clear_system_cache()
    with PersistentClient(persistent_path) as second:
        collection = second.get_collection("kept")
        collection.add(ids=["x"], documents=["xylophone"])
        stored = collection.get(include=["embeddings"])["embeddings"][0]
        np.testing.assert_allclose(stored, hashed_vector("xylophone", 6), atol=1e-7)
        listed = second.list_collections()[0]
        listed.add(ids=["y"], documents=["yak"])
        assert len(listed.get(ids=["y"], include=["embeddings"])["embeddings"][0]) == 6


def test_stored_function_that_is_not_registered(client: Client) -> None:
    class Unregistered(HashEmbedding):
        @staticmethod
        def name() -> str:
            return "test_unregistered"

    client.create_collection("unreg", embedding_function=Unregistered())
    # Recording a function registers its class, as in Chroma; a new process would not know
    # it, which is what removing it here stands for.
    del known_embedding_functions["test_unregistered"]
    collection = client.get_collection("unreg")
    with pytest.raises(ValueError, match="Embedding function test_unregistered not found"):
        collection.add(ids=["a"], documents=["a"])


def test_explicit_function_wins_over_the_stored_one(client: Client) -> None:
    client.create_collection("explicit", embedding_function=HashEmbedding(4))
    collection = client.get_collection("explicit", embedding_function=HashEmbedding(8))
    collection.add(ids=["a"], embeddings=[[0.0] * 8])
    collection.upsert(ids=["a"], documents=["eight"])
    np.testing.assert_allclose(
        collection.get(include=["embeddings"])["embeddings"][0], hashed_vector("eight", 8)
    )


def test_conflict_on_create(client: Client) -> None:
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Multiple embedding functions provided. Please provide only one. Embedding "
            "function conflict: test_other_hash vs test_hash"
        ),
    ):
        client.create_collection(
            "conflict",
            embedding_function=OtherHashEmbedding(),
            configuration={"embedding_function": HashEmbedding()},
        )
    # The default argument never conflicts with a configured function.
    client.create_collection("fine", configuration={"embedding_function": HashEmbedding()})


GET_CONFLICT = (
    "An embedding function already exists in the collection configuration, and a new one "
    "is provided. If this is intentional, please embed documents separately. Embedding "
    "function conflict: new: {new} vs persisted: test_hash"
)


@pytest.mark.parametrize(
    "open_collection",
    [
        lambda c, f: c.get_collection("stored", embedding_function=f),
        lambda c, f: c.get_or_create_collection("stored", embedding_function=f),
        lambda c, f: c.get_collection_by_id(c.get_collection("stored").id, embedding_function=f),
    ],
    ids=["get", "get_or_create", "get_by_id"],
)
def test_conflict_on_get(client: Client, open_collection: Any) -> None:
    client.create_collection("stored", embedding_function=HashEmbedding(4))
    with pytest.raises(ValueError, match=re.escape(GET_CONFLICT.format(new="test_other_hash"))):
        open_collection(client, OtherHashEmbedding())
    with pytest.raises(ValueError, match=re.escape(GET_CONFLICT.format(new="NotImplemented"))):
        open_collection(client, LegacyEmbedding())
    # Same name with another config, the default, and None are all accepted.
    open_collection(client, HashEmbedding(9))
    open_collection(client, DefaultEmbeddingFunction())
    open_collection(client, None)


# --------------------------------------------------------------------------- modify


class FixedDimension(HashEmbedding):
    """Refuses a change of dimension, as provider functions refuse a change of model."""

    @staticmethod
    def name() -> str:
        return "test_fixed_dimension"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> FixedDimension:
        return FixedDimension(config["dimension"])

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        if old["dimension"] != new["dimension"]:
            raise ValueError("The dimension cannot be changed after the collection is created.")


def test_configuration_update_rules() -> None:
    """chromadb 1.5.9's rules for modify(configuration={"embedding_function": ...})."""
    from azurite.api.embedding import configuration_update_entry

    stored = {"type": "known", "name": "test_hash", "config": {"dimension": 4}}
    same_name = configuration_update_entry(stored, HashEmbedding(6))
    assert same_name == {"type": "known", "name": "test_hash", "config": {"dimension": 6}}
    with pytest.raises(
        ValueError,
        match=re.escape("Cannot update embedding function: incompatible types (test_hash vs "),
    ):
        configuration_update_entry(stored, OtherHashEmbedding())
    fixed = {"type": "known", "name": "test_fixed_dimension", "config": {"dimension": 4}}
    assert configuration_update_entry(fixed, FixedDimension(4))["config"] == {"dimension": 4}
    with pytest.raises(ValueError, match="dimension cannot be changed"):
        configuration_update_entry(fixed, FixedDimension(5))
    with pytest.warns(DeprecationWarning, match="cannot update legacy"):
        assert configuration_update_entry(stored, LegacyEmbedding()) == stored
    legacy_stored = configuration_update_entry({"type": "legacy"}, HashEmbedding(3))
    assert legacy_stored == {"type": "known", "name": "test_hash", "config": {"dimension": 3}}
    assert configuration_update_entry(None, HashEmbedding(3))["config"] == {"dimension": 3}
    assert configuration_update_entry(stored, None) == stored


def test_modify_applies_the_update_rules(client: Client) -> None:
    collection = client.create_collection("modified", embedding_function=FixedDimension(4))
    with pytest.raises(ValueError, match="incompatible types"):
        collection.modify(configuration={"embedding_function": OtherHashEmbedding()})
    with pytest.raises(ValueError, match="dimension cannot be changed"):
        collection.modify(configuration={"embedding_function": FixedDimension(5)})
    stored = {"type": "known", "name": "test_fixed_dimension", "config": {"dimension": 4}}
    assert collection.configuration_json["embedding_function"] == stored

    # A legacy function leaves the stored one in place, and documents still embed with it.
    with pytest.warns(DeprecationWarning, match="cannot update legacy"):
        collection.modify(configuration={"embedding_function": LegacyEmbedding()})
    assert collection.configuration_json["embedding_function"] == stored
    collection.add(ids=["a"], documents=["a"])
    got = collection.get(ids=["a"], include=["embeddings"])["embeddings"][0]
    np.testing.assert_allclose(got, hashed_vector("a", 4), rtol=1e-6)
