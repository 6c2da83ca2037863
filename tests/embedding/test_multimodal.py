"""Multimodal collections end to end: images and URIs in writes and queries, the
ImageLoader, and include=["data", "uris"], with a small deterministic function that puts
colour names and images of that colour at the same place."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Union

import numpy as np
import pytest
from PIL import Image

from azurite import Client
from azurite.data_loaders import ImageLoader
from azurite.embedding_functions import EmbeddingFunction, OpenCLIPEmbeddingFunction

COLOURS = {"red": (220, 20, 20), "green": (20, 200, 30), "blue": (10, 30, 230)}


def solid(colour: str, size: int = 6) -> np.ndarray:
    return np.full((size, size, 3), COLOURS[colour], dtype=np.uint8)


class ColourEmbedding(EmbeddingFunction[Union[list[str], list[np.ndarray]]]):
    """An image becomes its mean RGB; a colour name becomes that colour's RGB; all unit
    length. A legacy-free, deterministic stand-in for CLIP."""

    def __call__(self, input: list[Any]) -> list[np.ndarray]:
        vectors = []
        for item in input:
            if isinstance(item, np.ndarray):
                rgb = item.reshape(-1, item.shape[-1])[:, :3].mean(axis=0)
            else:
                rgb = np.array(COLOURS[item], dtype=np.float64)
            vectors.append((rgb / np.linalg.norm(rgb)).astype(np.float32))
        return vectors

    @staticmethod
    def name() -> str:
        return "test_colour"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ColourEmbedding:
        return ColourEmbedding()


@pytest.fixture
def image_files(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for colour in COLOURS:
        path = tmp_path / f"{colour}.png"
        Image.fromarray(solid(colour)).save(path)
        paths[colour] = str(path)
    return paths


def test_images_are_embedded_not_stored(client: Client) -> None:
    collection = client.create_collection("pictures", embedding_function=ColourEmbedding())
    collection.add(ids=["r", "g"], images=[solid("red"), solid("green")])
    collection.upsert(ids=["b"], images=[solid("blue")])
    result = collection.query(query_texts=["green"], n_results=1, include=["uris", "documents"])
    assert result["ids"] == [["g"]]
    assert result["uris"] == [[None]]
    assert collection.query(query_images=[solid("blue")], n_results=1)["ids"] == [["b"]]
    collection.update(ids=["r"], images=[solid("blue")])
    nearest_blue = collection.query(query_texts=["blue"], n_results=2)["ids"][0]
    assert sorted(nearest_blue) == ["b", "r"]


def test_uris_are_loaded_embedded_and_stored(client: Client, image_files: dict[str, str]) -> None:
    collection = client.create_collection(
        "files", embedding_function=ColourEmbedding(), data_loader=ImageLoader()
    )
    collection.add(ids=list(image_files), uris=list(image_files.values()))
    stored = collection.get(ids=["red", "blue"], include=["uris", "data"])
    assert stored["uris"] == [image_files["red"], image_files["blue"]]
    np.testing.assert_array_equal(stored["data"][0], solid("red"))
    np.testing.assert_array_equal(stored["data"][1], solid("blue"))
    assert set(stored["included"]) == {"uris", "data"}

    by_uri = collection.query(query_uris=[image_files["green"]], n_results=1, include=["data"])
    assert by_uri["ids"] == [["green"]]
    np.testing.assert_array_equal(by_uri["data"][0][0], solid("green"))
    assert by_uri["uris"] == [[image_files["green"]]]  # "data" brings the uris along


def test_records_without_uri_load_as_none(client: Client, image_files: dict[str, str]) -> None:
    collection = client.create_collection(
        "mixed", embedding_function=ColourEmbedding(), data_loader=ImageLoader()
    )
    collection.add(ids=["pic"], uris=[image_files["red"]])
    collection.add(ids=["txt"], documents=["green"])
    data = collection.get(ids=["pic", "txt"], include=["data"])["data"]
    assert data[0].shape == (6, 6, 3)
    assert data[1] is None


def test_reopened_collection_keeps_its_function_for_images(client: Client) -> None:
    client.create_collection("colours", embedding_function=ColourEmbedding())
    reopened = client.get_collection("colours")
    reopened.add(ids=["r"], images=[solid("red")])
    assert reopened.query(query_texts=["red"], n_results=1)["ids"] == [["r"]]


def test_image_loader_reads_files_in_order(image_files: dict[str, str]) -> None:
    loaded = ImageLoader(max_workers=2)([image_files["blue"], None, image_files["red"]])
    np.testing.assert_array_equal(loaded[0], solid("blue"))
    assert loaded[1] is None
    np.testing.assert_array_equal(loaded[2], solid("red"))


def test_open_clip_says_what_to_install() -> None:
    with pytest.raises(ValueError, match=r"pip install open-clip-torch torch pillow"):
        OpenCLIPEmbeddingFunction()


def one_modality(verb: str, count: int = 3) -> str:
    """chromadb's message, whose list of sources comes in varying order."""
    names = ", ".join(["(documents|images|uris)"] * count)
    return f"Exactly one of {names} must be provided in {verb}"


