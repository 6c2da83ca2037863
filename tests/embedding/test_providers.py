"""HTTP provider functions against a real server on 127.0.0.1 speaking each provider's
format: request shape, auth header, batching, order of answers, errors, and what is
stored with a collection (never the key)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from PIL import Image

from azurite import Client
from azurite.embedding_functions import (
    CohereEmbeddingFunction,
    EmbeddingFunction,
    EmbeddingProviderError,
    EmbeddingProviderResponseError,
    GoogleGeminiEmbeddingFunction,
    HuggingFaceEmbeddingFunction,
    HuggingFaceEmbeddingServer,
    JinaEmbeddingFunction,
    MistralEmbeddingFunction,
    OllamaEmbeddingFunction,
    OpenAIEmbeddingFunction,
    SentenceTransformerEmbeddingFunction,
    VoyageAIEmbeddingFunction,
    config_to_embedding_function,
)

from .provider_server import (
    API_KEY,
    ProviderServer,
    cohere_answer,
    gemini_answer,
    inputs_answer,
    ollama_answer,
    openai_answer,
    vector,
)

BEARER = ("Authorization", f"Bearer {API_KEY}")


@dataclass
class Provider:
    """How to build a provider's function against `url`, and what its server expects."""

    make: Callable[[str], EmbeddingFunction[Any]]
    path: str
    answer: Callable[[dict[str, Any]], Any]
    auth: tuple[str, str] | None
    texts_of: Callable[[dict[str, Any]], list[str]]
    name: str


PROVIDERS = {
    "openai": Provider(
        lambda url: OpenAIEmbeddingFunction(api_key=API_KEY, api_base=f"{url}/v1"),
        "/v1/embeddings",
        openai_answer,
        BEARER,
        lambda body: body["input"],
        "openai",
    ),
    "jina": Provider(
        lambda url: JinaEmbeddingFunction(api_key=API_KEY, api_base=f"{url}/v1"),
        "/v1/embeddings",
        openai_answer,
        BEARER,
        lambda body: body["input"],
        "jina",
    ),
    "voyageai": Provider(
        lambda url: VoyageAIEmbeddingFunction(api_key=API_KEY, api_base=f"{url}/v1"),
        "/v1/embeddings",
        openai_answer,
        BEARER,
        lambda body: body["input"],
        "voyageai",
    ),
    "mistral": Provider(
        lambda url: MistralEmbeddingFunction(api_key=API_KEY, api_base=f"{url}/v1"),
        "/v1/embeddings",
        openai_answer,
        BEARER,
        lambda body: body["input"],
        "mistral",
    ),
    "cohere": Provider(
        lambda url: CohereEmbeddingFunction(api_key=API_KEY, api_base=url),
        "/v1/embed",
        cohere_answer,
        BEARER,
        lambda body: body["texts"],
        "cohere",
    ),
    "huggingface": Provider(
        lambda url: HuggingFaceEmbeddingFunction(api_key=API_KEY, api_base=url),
        "/pipeline/feature-extraction/sentence-transformers/all-MiniLM-L6-v2",
        inputs_answer,
        BEARER,
        lambda body: body["inputs"],
        "huggingface",
    ),
    "huggingface_server": Provider(
        lambda url: HuggingFaceEmbeddingServer(
            url=f"{url}/embed", api_key=API_KEY, api_key_env_var="HF_SERVER_KEY"
        ),
        "/embed",
        inputs_answer,
        BEARER,
        lambda body: body["inputs"],
        "huggingface_server",
    ),
    "google_gemini": Provider(
        lambda url: GoogleGeminiEmbeddingFunction(api_key=API_KEY, api_base=f"{url}/v1beta"),
        "/v1beta/models/gemini-embedding-001:batchEmbedContents",
        gemini_answer,
        ("x-goog-api-key", API_KEY),
        lambda body: [r["content"]["parts"][0]["text"] for r in body["requests"]],
        "google_gemini",
    ),
    "ollama": Provider(
        lambda url: OllamaEmbeddingFunction(url=url, model_name="all-minilm"),
        "/api/embed",
        ollama_answer,
        None,
        lambda body: body["input"],
        "ollama",
    ),
}


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> Provider:
    return PROVIDERS[request.param]


