"""Hosted providers reached over HTTP that chromadb 1.5.9 also registers: Together AI,
Cloudflare Workers AI, Baseten, Morph, Perplexity, Roboflow and Chroma Cloud's Qwen model.

Each speaks its provider's REST format over httpx (chromadb uses the openai or perplexity
SDK for some of them; the wire is the same). The constructors, names and configurations are
chromadb's; ``api_base`` / ``api_url`` point a function at another server (recorded in the
configuration only when it is not the provider's own).
"""

from __future__ import annotations

import base64
import io
import os
from enum import Enum
from typing import Any

import numpy as np

from azurite.embedding_functions._http import (
    bearer,
    field,
    key_from_environment,
    post_json,
)
from azurite.embedding_functions._optional import require
from azurite.embedding_functions.base import (
    Documents,
    Embeddable,
    EmbeddingFunction,
    Embeddings,
    Space,
    register_embedding_function,
)
from azurite.embedding_functions.providers import _RemoteFunction


def _refuse_change(new_config: dict[str, Any], *keys: str) -> None:
    """chromadb's rule: these keys cannot be given again once the function is set."""
    for key in keys:
        if key in new_config:
            words = key.replace("_", " ")
            raise ValueError(
                f"The {words} cannot be changed after the embedding function has been initialized."
            )


def _texts_only(provider: str, input: Any) -> None:
    if not all(isinstance(item, str) for item in input):
        raise ValueError(f"{provider} only supports text documents, not images")


def _openai_shaped(provider: str, url: str, key: str, payload: dict[str, Any]) -> list[Any]:
    """``{"data": [{"index", "embedding"}]}`` answers, put back in input order."""
    body = post_json(provider, url, payload, headers=bearer(key))
    items = sorted(field(provider, body, "data"), key=lambda item: item.get("index", 0))
    return [field(provider, item, "embedding") for item in items]


@register_embedding_function
class TogetherAIEmbeddingFunction(_RemoteFunction):
    """Together AI (``POST https://api.together.xyz/v1/embeddings``, OpenAI's shape)."""

    DEFAULT_API_BASE = "https://api.together.xyz/v1"

    def __init__(
        self,
        model_name: str,
        api_key: str | None = None,
        api_key_env_var: str = "CHROMA_TOGETHER_AI_API_KEY",
        api_base: str = DEFAULT_API_BASE,
    ) -> None:
        self.model_name = model_name
        self.api_key_env_var, self._api_key = key_from_environment(
            api_key, api_key_env_var, "TOGETHER_API_KEY"
        )
        self.api_base = api_base

    def __call__(self, input: Documents) -> Embeddings:
        if not input:
            raise ValueError("Input is required")
        if not isinstance(input, list):
            raise ValueError("Input must be a list")
        if not all(isinstance(item, str) for item in input):
            raise ValueError("All items in input must be strings")
        url = f"{self.api_base.rstrip('/')}/embeddings"
        payload = {"model": self.model_name, "input": input}
        return _openai_shaped("Together AI", url, self._api_key, payload)

    @staticmethod
    def name() -> str:
        return "together_ai"

    def get_config(self) -> dict[str, Any]:
        return self._with_api_base(
            {"api_key_env_var": self.api_key_env_var, "model_name": self.model_name}
        )

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> TogetherAIEmbeddingFunction:
        api_key_env_var = config.get("api_key_env_var")
        model_name = config.get("model_name")
        if api_key_env_var is None or model_name is None:
            raise ValueError("api_key_env_var and model_name must be provided")
        return TogetherAIEmbeddingFunction(
            model_name=model_name,
            api_key_env_var=api_key_env_var,
            api_base=config.get("api_base", TogetherAIEmbeddingFunction.DEFAULT_API_BASE),
        )

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        _refuse_change(new, "model_name")


