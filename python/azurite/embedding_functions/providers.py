"""HTTP provider functions with their own request formats: Cohere, Hugging Face (Inference
API and text-embeddings-inference servers), Google Gemini and Ollama. Each follows the
provider's documented REST API over httpx; no provider SDK is needed."""

from __future__ import annotations

from typing import Any

from azurite.embedding_functions._http import (
    batches,
    bearer,
    field,
    post_json,
    resolve_api_key,
)
from azurite.embedding_functions.base import (
    Documents,
    EmbeddingFunction,
    Embeddings,
    Space,
    known_embedding_functions,
    register_embedding_function,
)


class _RemoteFunction(EmbeddingFunction[Documents]):
    """Documents are embedded batch by batch; providers are asked for cosine spaces."""

    BATCH_SIZE = 96
    DEFAULT_API_BASE = ""

    def _with_api_base(self, config: dict[str, Any]) -> dict[str, Any]:
        """`config`, plus ``api_base`` when it is not the provider's own: a collection
        reopened later must reach the same server (Chroma's configs have no such key
        because its SDKs always call the provider)."""
        api_base = getattr(self, "api_base", self.DEFAULT_API_BASE)
        return config if api_base == self.DEFAULT_API_BASE else {**config, "api_base": api_base}

    def _embed_batch(self, texts: list[str], *, is_query: bool) -> list[list[float]]:
        raise NotImplementedError

    def _embed(self, input: Documents, *, is_query: bool) -> Embeddings:
        vectors: list[Any] = []
        for batch in batches(list(input), self.BATCH_SIZE):
            vectors.extend(self._embed_batch(batch, is_query=is_query))
        return vectors

    def __call__(self, input: Documents) -> Embeddings:
        return self._embed(input, is_query=False)

    def default_space(self) -> Space:
        return "cosine"


@register_embedding_function
class CohereEmbeddingFunction(_RemoteFunction):
    """Cohere embeddings (``POST https://api.cohere.com/v1/embed``); documents are sent
    as ``search_document`` and queries as ``search_query``."""

    DEFAULT_API_BASE = "https://api.cohere.com"

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "large",
        api_key_env_var: str = "CHROMA_COHERE_API_KEY",
        api_base: str = DEFAULT_API_BASE,
    ) -> None:
        self.model_name = model_name
        self.api_key_env_var = api_key_env_var
        self._api_key = resolve_api_key(api_key, api_key_env_var, "Cohere")
        self.api_base = api_base

    def _embed_batch(self, texts: list[str], *, is_query: bool) -> list[list[float]]:
        payload = {
            "texts": texts,
            "model": self.model_name,
            "input_type": "search_query" if is_query else "search_document",
        }
        url = f"{self.api_base.rstrip('/')}/v1/embed"
        body = post_json("Cohere", url, payload, headers=bearer(self._api_key))
        embeddings: list[list[float]] = field("Cohere", body, "embeddings")
        return embeddings

    def embed_query(self, input: Documents) -> Embeddings:
        return self._embed(input, is_query=True)

    def default_space(self) -> Space:
        return "ip" if self.model_name == "embed-multilingual-v2.0" else "cosine"

    @staticmethod
    def name() -> str:
        return "cohere"

    def get_config(self) -> dict[str, Any]:
        return self._with_api_base(
            {"api_key_env_var": self.api_key_env_var, "model_name": self.model_name}
        )

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CohereEmbeddingFunction:
        return CohereEmbeddingFunction(
            model_name=config["model_name"],
            api_key_env_var=config.get("api_key_env_var", "CHROMA_COHERE_API_KEY"),
            api_base=config.get("api_base", CohereEmbeddingFunction.DEFAULT_API_BASE),
        )


