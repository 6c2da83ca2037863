"""Data loaders: turn the URIs stored with records into the items an embedding function
takes (``chromadb.utils.data_loaders`` under Azurite's name)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from azurite.embedding_functions._optional import require
from azurite.embedding_functions.base import DataLoader


class ImageLoader(DataLoader[list[Any]]):
    """Loads each URI (a local file path) as an image array with Pillow, in a thread
    pool; a ``None`` URI gives ``None``."""

    def __init__(self, max_workers: int | None = None) -> None:
        self._image_module = require("PIL.Image", "pillow", "ImageLoader")
        self._max_workers = max_workers or os.cpu_count() or 1

    def _load(self, uri: str | None) -> np.ndarray | None:
        if uri is None:
            return None
        with self._image_module.open(uri) as image:
            return np.array(image)

    def __call__(self, uris: list[str | None]) -> list[np.ndarray | None]:
        with ThreadPoolExecutor(max_workers=self._max_workers) as pool:
            return list(pool.map(self._load, uris))