def test_one_modality_per_record(client: Client, image_files: dict[str, str]) -> None:
    collection = client.create_collection(
        "modalities", embedding_function=ColourEmbedding(), data_loader=ImageLoader()
    )
    red = image_files["red"]
    for kwargs in (
        {"documents": ["red"], "images": [solid("red")]},
        {"documents": ["red"], "uris": [red]},
        {"images": [solid("red")], "uris": [red]},
    ):
        with pytest.raises(ValueError, match=one_modality("add")):
            collection.add(ids=["a"], **kwargs)
    with pytest.raises(ValueError, match=one_modality("query")):
        collection.query(query_texts=["red"], query_images=[solid("red")])
    with pytest.raises(ValueError, match=one_modality("query")):
        collection.query(query_images=[solid("red")], query_uris=[red])
    assert collection.count() == 0
    # As in chromadb, upsert and update refuse documents with images but accept uris
    # beside either: the uris are then only stored, and the other input is embedded.
    for verb in ("upsert", "update"):
        with pytest.raises(ValueError, match=one_modality(verb, 2)):
            getattr(collection, verb)(ids=["a"], documents=["red"], images=[solid("red")])
    collection.upsert(ids=["a"], documents=["green"], uris=[red])
    stored = collection.get(ids=["a"], include=["documents", "uris", "embeddings"])
    assert (stored["documents"], stored["uris"]) == (["green"], [red])
    np.testing.assert_allclose(stored["embeddings"][0], ColourEmbedding()(["green"])[0])


NO_LOADER = "You must set a data loader on the collection if loading from URIs."


def test_uris_need_a_data_loader(client: Client, image_files: dict[str, str]) -> None:
    collection = client.create_collection("no_loader", embedding_function=ColourEmbedding())
    with pytest.raises(ValueError, match=NO_LOADER):
        collection.add(ids=["r"], uris=[image_files["red"]])
    with pytest.raises(ValueError, match=NO_LOADER):
        collection.query(query_uris=[image_files["red"]])
    # With explicit embeddings the uris are only stored; loading them back needs a loader.
    collection.add(ids=["r"], embeddings=[[1.0, 0.0, 0.0]], uris=[image_files["red"]])
    assert collection.get(include=["uris"])["uris"] == [image_files["red"]]
    with pytest.raises(ValueError, match=NO_LOADER):
        collection.get(include=["data"])


def test_open_clip_config_cannot_change_its_model() -> None:
    # The check reads only the two configs: no model (nor torch) is needed for it.
    function = OpenCLIPEmbeddingFunction.__new__(OpenCLIPEmbeddingFunction)
    old = {"model_name": "ViT-B-32", "checkpoint": "laion2b_s34b_b79k", "device": "cpu"}
    function.validate_config_update(old, {**old, "device": "cuda"})
    for key in ("model_name", "checkpoint"):
        with pytest.raises(ValueError, match=f"The {key} cannot be changed"):
            function.validate_config_update(old, {**old, key: "other"})
