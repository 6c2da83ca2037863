"""Providers whose embeddings API follows OpenAI's shape: a POST of ``{"input": [...],
"model": ...}`` with a bearer key, answered by ``{"data": [{"index", "embedding"}]}``.
OpenAI itself (and any OpenAI-compatible base URL), Jina, Voyage AI and Mistral."""

from __future__ import annotations

import base64
import io
from typing import Any, TypedDict

from azurite.embedding_functions._http import (
    batches,
    bearer,
    field,
    post_json,
    resolve_api_key,
)
from azurite.embedding_functions._optional import require
from azurite.embedding_functions.base import (
    Documents,
    EmbeddingFunction,
    Embeddings,
    Space,
    register_embedding_function,
)


def _embed_data_list(
    provider: str,
    url: str,
    headers: dict[str, str],
    texts: Documents,
    batch_size: int,
    extra: dict[str, Any],
) -> list[list[float]]:
    """Embeds `texts` batch by batch, keeping the input order (answers carry an index)."""
    vectors: list[list[float]] = []
    for batch in batches(texts, batch_size):
        body = post_json(provider, url, {"input": batch, **extra}, headers=headers)
        items = sorted(field(provider, body, "data"), key=lambda item: item.get("index", 0))
        vectors.extend(field(provider, item, "embedding") for item in items)
    return vectors


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


class _OpenAILike(EmbeddingFunction[Documents]):
    """Common state: model, key (never stored: only its environment variable), base URL."""

    PROVIDER = ""
    DEFAULT_API_BASE = ""
    DEFAULT_KEY_ENV = ""
    BATCH_SIZE = 128

    def __init__(
        self,
        model_name: str,
        api_key: str | None,
        api_key_env_var: str | None,
        api_base: str | None,
    ) -> None:
        self.model_name = model_name
        self.api_key_env_var = api_key_env_var or self.DEFAULT_KEY_ENV
        self._api_key = resolve_api_key(api_key, self.api_key_env_var, self.PROVIDER)
        self.api_base = api_base

    @property
    def _url(self) -> str:
        return (self.api_base or self.DEFAULT_API_BASE).rstrip("/") + "/embeddings"

    def _request_fields(self, *, is_query: bool) -> dict[str, Any]:
        return {"model": self.model_name}

    def _embed(self, input: Documents, *, is_query: bool) -> list[list[float]]:
        return _embed_data_list(
            self.PROVIDER,
            self._url,
            bearer(self._api_key),
            list(input),
            self.BATCH_SIZE,
            self._request_fields(is_query=is_query),
        )

    def __call__(self, input: Documents) -> Embeddings:
        return self._embed(input, is_query=False)  # type: ignore[return-value]

    def default_space(self) -> Space:
        return "cosine"

    def _base_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "api_key_env_var": self.api_key_env_var,
            "model_name": self.model_name,
        }
        if self.api_base is not None:
            config["api_base"] = self.api_base
        return config


