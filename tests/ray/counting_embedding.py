"""An embedding function registered under a name of its own that records, in the folder
``COUNTING_EMBEDDING_LOG`` names, each process that builds it and each batch it embeds:
what shows that an actor pool builds a function once per actor. Its vectors are the
default model's, so that they can be checked too."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from azurite.embedding_functions import DefaultEmbeddingFunction, register_embedding_function
from azurite.embedding_functions.base import EmbeddingFunction

NAME = "azurite_tests_counting"


def _record(kind: str) -> None:
    folder = Path(os.environ["COUNTING_EMBEDDING_LOG"])
    (folder / f"{kind}-{os.getpid()}-{uuid.uuid4().hex}").touch()


@register_embedding_function
class CountingEmbeddingFunction(EmbeddingFunction[Any]):
    def __init__(self) -> None:
        _record("built")
        self._model = DefaultEmbeddingFunction()

    def __call__(self, input: Any) -> Any:
        _record("embedded")
        return self._model(input)

    @staticmethod
    def name() -> str:
        return NAME

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CountingEmbeddingFunction:
        return CountingEmbeddingFunction()
