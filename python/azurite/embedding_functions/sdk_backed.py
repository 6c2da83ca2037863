"""Functions whose client is a provider's Python SDK, as in chromadb 1.5.9: Amazon Bedrock
(boto3), Google PaLM / Generative AI (google-generativeai), Google Vertex AI (vertexai),
Nomic (nomic), Instructor (InstructorEmbedding), Text2Vec (text2vec) and LangChain
(langchain-core). Each SDK is imported when the function is created, and a missing one is
chromadb's ValueError naming the ``pip install`` to run."""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from typing import Any, TypedDict

import numpy as np

from azurite.embedding_functions._http import key_from_environment
from azurite.embedding_functions.base import (
    Documents,
    Embeddable,
    EmbeddingFunction,
    Embeddings,
    Space,
    known_embedding_functions,
    register_embedding_function,
)

_NOT_PERSISTED = "cannot be changed after the embedding function has been initialized."


def _sdk(module: str, message: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ValueError(message) from None


def _texts_only(provider: str, input: Any) -> None:
    if not all(isinstance(item, str) for item in input):
        raise ValueError(f"{provider} only supports text documents, not images")


def _refuse_change(new_config: dict[str, Any], **keys: str) -> None:
    for key, words in keys.items():
        if key in new_config:
            raise ValueError(f"The {words} {_NOT_PERSISTED}")


def _float32(vectors: Any) -> Embeddings:
    return [np.asarray(vector, dtype=np.float32) for vector in vectors]


class _CosineFunction(EmbeddingFunction[Documents]):
    def default_space(self) -> Space:
        return "cosine"


@register_embedding_function
class AmazonBedrockEmbeddingFunction(EmbeddingFunction[Documents]):
    """Amazon Bedrock through a boto3 session: one ``InvokeModel`` call per text on the
    ``bedrock-runtime`` client, body ``{"inputText": ...}``, answer ``{"embedding"}``.
    `kwargs` go to ``session.client`` (e.g. ``endpoint_url``, ``region_name``) and are
    recorded, so they must be plain values."""

    def __init__(
        self, session: Any, model_name: str = "amazon.titan-embed-text-v1", **kwargs: Any
    ) -> None:
        self.model_name = model_name
        for key, value in kwargs.items():
            if not isinstance(value, (str, int, float, bool, list, dict, tuple)):
                raise ValueError(f"Keyword argument {key} is not a primitive type")
        self.kwargs = kwargs
        self._session_args = {
            key: getattr(session, key)
            for key in ("region_name", "profile_name")
            if getattr(session, key, None)
        }
        self._client = session.client(service_name="bedrock-runtime", **kwargs)

    def __call__(self, input: Documents) -> Embeddings:
        vectors = []
        for text in input:
            response = self._client.invoke_model(
                body=json.dumps({"inputText": text}),
                modelId=self.model_name,
                accept="application/json",
                contentType="application/json",
            )
            vectors.append(json.loads(response.get("body").read()).get("embedding"))
        return _float32(vectors)

    @staticmethod
    def name() -> str:
        return "amazon_bedrock"

    def get_config(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "session_args": self._session_args,
            "kwargs": self.kwargs,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> AmazonBedrockEmbeddingFunction:
        boto3 = _sdk(
            "boto3",
            "The boto3 python package is not installed. Please install it with `pip install boto3`",
        )
        session_args = config.get("session_args")
        session = boto3.Session() if session_args is None else boto3.Session(**session_args)
        return AmazonBedrockEmbeddingFunction(
            session=session, model_name=config["model_name"], **config.get("kwargs", {})
        )

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        _refuse_change(new, model_name="model name")


_GENAI_MISSING = (
    "The Google Generative AI python package is not installed. Please install it with "
    "`pip install google-generativeai`"
)


def _google_key(api_key: str | None, api_key_env_var: str) -> tuple[str, str]:
    return key_from_environment(api_key, api_key_env_var, "GOOGLE_API_KEY")


def _client_header() -> dict[str, Any]:
    from azurite import __version__

    return {"headers": {"x-goog-api-client": f"chroma/{__version__}"}}


@register_embedding_function
class GooglePalmEmbeddingFunction(_CosineFunction):
    """Google PaLM embeddings through ``google.generativeai.generate_embeddings``."""

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "models/embedding-gecko-001",
        api_key_env_var: str = "CHROMA_GOOGLE_PALM_API_KEY",
    ) -> None:
        palm = _sdk("google.generativeai", _GENAI_MISSING)
        self.api_key_env_var, key = _google_key(api_key, api_key_env_var)
        self.model_name = model_name
        palm.configure(api_key=key, client_options=_client_header())
        self._palm = palm

    def __call__(self, input: Documents) -> Embeddings:
        _texts_only("Google PaLM", input)
        return _float32(
            self._palm.generate_embeddings(model=self.model_name, text=text)["embedding"]
            for text in input
        )

    @staticmethod
    def name() -> str:
        return "google_palm"

    def get_config(self) -> dict[str, Any]:
        return {"api_key_env_var": self.api_key_env_var, "model_name": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> GooglePalmEmbeddingFunction:
        return GooglePalmEmbeddingFunction(
            api_key_env_var=config["api_key_env_var"], model_name=config["model_name"]
        )

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        _refuse_change(new, model_name="model name")


@register_embedding_function
class GoogleGenerativeAiEmbeddingFunction(_CosineFunction):
    """Gemini embeddings through ``google.generativeai.embed_content``, one call per text."""

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "gemini-embedding-001",
        task_type: str = "RETRIEVAL_DOCUMENT",
        api_key_env_var: str = "GEMINI_API_KEY",
        dimension: int | None = None,
    ) -> None:
        genai = _sdk("google.generativeai", _GENAI_MISSING)
        self.api_key_env_var, key = _google_key(api_key, api_key_env_var)
        self.model_name = model_name
        self.task_type = task_type
        self.dimension = dimension
        genai.configure(api_key=key, client_options=_client_header())
        self._genai = genai

    def __call__(self, input: Documents) -> Embeddings:
        _texts_only("Google Generative AI", input)
        vectors = []
        for text in input:
            arguments: dict[str, Any] = {
                "model": self.model_name,
                "content": text,
                "task_type": self.task_type,
            }
            if self.dimension is not None:
                arguments["output_dimensionality"] = self.dimension
            vectors.append(self._genai.embed_content(**arguments)["embedding"])
        return _float32(vectors)

    @staticmethod
    def name() -> str:
        return "google_generative_ai"

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "api_key_env_var": self.api_key_env_var,
            "model_name": self.model_name,
            "task_type": self.task_type,
        }
        if self.dimension is not None:
            config["dimension"] = self.dimension
        return config

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> GoogleGenerativeAiEmbeddingFunction:
        return GoogleGenerativeAiEmbeddingFunction(
            api_key_env_var=config["api_key_env_var"],
            model_name=config["model_name"],
            task_type=config["task_type"],
            dimension=config.get("dimension"),
        )

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        _refuse_change(new, model_name="model name", task_type="task type", dimension="dimension")