@register_embedding_function
class OpenAIEmbeddingFunction(_OpenAILike):
    """OpenAI embeddings (``POST {api_base}/embeddings``); ``api_base`` also points it at
    any OpenAI-compatible server (vLLM, LM Studio, Together, ...). With
    ``api_type="azure"``, Azure OpenAI: ``POST {api_base}/openai/deployments/
    {deployment_id}/embeddings?api-version={api_version}`` with the key in ``api-key``."""

    PROVIDER = "OpenAI"
    DEFAULT_API_BASE = "https://api.openai.com/v1"
    DEFAULT_KEY_ENV = "CHROMA_OPENAI_API_KEY"
    BATCH_SIZE = 2048  # OpenAI's limit of inputs per request

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "text-embedding-ada-002",
        organization_id: str | None = None,
        api_base: str | None = None,
        api_type: str | None = None,
        api_version: str | None = None,
        deployment_id: str | None = None,
        default_headers: dict[str, str] | None = None,
        dimensions: int | None = None,
        api_key_env_var: str = "CHROMA_OPENAI_API_KEY",
    ) -> None:
        super().__init__(model_name, api_key, api_key_env_var, api_base)
        if api_type == "azure":
            for value, argument in (
                (api_version, "api_version"),
                (deployment_id, "deployment_id"),
                (api_base, "api_base"),
            ):
                if value is None:
                    raise ValueError(f"{argument} must be specified for Azure OpenAI")
        self.organization_id = organization_id
        self.api_type = api_type
        self.api_version = api_version
        self.deployment_id = deployment_id
        self.default_headers = default_headers
        self.dimensions = dimensions

    @property
    def _url(self) -> str:
        if self.api_type != "azure":
            return super()._url
        base = (self.api_base or "").rstrip("/")
        return (
            f"{base}/openai/deployments/{self.deployment_id}/embeddings"
            f"?api-version={self.api_version}"
        )

    def _embed(self, input: Documents, *, is_query: bool) -> list[list[float]]:
        key_header = (
            {"api-key": self._api_key} if self.api_type == "azure" else bearer(self._api_key)
        )
        headers = {**(self.default_headers or {}), **key_header}
        if self.organization_id:
            headers["OpenAI-Organization"] = self.organization_id
        return _embed_data_list(
            self.PROVIDER,
            self._url,
            headers,
            list(input),
            self.BATCH_SIZE,
            _without_none({"model": self.model_name, "dimensions": self.dimensions}),
        )

    @staticmethod
    def name() -> str:
        return "openai"

    def get_config(self) -> dict[str, Any]:
        return {
            **self._base_config(),
            "api_base": self.api_base,
            "organization_id": self.organization_id,
            "api_type": self.api_type,
            "api_version": self.api_version,
            "deployment_id": self.deployment_id,
            "default_headers": self.default_headers,
            "dimensions": self.dimensions,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbeddingFunction:
        return OpenAIEmbeddingFunction(
            model_name=config["model_name"],
            organization_id=config.get("organization_id"),
            api_base=config.get("api_base"),
            api_type=config.get("api_type"),
            api_version=config.get("api_version"),
            deployment_id=config.get("deployment_id"),
            default_headers=config.get("default_headers"),
            dimensions=config.get("dimensions"),
            api_key_env_var=config.get("api_key_env_var", "CHROMA_OPENAI_API_KEY"),
        )

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        if "model_name" in new and new["model_name"] != old.get("model_name"):
            raise ValueError("The model name cannot be changed after the collection is created.")


class JinaQueryConfig(TypedDict):
    task: str


@register_embedding_function
class JinaEmbeddingFunction(_OpenAILike):
    """Jina AI embeddings (``POST https://api.jina.ai/v1/embeddings``), with chromadb's
    arguments in its order. Texts and images (arrays, sent as base64 PNG; needs Pillow)
    may be mixed, as in chromadb; ``query_config`` (e.g. ``{"task": "retrieval.query"}``)
    is merged into query requests."""

    PROVIDER = "Jina"
    DEFAULT_API_BASE = "https://api.jina.ai/v1"
    DEFAULT_KEY_ENV = "CHROMA_JINA_API_KEY"

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "jina-embeddings-v2-base-en",
        api_key_env_var: str = "CHROMA_JINA_API_KEY",
        task: str | None = None,
        late_chunking: bool | None = None,
        truncate: bool | None = None,
        dimensions: int | None = None,
        embedding_type: str | None = None,
        normalized: bool | None = None,
        query_config: dict[str, Any] | None = None,
        api_base: str | None = None,
    ) -> None:
        super().__init__(model_name, api_key, api_key_env_var, api_base)
        self.task = task
        self.late_chunking = late_chunking
        self.truncate = truncate
        self.dimensions = dimensions
        self.embedding_type = embedding_type
        self.normalized = normalized
        self.query_config = query_config

    def _request_fields(self, *, is_query: bool) -> dict[str, Any]:
        fields = _without_none(
            {
                "model": self.model_name,
                "task": self.task,
                "late_chunking": self.late_chunking,
                "truncate": self.truncate,
                "dimensions": self.dimensions,
                "embedding_type": self.embedding_type,
                "normalized": self.normalized,
            }
        )
        if is_query and self.query_config:
            fields.update(self.query_config)
        return fields

    def _embed(self, input: Any, *, is_query: bool) -> list[list[float]]:
        items = list(input)
        if not all(isinstance(item, str) for item in items):
            items = [
                {"text": item} if isinstance(item, str) else _png_base64(item) for item in items
            ]
        return super()._embed(items, is_query=is_query)

    def embed_query(self, input: Any) -> Embeddings:
        return self._embed(input, is_query=True)  # type: ignore[return-value]

    @staticmethod
    def name() -> str:
        return "jina"

    def get_config(self) -> dict[str, Any]:
        return {
            **self._base_config(),
            "task": self.task,
            "late_chunking": self.late_chunking,
            "truncate": self.truncate,
            "dimensions": self.dimensions,
            "embedding_type": self.embedding_type,
            "normalized": self.normalized,
            "query_config": self.query_config,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> JinaEmbeddingFunction:
        return JinaEmbeddingFunction(
            model_name=config["model_name"],
            api_key_env_var=config.get("api_key_env_var", "CHROMA_JINA_API_KEY"),
            task=config.get("task"),
            late_chunking=config.get("late_chunking"),
            truncate=config.get("truncate"),
            dimensions=config.get("dimensions"),
            embedding_type=config.get("embedding_type"),
            normalized=config.get("normalized"),
            query_config=config.get("query_config"),
            api_base=config.get("api_base"),
        )


def _png_base64(image: Any) -> dict[str, str]:
    """An image array as Jina's ``{"image": <base64 PNG>}`` input."""
    pil = require("PIL.Image", "pillow", "Embedding images with Jina")
    buffer = io.BytesIO()
    pil.fromarray(image).save(buffer, format="PNG")
    return {"image": base64.b64encode(buffer.getvalue()).decode("ascii")}


@register_embedding_function
class VoyageAIEmbeddingFunction(_OpenAILike):
    """Voyage AI embeddings (``POST https://api.voyageai.com/v1/embeddings``). As in
    chromadb, ``input_type`` is sent only when configured; with ``"document"``, queries
    are sent as ``"query"``."""

    PROVIDER = "Voyage AI"
    DEFAULT_API_BASE = "https://api.voyageai.com/v1"
    DEFAULT_KEY_ENV = "CHROMA_VOYAGE_API_KEY"

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "voyage-large-2",
        api_key_env_var: str = "CHROMA_VOYAGE_API_KEY",
        input_type: str | None = None,
        truncation: bool = True,
        api_base: str | None = None,
    ) -> None:
        super().__init__(model_name, api_key, api_key_env_var, api_base)
        self.input_type = input_type
        self.truncation = truncation

    def _request_fields(self, *, is_query: bool) -> dict[str, Any]:
        # As in chromadb, no input type unless one is configured (the same vectors);
        # with "document", queries go as "query", which Voyage AI advises.
        input_type = "query" if is_query and self.input_type == "document" else self.input_type
        return _without_none(
            {"model": self.model_name, "input_type": input_type, "truncation": self.truncation}
        )

    def embed_query(self, input: Documents) -> Embeddings:
        return self._embed(input, is_query=True)  # type: ignore[return-value]

    @staticmethod
    def name() -> str:
        return "voyageai"

    def get_config(self) -> dict[str, Any]:
        return {**self._base_config(), "input_type": self.input_type, "truncation": self.truncation}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> VoyageAIEmbeddingFunction:
        return VoyageAIEmbeddingFunction(
            model_name=config["model_name"],
            api_key_env_var=config.get("api_key_env_var", "CHROMA_VOYAGE_API_KEY"),
            input_type=config.get("input_type"),
            truncation=config.get("truncation", True),
            api_base=config.get("api_base"),
        )


@register_embedding_function
class MistralEmbeddingFunction(_OpenAILike):
    """Mistral embeddings (``POST https://api.mistral.ai/v1/embeddings``)."""

    PROVIDER = "Mistral"
    DEFAULT_API_BASE = "https://api.mistral.ai/v1"
    DEFAULT_KEY_ENV = "MISTRAL_API_KEY"

    def __init__(
        self,
        model: str = "mistral-embed",
        api_key_env_var: str = "MISTRAL_API_KEY",
        api_key: str | None = None,
        api_base: str | None = None,
    ) -> None:
        super().__init__(model, api_key, api_key_env_var, api_base)

    @property
    def model(self) -> str:
        return self.model_name

    @staticmethod
    def name() -> str:
        return "mistral"

    def get_config(self) -> dict[str, Any]:
        config = self._base_config()
        config["model"] = config.pop("model_name")
        return config

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MistralEmbeddingFunction:
        return MistralEmbeddingFunction(
            model=config["model"],
            api_key_env_var=config.get("api_key_env_var", "MISTRAL_API_KEY"),
            api_base=config.get("api_base"),
        )
