"""Provider failures raise what chromadb 1.5.9's functions raise, side by side: chromadb's
function and Azurite's pointed at the same 127.0.0.1 server, for the providers whose
chromadb client is plain httpx (the others go through SDKs that are not installed here).
Azurite's exception is an instance of chromadb's class (it may refine it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import chromadb.utils.embedding_functions as chroma_functions
import httpx
import pytest
from chromadb.utils.embedding_functions import (
    cloudflare_workers_ai_embedding_function as chroma_cloudflare,
)
from chromadb.utils.embedding_functions import together_ai_embedding_function as chroma_together
from chromadb.utils.embedding_functions.chroma_cloud_qwen_embedding_function import (
    ChromaCloudQwenEmbeddingModel as ChromaQwenModel,
)

import azurite.embedding_functions as our_functions

from .provider_server import (
    API_KEY,
    ProviderServer,
    cloudflare_answer,
    openai_answer,
    qwen_answer,
    roboflow_text_answer,
)

QWEN_MODELS = {
    chroma_functions: ChromaQwenModel,
    our_functions: our_functions.ChromaCloudQwenEmbeddingModel,
}
CLOUDFLARE_MODEL = "@cf/baai/bge-base-en-v1.5"
BEARER = ("Authorization", f"Bearer {API_KEY}")


@dataclass
class Wire:
    routes: dict[str, Callable[[dict[str, Any]], Any]]
    auth: tuple[str, str] | None
    #: (functions module, base url, monkeypatch) -> a function of that side
    make: Callable[[Any, str, pytest.MonkeyPatch], Any]
    key_variable: str


def together(module: Any, url: str, patch: pytest.MonkeyPatch) -> Any:
    if module is chroma_functions:
        patch.setattr(chroma_together, "ENDPOINT", f"{url}/v1/embeddings")
        return module.TogetherAIEmbeddingFunction("m")
    return module.TogetherAIEmbeddingFunction("m", api_base=f"{url}/v1")


def cloudflare(module: Any, url: str, patch: pytest.MonkeyPatch) -> Any:
    base = f"{url}/client/v4/accounts"
    if module is chroma_functions:
        patch.setattr(chroma_cloudflare, "BASE_URL", base)
        return module.CloudflareWorkersAIEmbeddingFunction(CLOUDFLARE_MODEL, "acc")
    return module.CloudflareWorkersAIEmbeddingFunction(CLOUDFLARE_MODEL, "acc", api_base=base)


def qwen(module: Any, url: str, patch: pytest.MonkeyPatch) -> Any:
    patch.setenv("CHROMA_EMBED_URL", f"{url}/embed")
    model = QWEN_MODELS[module].QWEN3_EMBEDDING_0p6B
    return module.ChromaCloudQwenEmbeddingFunction(model=model, task=None)


def roboflow(module: Any, url: str, patch: pytest.MonkeyPatch) -> Any:
    return module.RoboflowEmbeddingFunction(api_url=url)


WIRES = {
    "together_ai": Wire(
        {"/v1/embeddings": openai_answer}, BEARER, together, "CHROMA_TOGETHER_AI_API_KEY"
    ),
    "cloudflare_workers_ai": Wire(
        {f"/client/v4/accounts/acc/ai/run/{CLOUDFLARE_MODEL}": cloudflare_answer},
        BEARER,
        cloudflare,
        "CHROMA_CLOUDFLARE_API_KEY",
    ),
    "chroma-cloud-qwen": Wire(
        {"/embed": qwen_answer}, ("x-chroma-token", API_KEY), qwen, "CHROMA_API_KEY"
    ),
    "roboflow": Wire(
        {"/clip/embed_text": roboflow_text_answer}, None, roboflow, "CHROMA_ROBOFLOW_API_KEY"
    ),
}

#: What chromadb 1.5.9 raises, found by running its functions against this server.
CHROMA_RAISES = {
    ("together_ai", "wrong key"): httpx.HTTPStatusError,
    ("together_ai", "server error"): httpx.HTTPStatusError,
    ("together_ai", "no embeddings"): KeyError,
    ("cloudflare_workers_ai", "wrong key"): KeyError,
    ("cloudflare_workers_ai", "server error"): KeyError,
    ("cloudflare_workers_ai", "no embeddings"): KeyError,
    ("chroma-cloud-qwen", "wrong key"): RuntimeError,
    ("chroma-cloud-qwen", "server error"): RuntimeError,
    ("chroma-cloud-qwen", "no embeddings"): RuntimeError,
    ("roboflow", "wrong key"): KeyError,
    ("roboflow", "server error"): KeyError,
    ("roboflow", "no embeddings"): KeyError,
}


@pytest.fixture(params=sorted(WIRES))
def wire(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    spec = WIRES[request.param]
    monkeypatch.setenv(spec.key_variable, API_KEY)
    for variable in ("TOGETHER_API_KEY", "CLOUDFLARE_API_KEY", "ROBOFLOW_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    server = ProviderServer(dict(spec.routes), spec.auth)
    url = server.start()
    yield request.param, spec, server, url
    server.stop()


def break_server(server: ProviderServer, failure: str, spec: Wire) -> None:
    if failure == "wrong key":
        server.fail_with = (401, {"error": {"message": "Incorrect API key provided"}})
    elif failure == "server error":
        server.fail_with = (500, {"error": "internal failure"})
    else:
        for path in spec.routes:
            server.routes[path] = lambda body: {"unexpected": True}


def raised_by(call: Callable[[], Any]) -> Exception:
    try:
        call()
    except Exception as error:
        return error
    raise AssertionError("no exception was raised")


@pytest.mark.parametrize("failure", ["wrong key", "server error", "no embeddings"])
def test_the_same_exception_class_as_chromadb(
    wire: Any, failure: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name, spec, server, url = wire
    break_server(server, failure, spec)
    raised = {}
    for module in (chroma_functions, our_functions):
        function = spec.make(module, url, monkeypatch)
        raised[module] = raised_by(lambda: function(["a"]))  # noqa: B023 - called at once
    expected = CHROMA_RAISES[(name, failure)]
    assert type(raised[chroma_functions]) is expected
    assert isinstance(raised[our_functions], expected)


def test_a_missing_key_is_the_same_error(wire: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, spec, _, url = wire
    monkeypatch.delenv(spec.key_variable)
    messages = []
    for module in (chroma_functions, our_functions):
        with pytest.raises(ValueError) as error:
            spec.make(module, url, monkeypatch)
        messages.append(str(error.value))
    assert messages[0] == messages[1]
