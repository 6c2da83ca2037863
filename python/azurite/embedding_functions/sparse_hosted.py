"""Chroma Cloud's hosted SPLADE model, as chromadb 1.5.9's
``ChromaCloudSpladeEmbeddingFunction`` calls it: ``POST {CHROMA_EMBED_URL}/embed_sparse``
(default https://embed.trychroma.com) with the texts, the key in ``x-chroma-token`` and the
model in ``x-chroma-embedding-model``."""

from __future__ import annotations

import os
from enum import Enum
from typing import Any

import httpx

from azurite.base_types import SparseVector, SparseVectors
from azurite.embedding_functions._http import (
    EmbeddingProviderError,
    EmbeddingProviderHTTPError,
)
from azurite.embedding_functions.base import Documents
from azurite.embedding_functions.hosted import DEFAULT_CHROMA_EMBED_URL
from azurite.embedding_functions.sparse_base import (
    ConfigField,
    SparseEmbeddingFunction,
    check_config,
    register_sparse_embedding_function,
    sorted_sparse_vector,
)

NAME = "chroma-cloud-splade"
_TIMEOUT_SECONDS = 60


class ChromaCloudSpladeEmbeddingModel(Enum):
    SPLADE_PP_EN_V1 = "prithivida/Splade_PP_en_v1"


@register_sparse_embedding_function
class ChromaCloudSpladeEmbeddingFunction(SparseEmbeddingFunction[Documents]):
    """SPLADE vectors from Chroma Cloud's embedding API. The key is read from
    `api_key_env_var` when the function is made (only the variable's name is stored);
    `include_tokens` asks for each entry's word piece as its label."""

    def __init__(
        self,
        api_key_env_var: str = "CHROMA_API_KEY",
        model: ChromaCloudSpladeEmbeddingModel = ChromaCloudSpladeEmbeddingModel.SPLADE_PP_EN_V1,
        include_tokens: bool = False,
    ) -> None:
        self.api_key_env_var = api_key_env_var
        key = os.getenv(api_key_env_var)
        if not key:
            raise ValueError(
                f"API key not found in environment variable {api_key_env_var} "
                "or in any existing client instances"
            )
        self.model = model
        self.include_tokens = bool(include_tokens)
        embed_url = (os.environ.get("CHROMA_EMBED_URL") or DEFAULT_CHROMA_EMBED_URL).rstrip("/")
        self._api_url = f"{embed_url}/embed_sparse"
        self._session = httpx.Client(
            headers={"x-chroma-token": key, "x-chroma-embedding-model": model.value}
        )

    def close(self) -> None:
        """Closes the HTTP connection pool (also done when the function is collected)."""
        self._session.close()

    def __del__(self) -> None:
        session = getattr(self, "_session", None)
        if session is not None:
            session.close()

    def __call__(self, input: Documents) -> SparseVectors:
        if not input:
            return []
        payload = {
            "texts": list(input),
            "task": "",
            "target": "",
            "fetch_tokens": "true" if self.include_tokens else "false",
        }
        # chromadb's messages: every failure is a RuntimeError saying what went wrong.
        try:
            response = self._session.post(self._api_url, json=payload, timeout=_TIMEOUT_SECONDS)
        except httpx.TimeoutException:
            raise EmbeddingProviderError(
                f"Request to Chroma Cloud API timed out after {_TIMEOUT_SECONDS} seconds"
            ) from None
        except httpx.HTTPError as error:
            raise EmbeddingProviderError(
                f"Failed to get embeddings from Chroma Cloud API: {error}"
            ) from error
        if response.status_code >= 400:
            raise EmbeddingProviderHTTPError(
                "Failed to get embeddings from Chroma Cloud API: "
                f"HTTP {response.status_code} - {response.text}",
                request=response.request,
                response=response,
            )
        try:
            return self._vectors(response.json())
        except Exception as error:
            raise EmbeddingProviderError(
                f"Unexpected error calling Chroma Cloud API: {error}"
            ) from error

    def _vectors(self, body: Any) -> SparseVectors:
        vectors = []
        for entry in body["embeddings"]:
            if isinstance(entry, SparseVector):
                indices, values, labels = entry.indices, entry.values, entry.labels
            else:
                indices = entry.get("indices", [])
                values = entry.get("values", [])
                labels = entry.get("labels")
            vectors.append(
                sorted_sparse_vector(
                    indices, values, (labels or None) if self.include_tokens else None
                )
            )
        return vectors

    @staticmethod
    def name() -> str:
        return NAME

    def get_config(self) -> dict[str, Any]:
        return {
            "api_key_env_var": self.api_key_env_var,
            "model": self.model.value,
            "include_tokens": self.include_tokens,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaCloudSpladeEmbeddingFunction:
        if config.get("model") is None:
            raise ValueError("model must be provided in config")
        if not config.get("api_key_env_var"):
            raise ValueError("api_key_env_var must be provided in config")
        return ChromaCloudSpladeEmbeddingFunction(
            api_key_env_var=config["api_key_env_var"],
            model=ChromaCloudSpladeEmbeddingModel(config["model"]),
            include_tokens=config.get("include_tokens", False),
        )

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        for key in ("include_tokens", "model"):
            if key in new_config and new_config[key] != old_config.get(key):
                raise ValueError(f"Updating '{key}' is not supported for {NAME}")

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        check_config(
            NAME,
            config,
            {
                "model": ConfigField(
                    ("string",), choices=tuple(m.value for m in ChromaCloudSpladeEmbeddingModel)
                ),
                "api_key_env_var": ConfigField(("string",)),
                "include_tokens": ConfigField(("boolean",)),
            },
            required=("api_key_env_var", "model"),
        )