@register_embedding_function
class CloudflareWorkersAIEmbeddingFunction(_RemoteFunction):
    """Cloudflare Workers AI: ``POST {api_base}/{account_id}/ai/run/{model_name}`` with
    ``{"text": [...]}``, answered by ``{"result": {"data": [...]}}``; through an AI
    Gateway (``gateway_id``), ``{gateway_base}/{account_id}/{gateway_id}/workers-ai/
    {model_name}``."""

    DEFAULT_API_BASE = "https://api.cloudflare.com/client/v4/accounts"
    DEFAULT_GATEWAY_BASE = "https://gateway.ai.cloudflare.com/v1"

    def __init__(
        self,
        model_name: str,
        account_id: str,
        api_key: str | None = None,
        api_key_env_var: str = "CHROMA_CLOUDFLARE_API_KEY",
        gateway_id: str | None = None,
        api_base: str | None = None,
    ) -> None:
        self.model_name = model_name
        self.account_id = account_id
        self.api_key_env_var, self._api_key = key_from_environment(
            api_key, api_key_env_var, "CLOUDFLARE_API_KEY"
        )
        self.gateway_id = gateway_id
        default = self.DEFAULT_GATEWAY_BASE if gateway_id else self.DEFAULT_API_BASE
        self.api_base = api_base or default
        self._default_base = default

    @property
    def _url(self) -> str:
        base = self.api_base.rstrip("/")
        if self.gateway_id:
            return f"{base}/{self.account_id}/{self.gateway_id}/workers-ai/{self.model_name}"
        return f"{base}/{self.account_id}/ai/run/{self.model_name}"

    def __call__(self, input: Documents) -> Embeddings:
        _texts_only("Cloudflare Workers AI", input)
        body = post_json(
            "Cloudflare Workers AI",
            self._url,
            {"text": list(input)},
            headers={**bearer(self._api_key), "Accept-Encoding": "identity"},
            check_status=False,
        )
        embeddings: Embeddings = field("Cloudflare Workers AI", body, "result", "data")
        return embeddings

    @staticmethod
    def name() -> str:
        return "cloudflare_workers_ai"

    def get_config(self) -> dict[str, Any]:
        config = {
            "api_key_env_var": self.api_key_env_var,
            "model_name": self.model_name,
            "account_id": self.account_id,
            "gateway_id": self.gateway_id,
        }
        return (
            config if self.api_base == self._default_base else {**config, "api_base": self.api_base}
        )

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CloudflareWorkersAIEmbeddingFunction:
        return CloudflareWorkersAIEmbeddingFunction(
            model_name=config["model_name"],
            account_id=config["account_id"],
            api_key_env_var=config["api_key_env_var"],
            gateway_id=config.get("gateway_id"),
            api_base=config.get("api_base"),
        )

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        _refuse_change(new, "model_name")


@register_embedding_function
class BasetenEmbeddingFunction(_RemoteFunction):
    """A Baseten deployment's OpenAI-compatible endpoint: ``POST {api_base}/embeddings``
    (``api_base`` is the deployment's URL and is required)."""

    def __init__(
        self,
        api_key: str | None,
        api_base: str,
        api_key_env_var: str = "CHROMA_BASETEN_API_KEY",
    ) -> None:
        if api_key is not None:
            # Checked before the base URL, in chromadb's order.
            key_from_environment(api_key, api_key_env_var)
        self.api_key_env_var = (
            "BASETEN_API_KEY" if os.getenv("BASETEN_API_KEY") is not None else api_key_env_var
        )
        resolved = api_key or os.getenv(self.api_key_env_var)
        if not resolved:
            raise ValueError(
                f"API key not provided and {self.api_key_env_var} environment variable is not set."
            )
        self._api_key = resolved
        if not api_base:
            raise ValueError("The api_base argument must be provided.")
        self.api_base = api_base
        self.model_name = "baseten-embedding-model"

    def __call__(self, input: Documents) -> Embeddings:
        url = f"{self.api_base.rstrip('/')}/embeddings"
        payload = {"model": self.model_name, "input": list(input)}
        return _openai_shaped("Baseten", url, self._api_key, payload)

    @staticmethod
    def name() -> str:
        return "baseten"

    def get_config(self) -> dict[str, Any]:
        return {"api_base": self.api_base, "api_key_env_var": self.api_key_env_var}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> BasetenEmbeddingFunction:
        api_key_env_var = config.get("api_key_env_var")
        api_base = config.get("api_base")
        if api_key_env_var is None or api_base is None:
            raise ValueError(
                "Missing 'api_key_env_var' or 'api_base' in configuration for "
                "BasetenEmbeddingFunction."
            )
        return BasetenEmbeddingFunction(
            api_key=None, api_base=api_base, api_key_env_var=api_key_env_var
        )


