"""The hosted providers chromadb 1.5.9 registers beyond the first ones (Together AI,
Cloudflare Workers AI, Baseten, Morph, Perplexity, Roboflow, Chroma Cloud Qwen) against a
server on 127.0.0.1 speaking each one's format: URL, key, body, answer, errors, and the
configuration a collection records (chromadb's keys; never the key)."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from azurite.embedding_functions import (
    BasetenEmbeddingFunction,
    ChromaCloudQwenEmbeddingFunction,
    ChromaCloudQwenEmbeddingModel,
    CloudflareWorkersAIEmbeddingFunction,
    EmbeddingFunction,
    EmbeddingProviderError,
    MorphEmbeddingFunction,
    PerplexityEmbeddingFunction,
    RoboflowEmbeddingFunction,
    TogetherAIEmbeddingFunction,
    config_to_embedding_function,
)

from .provider_server import (
    API_KEY,
    ProviderServer,
    cloudflare_answer,
    int8_vector,
    openai_answer,
    perplexity_answer,
    qwen_answer,
    roboflow_text_answer,
    vector,
)

BEARER = ("Authorization", f"Bearer {API_KEY}")
CLOUDFLARE_MODEL = "@cf/baai/bge-base-en-v1.5"

#: The variables the functions read their keys from, set for every test; the providers'
#: own variables (which chromadb prefers when set) are removed.
KEY_VARIABLES = [
    "CHROMA_TOGETHER_AI_API_KEY",
    "CHROMA_CLOUDFLARE_API_KEY",
    "CHROMA_BASETEN_API_KEY",
    "MORPH_API_KEY",
    "PERPLEXITY_API_KEY",
    "CHROMA_ROBOFLOW_API_KEY",
    "CHROMA_API_KEY",
]
PROVIDER_VARIABLES = [
    "TOGETHER_API_KEY",
    "CLOUDFLARE_API_KEY",
    "BASETEN_API_KEY",
    "ROBOFLOW_API_KEY",
]


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in KEY_VARIABLES:
        monkeypatch.setenv(variable, API_KEY)
    for variable in PROVIDER_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@dataclass
class Hosted:
    make: Callable[[str], EmbeddingFunction[Any]]
    path: str
    answer: Callable[[dict[str, Any]], Any]
    auth: tuple[str, str] | None
    texts_of: Callable[[dict[str, Any]], list[str]]
    expected: Callable[[str], list[float]] = vector


def qwen(url: str) -> ChromaCloudQwenEmbeddingFunction:
    # chromadb's way to point it elsewhere: the environment, read when it is created.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHROMA_EMBED_URL", f"{url}/embed")
        return ChromaCloudQwenEmbeddingFunction(
            model=ChromaCloudQwenEmbeddingModel.QWEN3_EMBEDDING_0p6B, task="nl_to_code"
        )


HOSTED = {
    "together_ai": Hosted(
        lambda url: TogetherAIEmbeddingFunction("BAAI/bge-base-en-v1.5", api_base=f"{url}/v1"),
        "/v1/embeddings",
        openai_answer,
        BEARER,
        lambda body: body["input"],
    ),
    "cloudflare_workers_ai": Hosted(
        lambda url: CloudflareWorkersAIEmbeddingFunction(
            CLOUDFLARE_MODEL, "acc-1", api_base=f"{url}/client/v4/accounts"
        ),
        f"/client/v4/accounts/acc-1/ai/run/{CLOUDFLARE_MODEL}",
        cloudflare_answer,
        BEARER,
        lambda body: body["text"],
    ),
    "baseten": Hosted(
        lambda url: BasetenEmbeddingFunction(api_key=None, api_base=f"{url}/v1"),
        "/v1/embeddings",
        openai_answer,
        BEARER,
        lambda body: body["input"],
    ),
    "morph": Hosted(
        lambda url: MorphEmbeddingFunction(api_base=f"{url}/v1"),
        "/v1/embeddings",
        openai_answer,
        BEARER,
        lambda body: body["input"],
    ),
    "perplexity": Hosted(
        lambda url: PerplexityEmbeddingFunction(api_base=url),
        "/v1/embeddings",
        perplexity_answer,
        BEARER,
        lambda body: body["input"],
        lambda text: [float(value) for value in int8_vector(text)],
    ),
    "chroma-cloud-qwen": Hosted(
        qwen,
        "/embed",
        qwen_answer,
        ("x-chroma-token", API_KEY),
        lambda body: body["texts"],
    ),
}


@pytest.fixture(params=sorted(HOSTED))
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def served(name: str) -> Iterator[tuple[ProviderServer, str]]:
    hosted = HOSTED[name]
    server = ProviderServer({hosted.path: hosted.answer}, hosted.auth)
    url = server.start()
    yield server, url
    server.stop()


def test_embeds_in_order_with_its_key(name: str, served: tuple[ProviderServer, str]) -> None:
    server, url = served
    hosted = HOSTED[name]
    texts = ["first text", "second text", "third"]
    vectors = hosted.make(url)(texts)
    np.testing.assert_allclose(np.stack(vectors), [hosted.expected(t) for t in texts], atol=1e-6)
    (request,) = server.requests
    assert request.path == hosted.path
    assert hosted.texts_of(request.body) == texts
    assert hosted.auth is not None
    assert request.headers[hosted.auth[0]] == hosted.auth[1]


@pytest.mark.parametrize("name", sorted(set(HOSTED) - {"cloudflare_workers_ai"}))
def test_an_error_status_is_an_httpx_status_error(
    name: str, served: tuple[ProviderServer, str]
) -> None:
    # Cloudflare's function reads the body whatever the status, as chromadb's does: see
    # test_provider_errors.py.
    server, url = served
    server.fail_with = (500, {"error": {"message": "internal failure"}})
    with pytest.raises(httpx.HTTPStatusError, match="HTTP 500: internal failure") as raised:
        HOSTED[name].make(url)(["a"])
    assert isinstance(raised.value, EmbeddingProviderError)
    assert raised.value.response.status_code == 500


def test_an_answer_without_embeddings_is_a_key_error(
    name: str, served: tuple[ProviderServer, str]
) -> None:
    server, url = served
    server.routes[HOSTED[name].path] = lambda body: {"unexpected": True}
    with pytest.raises(KeyError, match="returned an unexpected response") as raised:
        HOSTED[name].make(url)(["a"])
    assert isinstance(raised.value, EmbeddingProviderError)


def test_rebuilt_from_its_stored_config_it_calls_the_same_server(
    name: str, served: tuple[ProviderServer, str]
) -> None:
    server, url = served
    function = HOSTED[name].make(url)
    config = function.get_config()
    assert API_KEY not in repr(config)
    assert function.name() == name
    assert function.default_space() == "cosine"
    assert function.supported_spaces() == ["cosine", "l2", "ip"]
    entry = json.loads(json.dumps({"type": "known", "name": name, "config": config}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHROMA_EMBED_URL", f"{url}/embed")
        rebuilt = config_to_embedding_function(entry)
    assert type(rebuilt) is type(function)
    assert rebuilt.get_config() == config
    np.testing.assert_allclose(rebuilt(["again"])[0], HOSTED[name].expected("again"), atol=1e-6)
    assert server.requests[-1].path == HOSTED[name].path


@pytest.mark.parametrize(
    ("make", "variable", "message"),
    [
        (lambda: TogetherAIEmbeddingFunction("m"), "CHROMA_TOGETHER_AI_API_KEY", None),
        (lambda: CloudflareWorkersAIEmbeddingFunction("m", "a"), "CHROMA_CLOUDFLARE_API_KEY", None),
        (lambda: MorphEmbeddingFunction(), "MORPH_API_KEY", None),
        (lambda: PerplexityEmbeddingFunction(), "PERPLEXITY_API_KEY", None),
        (lambda: RoboflowEmbeddingFunction(), "CHROMA_ROBOFLOW_API_KEY", None),
        (
            lambda: BasetenEmbeddingFunction(None, "http://127.0.0.1:1"),
            "CHROMA_BASETEN_API_KEY",
            "API key not provided and CHROMA_BASETEN_API_KEY environment variable is not set.",
        ),
        (
            lambda: qwen("http://127.0.0.1:1"),
            "CHROMA_API_KEY",
            "API key not found in environment variable CHROMA_API_KEY or in any existing "
            "client instances",
        ),
    ],
)
def test_a_missing_key_is_chromadbs_value_error(
    make: Callable[[], Any], variable: str, message: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(variable)
    with pytest.raises(ValueError) as raised:
        make()
    assert str(raised.value) == (message or f"The {variable} environment variable is not set.")


def test_the_providers_own_variable_is_the_one_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", "another")
    assert TogetherAIEmbeddingFunction("m").get_config()["api_key_env_var"] == "TOGETHER_API_KEY"


def test_a_key_given_directly_is_not_recorded() -> None:
    with pytest.warns(DeprecationWarning, match="will not be persisted"):
        function = MorphEmbeddingFunction(api_key="direct", api_key_env_var="MORPH_API_KEY")
    assert "direct" not in repr(function.get_config())


def test_cloudflare_through_an_ai_gateway() -> None:
    server = ProviderServer(
        {f"/v1/acc-1/gw-1/workers-ai/{CLOUDFLARE_MODEL}": cloudflare_answer}, BEARER
    )
    url = server.start()
    try:
        function = CloudflareWorkersAIEmbeddingFunction(
            CLOUDFLARE_MODEL, "acc-1", gateway_id="gw-1", api_base=f"{url}/v1"
        )
        np.testing.assert_allclose(function(["g"])[0], vector("g"), atol=1e-7)
        assert function.get_config()["gateway_id"] == "gw-1"
    finally:
        server.stop()


def test_morph_base64_vectors_are_decoded() -> None:
    def base64_answer(body: dict[str, Any]) -> Any:
        assert body["encoding_format"] == "base64"
        data = [
            {
                "index": i,
                "embedding": base64.b64encode(np.array(vector(t), "<f4").tobytes()).decode(),
            }
            for i, t in enumerate(body["input"])
        ]
        return {"data": data}

    server = ProviderServer({"/v1/embeddings": base64_answer}, BEARER)
    url = server.start()
    try:
        function = MorphEmbeddingFunction(api_base=f"{url}/v1", encoding_format="base64")
        np.testing.assert_allclose(function(["b"])[0], vector("b"), atol=1e-6)
    finally:
        server.stop()


def test_qwen_queries_carry_the_task_instruction() -> None:
    server = ProviderServer({"/embed": qwen_answer}, ("x-chroma-token", API_KEY))
    url = server.start()
    try:
        function = qwen(url)
        function.embed_query(["how to sort a list"])
        function(["def sort(x): ..."])
        query, document = server.requests
        assert query.body["instructions"].startswith("Given a question about coding")
        assert document.body["instructions"] == ""
        assert query.headers["x-chroma-embedding-model"] == "Qwen/Qwen3-Embedding-0.6B"
    finally:
        server.stop()


def test_roboflow_texts_and_images() -> None:
    received: list[Any] = []

    def image_answer(body: dict[str, Any]) -> Any:
        received.append(body)
        return {"embeddings": [vector("an image")]}

    server = ProviderServer(
        {"/clip/embed_text": roboflow_text_answer, "/clip/embed_image": image_answer}, None
    )
    url = server.start()
    try:
        function = RoboflowEmbeddingFunction(api_url=url)
        image = np.zeros((4, 4, 3), dtype=np.uint8)
        vectors = function(["a text", image])  # type: ignore[list-item]
        np.testing.assert_allclose(vectors[0], vector("a text"), atol=1e-6)
        np.testing.assert_allclose(vectors[1], vector("an image"), atol=1e-6)
        assert [r.query for r in server.requests] == [f"api_key={API_KEY}"] * 2
        (body,) = received
        assert body["image"]["type"] == "base64"
        assert Image.open(io.BytesIO(base64.b64decode(body["image"]["value"]))).format == "JPEG"
        assert function.get_config() == {
            "api_key_env_var": "CHROMA_ROBOFLOW_API_KEY",
            "api_url": url,
        }
    finally:
        server.stop()