@register_embedding_function
class GoogleVertexEmbeddingFunction(_CosineFunction):
    """Vertex AI text embeddings through ``vertexai.language_models.TextEmbeddingModel``."""

    def __init__(
        self,
        api_key: str | None = None,
        model_name: str = "textembedding-gecko",
        project_id: str = "cloud-large-language-models",
        region: str = "us-central1",
        api_key_env_var: str = "CHROMA_GOOGLE_VERTEX_API_KEY",
    ) -> None:
        missing = (
            "The vertexai python package is not installed. Please install it with "
            "`pip install google-cloud-aiplatform`"
        )
        vertexai = _sdk("vertexai", missing)
        language_models = _sdk("vertexai.language_models", missing)
        self.api_key_env_var, _ = _google_key(api_key, api_key_env_var)
        self.model_name = model_name
        self.project_id = project_id
        self.region = region
        header = _client_header()["headers"]["x-goog-api-client"]
        vertexai.init(
            project=project_id,
            location=region,
            request_metadata=[("x-goog-api-client", header)],
        )
        self._model = language_models.TextEmbeddingModel.from_pretrained(model_name)

    def __call__(self, input: Documents) -> Embeddings:
        _texts_only("Google Vertex", input)
        return _float32(self._model.get_embeddings([text])[0].values for text in input)

    @staticmethod
    def name() -> str:
        return "google_vertex"

    def get_config(self) -> dict[str, Any]:
        return {
            "api_key_env_var": self.api_key_env_var,
            "model_name": self.model_name,
            "project_id": self.project_id,
            "region": self.region,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> GoogleVertexEmbeddingFunction:
        return GoogleVertexEmbeddingFunction(
            api_key_env_var=config["api_key_env_var"],
            model_name=config["model_name"],
            project_id=config["project_id"],
            region=config["region"],
        )

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        _refuse_change(new, model_name="model name", project_id="project ID", region="region")


class NomicQueryConfig(TypedDict):
    task_type: str


@register_embedding_function
class NomicEmbeddingFunction(_CosineFunction):
    """Nomic embeddings through ``nomic.embed.text``; queries use the task type of
    `query_config` when one is given. The key is only read from `api_key_env_var`."""

    def __init__(
        self,
        model: str,
        task_type: str,
        query_config: NomicQueryConfig | None,
        api_key_env_var: str = "NOMIC_API_KEY",
    ) -> None:
        nomic = _sdk(
            "nomic",
            "The nomic python package is not installed. Please install it with `pip install nomic`",
        )
        self.model = model
        self.task_type = task_type
        self.api_key_env_var = api_key_env_var
        self.query_config = query_config
        key_from_environment(None, api_key_env_var)
        self._embed = nomic.embed

    def _text(self, input: Documents, task_type: str) -> Embeddings:
        output = self._embed.text(model=self.model, texts=input, task_type=task_type)
        return _float32(data.embedding for data in output.data)

    def __call__(self, input: Documents) -> Embeddings:
        _texts_only("Nomic", input)
        return self._text(input, self.task_type)

    def embed_query(self, input: Documents) -> Embeddings:
        if not all(isinstance(item, str) for item in input):
            raise ValueError("Nomic only supports text queries, not images")
        query_type = self.query_config.get("task_type") if self.query_config else None
        return self._text(input, query_type or self.task_type)

    @staticmethod
    def name() -> str:
        return "nomic"

    def get_config(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "api_key_env_var": self.api_key_env_var,
            "task_type": self.task_type,
            "query_config": self.query_config,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> NomicEmbeddingFunction:
        return NomicEmbeddingFunction(
            model=config["model"],
            api_key_env_var=config["api_key_env_var"],
            task_type=config["task_type"],
            query_config=config.get("query_config"),
        )

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        _refuse_change(new, model="model")


@register_embedding_function
class InstructorEmbeddingFunction(_CosineFunction):
    """An INSTRUCTOR model (``InstructorEmbedding``), each text paired with `instruction`
    when one is given."""

    def __init__(
        self,
        model_name: str = "hkunlp/instructor-base",
        device: str = "cpu",
        instruction: str | None = None,
    ) -> None:
        instructor = _sdk(
            "InstructorEmbedding",
            "The InstructorEmbedding python package is not installed. Please install it "
            "with `pip install InstructorEmbedding`",
        )
        self.model_name = model_name
        self.device = device
        self.instruction = instruction
        self._model = instructor.INSTRUCTOR(model_name_or_path=model_name, device=device)

    def __call__(self, input: Documents) -> Embeddings:
        _texts_only("Instructor", input)
        texts: list[Any] = (
            list(input)
            if self.instruction is None
            else [[self.instruction, text] for text in input]
        )
        return _float32(self._model.encode(texts, convert_to_numpy=True))

    @staticmethod
    def name() -> str:
        return "instructor"

    def get_config(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "device": self.device,
            "instruction": self.instruction,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> InstructorEmbeddingFunction:
        return InstructorEmbeddingFunction(
            model_name=config["model_name"],
            device=config["device"],
            instruction=config.get("instruction"),
        )


@register_embedding_function
class Text2VecEmbeddingFunction(_CosineFunction):
    """A text2vec ``SentenceModel`` (Chinese sentence embeddings by default)."""

    def __init__(self, model_name: str = "shibing624/text2vec-base-chinese") -> None:
        text2vec = _sdk(
            "text2vec",
            "The text2vec python package is not installed. Please install it with "
            "`pip install text2vec`",
        )
        self.model_name = model_name
        self._model = text2vec.SentenceModel(model_name_or_path=model_name)

    def __call__(self, input: Documents) -> Embeddings:
        _texts_only("Text2Vec", input)
        return _float32(self._model.encode(list(input), convert_to_numpy=True))

    @staticmethod
    def name() -> str:
        return "text2vec"

    def get_config(self) -> dict[str, Any]:
        return {"model_name": self.model_name}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> Text2VecEmbeddingFunction:
        return Text2VecEmbeddingFunction(model_name=config["model_name"])


class ChromaLangchainEmbeddingFunction(EmbeddingFunction[Embeddable]):
    """Wraps a langchain-core ``Embeddings`` object. Its configuration only names the
    wrapped class: the LangChain object cannot be rebuilt from it, as in chromadb."""

    def __init__(self, embedding_function: Any) -> None:
        embeddings_module = _sdk(
            "langchain_core.embeddings",
            "The langchain_core python package is not installed. Please install it with "
            "`pip install langchain-core`",
        )
        if not isinstance(embedding_function, embeddings_module.Embeddings):
            raise ValueError(
                "The embedding_function must implement the Embeddings interface from "
                "langchain_core."
            )
        self.embedding_function = embedding_function
        self._embedding_function_class = type(embedding_function).__name__

    def embed_documents(self, documents: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = self.embedding_function.embed_documents(list(documents))
        return vectors

    def embed_query(self, query: str) -> list[float]:  # type: ignore[override]
        vector: list[float] = self.embedding_function.embed_query(query)
        return vector

    def embed_image(self, uris: list[str]) -> list[list[float]]:
        if not hasattr(self.embedding_function, "embed_image"):
            raise ValueError("The provided embedding function does not support image embeddings.")
        vectors: list[list[float]] = self.embedding_function.embed_image(uris)
        return vectors

    def __call__(self, input: Embeddable) -> Embeddings:
        # chromadb's LangChain data loader hands images over as ("images", uris).
        given: Any = input
        if isinstance(given, tuple) and len(given) == 2 and given[0] == "images":
            return _float32(self.embed_image(list(given[1])))
        return _float32(self.embed_documents(given))

    @staticmethod
    def name() -> str:
        return "langchain"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ChromaLangchainEmbeddingFunction:
        raise NotImplementedError(
            "Building a ChromaLangchainEmbeddingFunction from config is not supported. "
            "Please recreate the langchain embedding function and pass it to "
            "create_langchain_embedding."
        )

    def get_config(self) -> dict[str, Any]:
        return {
            "embedding_function_class": self._embedding_function_class,
            "note": "This is a placeholder config. You will need to recreate the langchain "
            "embedding function.",
        }

    def validate_config_update(self, old_config: dict[str, Any], new: dict[str, Any]) -> None:
        raise NotImplementedError(
            "Updating a ChromaLangchainEmbeddingFunction config is not supported. Please "
            "recreate the langchain embedding function and pass it to "
            "create_langchain_embedding."
        )


# chromadb registers it under this key while its name() is "langchain".
known_embedding_functions["chroma_langchain"] = ChromaLangchainEmbeddingFunction


def create_langchain_embedding(langchain_embedding_fn: Any) -> ChromaLangchainEmbeddingFunction:
    """chromadb's helper: wraps a LangChain embeddings object."""
    return ChromaLangchainEmbeddingFunction(embedding_function=langchain_embedding_fn)