@pytest.fixture
def served(provider: Provider) -> Iterator[tuple[ProviderServer, str]]:
    server = ProviderServer({provider.path: provider.answer}, provider.auth)
    url = server.start()
    yield server, url
    server.stop()


def test_embeds_in_order_with_auth(provider: Provider, served: tuple[ProviderServer, str]) -> None:
    server, url = served
    texts = ["first text", "second text", "third"]
    vectors = provider.make(url)(texts)
    np.testing.assert_allclose(np.stack(vectors), [vector(t) for t in texts], atol=1e-7)
    (request,) = server.requests
    assert request.path == provider.path
    assert provider.texts_of(request.body) == texts
    if provider.auth is not None:
        assert request.headers[provider.auth[0]] == provider.auth[1]


def test_large_inputs_are_sent_in_batches(
    provider: Provider, served: tuple[ProviderServer, str]
) -> None:
    server, url = served
    function = provider.make(url)
    texts = [f"text {i}" for i in range(type(function).BATCH_SIZE + 3)]
    vectors = function(texts)
    assert [len(provider.texts_of(r.body)) for r in server.requests] == [len(texts) - 3, 3]
    np.testing.assert_allclose(vectors[-1], vector(texts[-1]), atol=1e-7)


@pytest.mark.parametrize(
    ("status", "body", "detail"),
    [
        (429, {"error": {"message": "Rate limit reached"}}, "Rate limit reached"),
        (500, {"message": "internal failure"}, "internal failure"),
        (400, {"detail": "input too long"}, "input too long"),
    ],
)
def test_error_responses_become_clear_exceptions(
    provider: Provider,
    served: tuple[ProviderServer, str],
    status: int,
    body: Any,
    detail: str,
) -> None:
    server, url = served
    server.fail_with = (status, body)
    with pytest.raises(EmbeddingProviderError, match=f"HTTP {status}: {detail}"):
        provider.make(url)(["a"])


@pytest.mark.parametrize("keyed", [p for p in sorted(PROVIDERS) if PROVIDERS[p].auth])
def test_wrong_key_is_reported(keyed: str) -> None:
    provider = PROVIDERS[keyed]
    server = ProviderServer({provider.path: provider.answer}, provider.auth)
    url = server.start()
    server.auth = (provider.auth[0], "another key")
    try:
        with pytest.raises(EmbeddingProviderError, match="HTTP 401: Incorrect API key provided"):
            provider.make(url)(["a"])
    finally:
        server.stop()


def test_unreachable_server(provider: Provider, served: tuple[ProviderServer, str]) -> None:
    server, url = served
    server.stop()
    with pytest.raises(EmbeddingProviderError, match="could not reach"):
        provider.make(url)(["a"])
    server.start()  # the fixture stops it again


def _no_field(label: str, field: str) -> tuple[type, str]:
    message = f"{label} returned an unexpected response (no {field}): {{'unexpected': True}}"
    return EmbeddingProviderResponseError, message


# The HuggingFace formats are a bare list of vectors, so an object in its place reaches
# the embeddings check as the list of its keys.
NOT_EMBEDDINGS = (
    ValueError,
    "Expected embeddings to be a list of floats or ints, a list of lists, a numpy array, or "
    "a list of numpy arrays, got ['unexpected']",
)
UNEXPECTED_ANSWER_ERRORS = {
    "cohere": _no_field("Cohere", "embeddings"),
    "google_gemini": _no_field("Google Gemini", "embeddings"),
    "huggingface": NOT_EMBEDDINGS,
    "huggingface_server": NOT_EMBEDDINGS,
    "jina": _no_field("Jina", "data"),
    "mistral": _no_field("Mistral", "data"),
    "ollama": _no_field("Ollama", "embeddings"),
    "openai": _no_field("OpenAI", "data"),
    "voyageai": _no_field("Voyage AI", "data"),
}