@register_embedding_function
class HuggingFaceEmbeddingFunction(_RemoteFunction):
    """The Hugging Face Inference API's feature-extraction pipeline
    (``POST {api_base}/pipeline/feature-extraction/{model_name}``)."""

    DEFAULT_API_BASE = "https://api-inference.huggingface.co"

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "sentence-transformers/all-MiniLM-L6-v2",
        api_key_env_var: str = "CHROMA_HUGGINGFACE_API_KEY",
        api_base: str = DEFAULT_API_BASE,
    ) -> None:
        self.model_name = model_name
        self.api_key_env_var = api_key_env_var
        self._api_key = resolve_api_key(api_key, api_key_env_var, "Hugging Face")
        self.api_base = api_base

    def _embed_batch(self, texts: list[str], *, is_query: bool) -> list[list[float]]:
        url = f"{self.api_base.rstrip('/')}/pipeline/feature-extraction/{self.model_name}"
        payload = {"inputs": texts, "options": {"wait_for_model": True}}
        embeddings: list[list[float]] = post_json(
            "Hugging Face", url, payload, headers=bearer(self._api_key)
        )
        return embeddings

    @staticmethod
    def name() -> str:
        return "huggingface"

    def get_config(self) -> dict[str, Any]:
        return self._with_api_base(
            {"api_key_env_var": self.api_key_env_var, "model_name": self.model_name}
        )

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HuggingFaceEmbeddingFunction:
        return HuggingFaceEmbeddingFunction(
            model_name=config["model_name"],
            api_key_env_var=config.get("api_key_env_var", "CHROMA_HUGGINGFACE_API_KEY"),
            api_base=config.get("api_base", HuggingFaceEmbeddingFunction.DEFAULT_API_BASE),
        )


@register_embedding_function
class HuggingFaceEmbeddingServer(_RemoteFunction):
    """A Hugging Face text-embeddings-inference server: ``POST {url}`` with
    ``{"inputs": [...]}`` (``url`` is usually ``http://host:port/embed``)."""

    def __init__(
        self,
        url: str,
        api_key_env_var: str | None = None,
        api_key: str | None = None,
    ) -> None:
        self.url = url
        self.api_key_env_var = api_key_env_var
        # The key is optional: local servers usually have none.
        self._api_key = (
            resolve_api_key(api_key, api_key_env_var, "Hugging Face server")
            if api_key or api_key_env_var
            else None
        )

    def _embed_batch(self, texts: list[str], *, is_query: bool) -> list[list[float]]:
        headers = bearer(self._api_key) if self._api_key else None
        embeddings: list[list[float]] = post_json(
            "Hugging Face server", self.url, {"inputs": texts}, headers=headers
        )
        return embeddings

    @staticmethod
    def name() -> str:
        return "huggingface_server"

    def get_config(self) -> dict[str, Any]:
        return {"url": self.url, "api_key_env_var": self.api_key_env_var}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HuggingFaceEmbeddingServer:
        return HuggingFaceEmbeddingServer(
            url=config["url"], api_key_env_var=config.get("api_key_env_var")
        )