@register_embedding_function
class MorphEmbeddingFunction(_RemoteFunction):
    """Morph (``POST {api_base}/embeddings``, OpenAI's shape with ``encoding_format``)."""

    DEFAULT_API_BASE = "https://api.morphllm.com/v1"

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "morph-embedding-v2",
        api_base: str = DEFAULT_API_BASE,
        encoding_format: str = "float",
        api_key_env_var: str = "MORPH_API_KEY",
    ) -> None:
        self.api_key_env_var, self._api_key = key_from_environment(api_key, api_key_env_var)
        self.model_name = model_name
        self.api_base = api_base
        self.encoding_format = encoding_format

    def __call__(self, input: Documents) -> Embeddings:
        if not input:
            return []
        url = f"{self.api_base.rstrip('/')}/embeddings"
        payload = {
            "model": self.model_name,
            "input": list(input),
            "encoding_format": self.encoding_format,
        }
        vectors = _openai_shaped("Morph", url, self._api_key, payload)
        return [np.asarray(_float_vector(vector), dtype=np.float32) for vector in vectors]

    @staticmethod
    def name() -> str:
        return "morph"

    def get_config(self) -> dict[str, Any]:
        return {
            "api_key_env_var": self.api_key_env_var,
            "model_name": self.model_name,
            "api_base": self.api_base,
            "encoding_format": self.encoding_format,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MorphEmbeddingFunction:
        return MorphEmbeddingFunction(
            api_key_env_var=config["api_key_env_var"],
            model_name=config["model_name"],
            api_base=config.get("api_base") or MorphEmbeddingFunction.DEFAULT_API_BASE,
            encoding_format=config.get("encoding_format") or "float",
        )

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        _refuse_change(new, "model_name")


def _float_vector(vector: Any) -> Any:
    """An OpenAI-shaped embedding: a list of floats, or (``encoding_format="base64"``)
    little-endian float32 bytes in base64."""
    if isinstance(vector, str):
        return np.frombuffer(base64.b64decode(vector), dtype="<f4")
    return vector


@register_embedding_function
class PerplexityEmbeddingFunction(_RemoteFunction):
    """Perplexity (``POST {api_base}/v1/embeddings``); its vectors come as base64 int8."""

    DEFAULT_API_BASE = "https://api.perplexity.ai"

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "pplx-embed-v1-0.6b",
        api_key_env_var: str = "PERPLEXITY_API_KEY",
        dimensions: int | None = None,
        api_base: str = DEFAULT_API_BASE,
    ) -> None:
        self.api_key_env_var, self._api_key = key_from_environment(
            api_key, api_key_env_var, "PERPLEXITY_API_KEY"
        )
        self.model_name = model_name
        self.dimensions = dimensions
        self.api_base = api_base

    def __call__(self, input: Documents) -> Embeddings:
        url = f"{self.api_base.rstrip('/')}/v1/embeddings"
        payload: dict[str, Any] = {"input": list(input), "model": self.model_name}
        if self.dimensions is not None:
            payload["dimensions"] = self.dimensions
        vectors = _openai_shaped("Perplexity", url, self._api_key, payload)
        return [
            np.frombuffer(base64.b64decode(vector), dtype=np.int8).astype(np.float32)
            for vector in vectors
        ]

    @staticmethod
    def name() -> str:
        return "perplexity"

    def get_config(self) -> dict[str, Any]:
        return self._with_api_base(
            {
                "api_key_env_var": self.api_key_env_var,
                "model_name": self.model_name,
                "dimensions": self.dimensions,
            }
        )

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> PerplexityEmbeddingFunction:
        return PerplexityEmbeddingFunction(
            api_key_env_var=config["api_key_env_var"],
            model_name=config["model_name"],
            dimensions=config.get("dimensions"),
            api_base=config.get("api_base", PerplexityEmbeddingFunction.DEFAULT_API_BASE),
        )

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        _refuse_change(new, "model_name")


@register_embedding_function
class RoboflowEmbeddingFunction(EmbeddingFunction[Embeddable]):
    """Roboflow's CLIP inference: texts to ``POST {api_url}/clip/embed_text`` as
    ``{"text": ...}``, images (as JPEG) to ``/clip/embed_image`` as ``{"image": {"type":
    "base64", "value": ...}}``, the key in the ``api_key`` query parameter; answers are
    ``{"embeddings": [[...]]}``. One request per item, as chromadb sends them."""

    def __init__(
        self,
        api_key: str | None = None,
        api_url: str = "https://infer.roboflow.com",
        api_key_env_var: str = "CHROMA_ROBOFLOW_API_KEY",
    ) -> None:
        self.api_key_env_var, self._api_key = key_from_environment(
            api_key, api_key_env_var, "ROBOFLOW_API_KEY"
        )
        self.api_url = api_url
        self._image_module = require("PIL.Image", "pillow", "RoboflowEmbeddingFunction")

    def _embed_one(self, item: Any) -> Any:
        payload: dict[str, Any]
        if isinstance(item, str):
            route, payload = "embed_text", {"text": item}
        else:
            buffer = io.BytesIO()
            self._image_module.fromarray(np.asarray(item)).save(buffer, format="JPEG")
            encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
            route, payload = "embed_image", {"image": {"type": "base64", "value": encoded}}
        url = f"{self.api_url.rstrip('/')}/clip/{route}?api_key={self._api_key}"
        body = post_json("Roboflow", url, payload, check_status=False)
        return np.asarray(field("Roboflow", body, "embeddings", 0), dtype=np.float32)

    def __call__(self, input: Embeddable) -> Embeddings:
        return [self._embed_one(item) for item in input]

    def default_space(self) -> Space:
        return "cosine"

    @staticmethod
    def name() -> str:
        return "roboflow"

    def get_config(self) -> dict[str, Any]:
        return {"api_key_env_var": self.api_key_env_var, "api_url": self.api_url}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> RoboflowEmbeddingFunction:
        return RoboflowEmbeddingFunction(
            api_key_env_var=config["api_key_env_var"], api_url=config["api_url"]
        )