def test_unexpected_answer(provider: Provider, served: tuple[ProviderServer, str]) -> None:
    server, url = served
    server.routes[provider.path] = lambda body: {"unexpected": True}
    error, message = UNEXPECTED_ANSWER_ERRORS[provider.name]
    with pytest.raises(error) as raised:
        provider.make(url)(["a"])
    assert type(raised.value) is error
    assert str(raised.value) == message


def test_config_names_the_key_variable_never_the_key(
    provider: Provider, served: tuple[ProviderServer, str]
) -> None:
    function = provider.make(served[1])
    config = function.get_config()
    assert API_KEY not in repr(config)
    assert function.name() == provider.name
    assert function.default_space() == "cosine"


def test_rebuilt_from_its_stored_config_it_calls_the_same_server(
    provider: Provider, served: tuple[ProviderServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, url = served
    function = provider.make(url)
    # What a collection stores, through JSON as on disk; the key comes from the environment.
    entry = json.loads(
        json.dumps({"type": "known", "name": function.name(), "config": function.get_config()})
    )
    variable = entry["config"].get("api_key_env_var")
    if variable is not None:
        monkeypatch.setenv(variable, API_KEY)
    rebuilt = config_to_embedding_function(entry)
    assert type(rebuilt) is type(function)
    assert rebuilt.get_config() == function.get_config()
    vectors = rebuilt(["again"])
    assert server.requests[-1].path == provider.path
    np.testing.assert_allclose(vectors[0], vector("again"), atol=1e-7)


@pytest.mark.parametrize(
    "function",
    [CohereEmbeddingFunction, HuggingFaceEmbeddingFunction, GoogleGeminiEmbeddingFunction],
)
def test_default_endpoint_is_not_stored(function: Callable[..., Any]) -> None:
    """With the provider's own endpoint the config has Chroma's keys only."""
    assert "api_base" not in function(api_key=API_KEY).get_config()


@pytest.mark.parametrize(
    ("make", "variable"),
    [
        (lambda: OpenAIEmbeddingFunction(), "CHROMA_OPENAI_API_KEY"),
        (lambda: CohereEmbeddingFunction(), "CHROMA_COHERE_API_KEY"),
        (lambda: HuggingFaceEmbeddingFunction(), "CHROMA_HUGGINGFACE_API_KEY"),
        (lambda: JinaEmbeddingFunction(), "CHROMA_JINA_API_KEY"),
        (lambda: GoogleGeminiEmbeddingFunction(), "GEMINI_API_KEY"),
        (lambda: VoyageAIEmbeddingFunction(), "CHROMA_VOYAGE_API_KEY"),
        (lambda: MistralEmbeddingFunction(), "MISTRAL_API_KEY"),
    ],
)
def test_missing_key_names_the_variable(
    make: Callable[[], Any], variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ValueError, match=f"environment variable {variable}"):
        make()
    monkeypatch.setenv(variable, API_KEY)
    assert make().get_config()["api_key_env_var"] == variable


@pytest.mark.parametrize(
    ("make", "path", "answer", "query_field"),
    [
        (
            lambda url: CohereEmbeddingFunction(api_key=API_KEY, api_base=url),
            "/v1/embed",
            cohere_answer,
            lambda body: body["input_type"],
        ),
        (
            lambda url: VoyageAIEmbeddingFunction(
                api_key=API_KEY, api_base=f"{url}/v1", input_type="document"
            ),
            "/v1/embeddings",
            openai_answer,
            lambda body: body["input_type"],
        ),
        (
            lambda url: GoogleGeminiEmbeddingFunction(
                api_key=API_KEY, api_base=f"{url}/v1beta", task_type="RETRIEVAL_DOCUMENT"
            ),
            "/v1beta/models/gemini-embedding-001:batchEmbedContents",
            gemini_answer,
            lambda body: body["requests"][0]["taskType"],
        ),
    ],
    ids=["cohere", "voyageai", "google_gemini"],
)
def test_queries_are_sent_as_queries(
    make: Callable[[str], Any], path: str, answer: Any, query_field: Any
) -> None:
    server = ProviderServer({path: answer}, None)
    url = server.start()
    try:
        function = make(url)
        function(["doc"])
        function.embed_query(["question"])
    finally:
        server.stop()
    document, query = (query_field(r.body) for r in server.requests)
    assert (document, query) in [
        ("search_document", "search_query"),
        ("document", "query"),
        ("RETRIEVAL_DOCUMENT", "RETRIEVAL_QUERY"),
    ]


def test_collection_with_a_provider_function(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ProviderServer({"/v1/embeddings": openai_answer}, BEARER)
    url = server.start()
    monkeypatch.setenv("CHROMA_OPENAI_API_KEY", API_KEY)
    try:
        function = OpenAIEmbeddingFunction(
            api_base=f"{url}/v1", model_name="text-embedding-3-small"
        )
        collection = client.create_collection("remote", embedding_function=function)
        stored = collection.configuration_json["embedding_function"]
        assert stored["name"] == "openai"
        assert stored["config"]["api_key_env_var"] == "CHROMA_OPENAI_API_KEY"
        assert API_KEY not in repr(stored)
        # Reopened without a function, it is rebuilt from the stored config (key from env).
        reopened = client.get_collection("remote")
        reopened.add(ids=["a", "b"], documents=["alpha", "beta"])
        assert reopened.query(query_texts=["beta"], n_results=1)["ids"] == [["b"]]
        rebuilt = config_to_embedding_function(stored)
        assert rebuilt.get_config() == function.get_config()
    finally:
        server.stop()


def test_sentence_transformer_needs_its_package() -> None:
    with pytest.raises(ValueError, match="pip install sentence-transformers"):
        SentenceTransformerEmbeddingFunction()


def test_sentence_transformer_config_refuses_remote_code() -> None:
    with pytest.raises(ValueError, match=r"Could not build .*trust_remote_code is not allowed"):
        config_to_embedding_function(
            {
                "type": "known",
                "name": "sentence_transformer",
                "config": {"model_name": "m", "kwargs": {"trust_remote_code": True}},
            }
        )


def test_azure_openai_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    path = "/openai/deployments/my-embedder/embeddings"
    server = ProviderServer({path: openai_answer}, ("api-key", API_KEY))
    url = server.start()
    monkeypatch.setenv("CHROMA_OPENAI_API_KEY", API_KEY)
    try:
        function = OpenAIEmbeddingFunction(
            api_base=url,
            api_type="azure",
            api_version="2024-02-01",
            deployment_id="my-embedder",
            model_name="text-embedding-3-small",
        )
        vectors = function(["first", "second"])
        np.testing.assert_allclose(np.stack(vectors), [vector("first"), vector("second")])
        (request,) = server.requests
        assert request.query == "api-version=2024-02-01"
        assert request.body == {"input": ["first", "second"], "model": "text-embedding-3-small"}
        assert "Authorization" not in request.headers
        config = function.get_config()
        assert (config["api_type"], config["api_version"], config["deployment_id"]) == (
            "azure",
            "2024-02-01",
            "my-embedder",
        )
        rebuilt = config_to_embedding_function(
            {"type": "known", "name": "openai", "config": json.loads(json.dumps(config))}
        )
        np.testing.assert_allclose(rebuilt(["third"])[0], vector("third"), atol=1e-7)
        assert server.requests[-1].path == path
    finally:
        server.stop()


@pytest.mark.parametrize("missing", ["api_version", "deployment_id", "api_base"])
def test_azure_openai_needs_its_endpoint(missing: str) -> None:
    arguments = {"api_version": "2024-02-01", "deployment_id": "d", "api_base": "http://x"}
    del arguments[missing]
    with pytest.raises(ValueError, match=f"{missing} must be specified for Azure OpenAI"):
        OpenAIEmbeddingFunction(api_key=API_KEY, api_type="azure", **arguments)


def test_gemini_follows_chromadb_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """chromadb's argument order (model name first), no task type unless asked (so the
    same vectors as chromadb's function), its config keys, and its old registry name."""
    path = "/v1beta/models/text-embedding-004:batchEmbedContents"
    server = ProviderServer({path: gemini_answer}, ("x-goog-api-key", API_KEY))
    url = server.start()
    monkeypatch.setenv("GEMINI_API_KEY", API_KEY)
    try:
        function = GoogleGeminiEmbeddingFunction("text-embedding-004", api_base=f"{url}/v1beta")
        function(["doc"])
        function.embed_query(["question"])
    finally:
        server.stop()
    # Neither the document nor the query carries a task type.
    sent = [request.body["requests"] for request in server.requests]
    assert sent == [
        [{"model": "models/text-embedding-004", "content": {"parts": [{"text": text}]}}]
        for text in ("doc", "question")
    ]
    config = function.get_config()
    assert {k: config[k] for k in ("model_name", "api_key_env_var", "vertexai")} == {
        "model_name": "text-embedding-004",
        "api_key_env_var": "GEMINI_API_KEY",
        "vertexai": None,
    }
    assert "task_type" not in config
    rebuilt = config_to_embedding_function(
        {"type": "known", "name": "google_genai", "config": config}
    )
    assert isinstance(rebuilt, GoogleGeminiEmbeddingFunction)
    with pytest.raises(ValueError, match="vertexai=True is not supported"):
        GoogleGeminiEmbeddingFunction(vertexai=True, project="p", location="us-central1")


def jina_answer(body: dict[str, Any]) -> Any:
    """Jina's answer: items may be strings or {"text"} / {"image"} objects."""
    keys = [i if isinstance(i, str) else i.get("text", i.get("image")) for i in body["input"]]
    return {"data": [{"index": i, "embedding": vector(k)} for i, k in enumerate(keys)]}


def test_jina_options_queries_and_images() -> None:
    server = ProviderServer({"/v1/embeddings": jina_answer}, BEARER)
    url = server.start()
    try:
        function = JinaEmbeddingFunction(
            API_KEY,
            "jina-clip-v2",
            "CHROMA_JINA_API_KEY",
            "retrieval.passage",
            True,
            False,
            64,
            "float",
            True,
            {"task": "retrieval.query"},
            api_base=f"{url}/v1",
        )
        function(["a passage"])
        function.embed_query(["a question"])
        image = np.zeros((2, 2, 3), dtype=np.uint8)
        mixed = function(["a caption", image])
    finally:
        server.stop()
    options = {
        "late_chunking": True,
        "truncate": False,
        "dimensions": 64,
        "embedding_type": "float",
        "normalized": True,
    }
    document, query, both = (request.body for request in server.requests)
    assert document == {
        "input": ["a passage"],
        "model": "jina-clip-v2",
        "task": "retrieval.passage",
        **options,
    }
    assert query["task"] == "retrieval.query"
    assert both["input"][0] == {"text": "a caption"}
    (encoded,) = both["input"][1].values()
    assert np.array_equal(np.array(Image.open(io.BytesIO(base64.b64decode(encoded)))), image)
    np.testing.assert_allclose(mixed[1], vector(encoded), atol=1e-7)
    assert function.get_config()["query_config"] == {"task": "retrieval.query"}


def test_voyage_sends_no_input_type_unless_configured() -> None:
    """chromadb's default: the plain embedding, for documents and queries alike."""
    server = ProviderServer({"/v1/embeddings": openai_answer}, BEARER)
    url = server.start()
    try:
        function = VoyageAIEmbeddingFunction(api_key=API_KEY, api_base=f"{url}/v1")
        function(["doc"])
        function.embed_query(["question"])
    finally:
        server.stop()
    assert [request.body for request in server.requests] == [
        {"input": [text], "model": "voyage-large-2", "truncation": True}
        for text in ("doc", "question")
    ]