@register_embedding_function
class GoogleGeminiEmbeddingFunction(_RemoteFunction):
    """Google Gemini embeddings through the Gemini API's REST interface
    (``POST {api_base}/models/{model}:batchEmbedContents``, key in ``x-goog-api-key``).

    The arguments are chromadb's, in its order, plus ``api_key`` and ``api_base``. As in
    chromadb no task type is sent unless one is given; with ``RETRIEVAL_DOCUMENT``, queries
    are sent as ``RETRIEVAL_QUERY`` (Google's advice; chromadb sends both alike). Vertex AI
    (``vertexai=True``) needs Google Cloud credentials and is not supported."""

    BATCH_SIZE = 100  # the API's limit of requests per batch
    DEFAULT_API_BASE = "https://generativelanguage.googleapis.com/v1beta"

    def __init__(
        self,
        model_name: str = "gemini-embedding-001",
        task_type: str | None = None,
        dimension: int | None = None,
        api_key_env_var: str = "GEMINI_API_KEY",
        vertexai: bool | None = None,
        project: str | None = None,
        location: str | None = None,
        api_key: str | None = None,
        api_base: str = DEFAULT_API_BASE,
    ) -> None:
        if vertexai:
            raise ValueError(
                "vertexai=True is not supported: Azurite's Gemini function calls the Gemini "
                "API with an API key (set GEMINI_API_KEY or pass api_key=...)"
            )
        self.model_name = model_name
        self.task_type = task_type
        self.dimension = dimension
        self.api_key_env_var = api_key_env_var
        self.vertexai = vertexai
        self.project = project
        self.location = location
        self._api_key = resolve_api_key(api_key, api_key_env_var, "Google Gemini")
        self.api_base = api_base

    def _request(self, text: str, task_type: str | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": f"models/{self.model_name}",
            "content": {"parts": [{"text": text}]},
        }
        if task_type:
            request["taskType"] = task_type
        if self.dimension:
            request["outputDimensionality"] = self.dimension
        return request

    def _embed_batch(self, texts: list[str], *, is_query: bool) -> list[list[float]]:
        task_type = self.task_type
        if is_query and task_type == "RETRIEVAL_DOCUMENT":
            task_type = "RETRIEVAL_QUERY"
        url = f"{self.api_base.rstrip('/')}/models/{self.model_name}:batchEmbedContents"
        payload = {"requests": [self._request(text, task_type) for text in texts]}
        body = post_json("Google Gemini", url, payload, headers={"x-goog-api-key": self._api_key})
        embeddings = field("Google Gemini", body, "embeddings")
        return [field("Google Gemini", item, "values") for item in embeddings]

    def embed_query(self, input: Documents) -> Embeddings:
        return self._embed(input, is_query=True)

    @staticmethod
    def name() -> str:
        return "google_gemini"

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "model_name": self.model_name,
            "api_key_env_var": self.api_key_env_var,
            "vertexai": self.vertexai,
            "project": self.project,
            "location": self.location,
        }
        if self.task_type is not None:
            config["task_type"] = self.task_type
        if self.dimension is not None:
            config["dimension"] = self.dimension
        return self._with_api_base(config)

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> GoogleGeminiEmbeddingFunction:
        return GoogleGeminiEmbeddingFunction(
            model_name=config["model_name"],
            task_type=config.get("task_type"),
            dimension=config.get("dimension"),
            api_key_env_var=config.get("api_key_env_var", "GEMINI_API_KEY"),
            vertexai=config.get("vertexai"),
            project=config.get("project"),
            location=config.get("location"),
            api_base=config.get("api_base", GoogleGeminiEmbeddingFunction.DEFAULT_API_BASE),
        )

    def validate_config_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        if "model_name" in new and new["model_name"] != old.get("model_name"):
            raise ValueError("The model name cannot be changed after the collection is created.")


#: Chroma's alias of the Gemini function, under its old registry name as well.
GoogleGenaiEmbeddingFunction = GoogleGeminiEmbeddingFunction
known_embedding_functions.setdefault("google_genai", GoogleGeminiEmbeddingFunction)


@register_embedding_function
class OllamaEmbeddingFunction(_RemoteFunction):
    """A local Ollama server: ``POST {url}/api/embed`` with ``{"model", "input"}``."""

    BATCH_SIZE = 512

    def __init__(
        self,
        url: str = "http://localhost:11434",
        model_name: str = "chroma/all-minilm-l6-v2-f32",
        timeout: int = 60,
    ) -> None:
        self.url = url
        self.model_name = model_name
        self.timeout = timeout

    def _embed_batch(self, texts: list[str], *, is_query: bool) -> list[list[float]]:
        endpoint = f"{self.url.rstrip('/')}/api/embed"
        payload = {"model": self.model_name, "input": texts}
        body = post_json("Ollama", endpoint, payload, timeout=self.timeout)
        embeddings: list[list[float]] = field("Ollama", body, "embeddings")
        return embeddings

    @staticmethod
    def name() -> str:
        return "ollama"

    def get_config(self) -> dict[str, Any]:
        return {"url": self.url, "model_name": self.model_name, "timeout": self.timeout}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OllamaEmbeddingFunction:
        return OllamaEmbeddingFunction(
            url=config["url"], model_name=config["model_name"], timeout=config["timeout"]
        )
