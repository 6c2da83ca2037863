"""OpenCLIP: texts and images in one vector space (optional dependencies:
``pip install open-clip-torch torch pillow``)."""

from __future__ import annotations

from typing import Any, Union, cast

import numpy as np

from azurite.embedding_functions._optional import require
from azurite.embedding_functions.base import (
    Documents,
    EmbeddingFunction,
    Embeddings,
    Images,
    Space,
    register_embedding_function,
)

_INSTALL = "open-clip-torch torch pillow"


@register_embedding_function
class OpenCLIPEmbeddingFunction(EmbeddingFunction[Union[Documents, Images]]):
    """Embeds each item by its kind: an array with two or more dimensions is an image,
    a string is a text. Vectors are L2-normalised float32."""

    def __init__(
        self,
        model_name: str = "ViT-B-32",
        checkpoint: str = "laion2b_s34b_b79k",
        device: str | None = "cpu",
    ) -> None:
        purpose = "OpenCLIPEmbeddingFunction"
        open_clip = require("open_clip", _INSTALL, purpose)
        self._torch = require("torch", _INSTALL, purpose)
        self._image_module = require("PIL.Image", _INSTALL, purpose)
        self.model_name = model_name
        self.checkpoint = checkpoint
        self.device = device
        self._model, _, self._preprocess = open_clip.create_model_and_transforms(
            model_name, pretrained=checkpoint, device=device
        )
        self._tokenizer = open_clip.get_tokenizer(model_name)

    def _normalised(self, features: Any) -> np.ndarray:
        features = features / features.norm(dim=-1, keepdim=True)
        vector: np.ndarray = features.squeeze(0).cpu().numpy().astype(np.float32)
        return vector

    def _embed_image(self, image: np.ndarray) -> np.ndarray:
        pixels = self._preprocess(self._image_module.fromarray(image)).unsqueeze(0)
        with self._torch.no_grad():
            return self._normalised(self._model.encode_image(pixels.to(self.device)))

    def _embed_text(self, text: str) -> np.ndarray:
        tokens = self._tokenizer(text).to(self.device)
        with self._torch.no_grad():
            return self._normalised(self._model.encode_text(tokens))

    def __call__(self, input: Documents | Images) -> Embeddings:
        return [
            self._embed_image(item)
            if isinstance(item, np.ndarray) and item.ndim >= 2
            else self._embed_text(cast(str, item))
            for item in input
        ]

    def default_space(self) -> Space:
        return "cosine"

    @staticmethod
    def name() -> str:
        return "open_clip"

    def get_config(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "checkpoint": self.checkpoint, "device": self.device}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenCLIPEmbeddingFunction:
        return OpenCLIPEmbeddingFunction(
            model_name=config["model_name"],
            checkpoint=config["checkpoint"],
            device=config.get("device", "cpu"),
        )

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for key in ("model_name", "checkpoint"):
            if key in new and new[key] != old.get(key):
                raise ValueError(f"The {key} cannot be changed after the collection is created.")