class ChromaCloudQwenEmbeddingModel(Enum):
    QWEN3_EMBEDDING_0p6B = "Qwen/Qwen3-Embedding-0.6B"


class ChromaCloudQwenEmbeddingTarget(Enum):
    DOCUMENTS = "documents"
    QUERY = "query"


ChromaCloudQwenEmbeddingInstructions = dict[str, dict[ChromaCloudQwenEmbeddingTarget, str]]

CHROMA_CLOUD_QWEN_DEFAULT_INSTRUCTIONS: ChromaCloudQwenEmbeddingInstructions = {
    "nl_to_code": {
        ChromaCloudQwenEmbeddingTarget.DOCUMENTS: "",
        ChromaCloudQwenEmbeddingTarget.QUERY: (
            "Given a question about coding, retrieval code or passage that can solve "
            "user's question"
        ),
    }
}

DEFAULT_CHROMA_EMBED_URL = "https://embed.trychroma.com"


@register_embedding_function
class ChromaCloudQwenEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma Cloud's hosted Qwen3 embedding model: ``POST`` to ``CHROMA_EMBED_URL``
    (default https://embed.trychroma.com) with ``{"instructions", "texts"}``, the key in
    ``x-chroma-token`` and the model in ``x-chroma-embedding-model``. The key comes from
    `api_key_env_var` (chromadb also takes a Chroma Cloud client's key)."""

    def __init__(
        self,
        model: ChromaCloudQwenEmbeddingModel,
        task: str | None,
        instructions: ChromaCloudQwenEmbeddingInstructions = CHROMA_CLOUD_QWEN_DEFAULT_INSTRUCTIONS,
        api_key_env_var: str = "CHROMA_API_KEY",
    ) -> None:
        self.api_key_env_var = api_key_env_var
        key = os.getenv(api_key_env_var)
        if not key:
            raise ValueError(
                f"API key not found in environment variable {api_key_env_var} "
                "or in any existing client instances"
            )
        self._api_key = key
        self.model = model
        self.task = task
        self.instructions = instructions
        self._api_url = (os.environ.get("CHROMA_EMBED_URL") or DEFAULT_CHROMA_EMBED_URL).rstrip("/")

    def _embed(self, input: Documents, target: ChromaCloudQwenEmbeddingTarget) -> Embeddings:
        if not input:
            return []
        instruction = ""
        if self.task and self.task in self.instructions:
            instruction = self.instructions[self.task][target]
        headers = {"x-chroma-token": self._api_key, "x-chroma-embedding-model": self.model.value}
        body = post_json(
            "Chroma Cloud",
            self._api_url,
            {"instructions": instruction, "texts": list(input)},
            headers=headers,
        )
        vectors = field("Chroma Cloud", body, "embeddings")
        return [np.asarray(vector, dtype=np.float32) for vector in vectors]

    def __call__(self, input: Documents) -> Embeddings:
        return self._embed(input, ChromaCloudQwenEmbeddingTarget.DOCUMENTS)

    def embed_query(self, input: Documents) -> Embeddings:
        return self._embed(input, ChromaCloudQwenEmbeddingTarget.QUERY)

    def default_space(self) -> Space:
        return "cosine"

    @staticmethod
    def name() -> str:
        return "chroma-cloud-qwen"

    def get_config(self) -> dict[str, Any]:
        return {
            "api_key_env_var": self.api_key_env_var,
            "model": self.model.value,
            "task": self.task,
            "instructions": {
                task: {target.value: text for target, text in targets.items()}
                for task, targets in self.instructions.items()
            },
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaCloudQwenEmbeddingFunction:
        stored = config.get("instructions")
        instructions = (
            CHROMA_CLOUD_QWEN_DEFAULT_INSTRUCTIONS
            if stored is None
            else {
                task: {ChromaCloudQwenEmbeddingTarget(target): text for target, text in t.items()}
                for task, t in stored.items()
            }
        )
        return ChromaCloudQwenEmbeddingFunction(
            model=ChromaCloudQwenEmbeddingModel(config["model"]),
            task=config["task"],
            instructions=instructions,
            api_key_env_var=config.get("api_key_env_var") or "CHROMA_API_KEY",
        )

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        _refuse_change(new, "model", "task", "instructions")
