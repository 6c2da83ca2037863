"""Functions whose client is a provider SDK, as in chromadb 1.5.9. Amazon Bedrock runs
through a real boto3 client against a 127.0.0.1 server speaking bedrock-runtime's
InvokeModel; side by side with chromadb's function on the same server. The other SDKs
(google-generativeai, vertexai, nomic, InstructorEmbedding, text2vec, langchain-core) are
not installed here: their functions give chromadb's own error when the SDK is missing."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import chromadb.utils.embedding_functions as chroma_functions
import numpy as np
import pytest
from botocore.exceptions import ClientError

import azurite.embedding_functions as our_functions
from azurite.embedding_functions import (
    AmazonBedrockEmbeddingFunction,
    config_to_embedding_function,
)

from .provider_server import ProviderServer, vector

TITAN = "amazon.titan-embed-text-v1"


def titan_answer(body: dict[str, Any]) -> Any:
    return {"embedding": vector(body["inputText"]), "inputTextTokenCount": 3}


@pytest.fixture
def bedrock(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[ProviderServer, str]]:
    """A bedrock-runtime on 127.0.0.1; AWS configuration only from this test's files."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    # Without credentials boto3 would ask an instance-metadata address: never off this host.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    # A session rebuilt with profile_name reads the profile's files, not the environment.
    (tmp_path / "credentials").write_text(
        "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable, raising=False)
    server = ProviderServer({f"/model/{TITAN}/invoke": titan_answer}, None)
    url = server.start()
    yield server, url
    server.stop()


def session() -> Any:
    return boto3.Session(region_name="us-east-1")


@pytest.mark.parametrize(
    "cls",
    [AmazonBedrockEmbeddingFunction, chroma_functions.AmazonBedrockEmbeddingFunction],
    ids=["azurite", "chromadb"],
)
def test_bedrock_invokes_the_model_once_per_text(
    cls: Any, bedrock: tuple[ProviderServer, str]
) -> None:
    server, url = bedrock
    function = cls(session=session(), endpoint_url=url)
    texts = ["first", "second"]
    np.testing.assert_allclose(np.stack(function(texts)), [vector(t) for t in texts], atol=1e-6)
    assert [r.body for r in server.requests] == [{"inputText": t} for t in texts]
    for request in server.requests:
        assert request.path == f"/model/{TITAN}/invoke"
        assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKID")
        assert request.headers["Accept"] == "application/json"


def test_bedrock_config_is_chromadbs_and_rebuilds(bedrock: tuple[ProviderServer, str]) -> None:
    _, url = bedrock
    ours = AmazonBedrockEmbeddingFunction(session=session(), endpoint_url=url)
    theirs = chroma_functions.AmazonBedrockEmbeddingFunction(session=session(), endpoint_url=url)
    assert (
        ours.get_config()
        == theirs.get_config()
        == {
            "model_name": TITAN,
            "session_args": {"region_name": "us-east-1", "profile_name": "default"},
            "kwargs": {"endpoint_url": url},
        }
    )
    assert ours.default_space() == theirs.default_space() == "l2"
    entry = json.loads(
        json.dumps({"type": "known", "name": "amazon_bedrock", "config": ours.get_config()})
    )
    rebuilt = config_to_embedding_function(entry)
    assert isinstance(rebuilt, AmazonBedrockEmbeddingFunction)
    np.testing.assert_allclose(rebuilt(["again"])[0], vector("again"), atol=1e-6)
    with pytest.raises(ValueError, match="The model name cannot be changed"):
        ours.validate_config_update(ours.get_config(), {"model_name": "other"})


def test_bedrock_refuses_what_cannot_be_recorded() -> None:
    with pytest.raises(ValueError, match=r"^Keyword argument config is not a primitive type$"):
        AmazonBedrockEmbeddingFunction(session=session(), config=object())


def test_bedrock_failures_are_botocores_errors_in_both(
    bedrock: tuple[ProviderServer, str],
) -> None:
    server, url = bedrock
    server.fail_with = (403, {"message": "The security token included in the request is invalid."})
    raised = []
    for cls in (AmazonBedrockEmbeddingFunction, chroma_functions.AmazonBedrockEmbeddingFunction):
        with pytest.raises(ClientError) as error:
            cls(session=session(), endpoint_url=url)(["a"])
        raised.append(error.value)
    ours, theirs = raised
    assert type(ours) is type(theirs)
    assert str(ours) == str(theirs)
    assert ours.response["ResponseMetadata"]["HTTPStatusCode"] == 403


#: (name in the registry, how to create it, the SDK modules it imports)
SDK_FUNCTIONS: dict[str, tuple[Callable[[Any], Any], list[str]]] = {
    "google_palm": (lambda m: m.GooglePalmEmbeddingFunction(), ["google.generativeai"]),
    "google_generative_ai": (
        lambda m: m.GoogleGenerativeAiEmbeddingFunction(),
        ["google.generativeai"],
    ),
    "google_vertex": (
        lambda m: m.GoogleVertexEmbeddingFunction(),
        ["vertexai", "vertexai.language_models"],
    ),
    "nomic": (
        lambda m: m.NomicEmbeddingFunction("nomic-embed-text-v1.5", "search_document", None),
        ["nomic"],
    ),
    "instructor": (lambda m: m.InstructorEmbeddingFunction(), ["InstructorEmbedding"]),
    "text2vec": (lambda m: m.Text2VecEmbeddingFunction(), ["text2vec"]),
    "chroma_langchain": (
        lambda m: m.ChromaLangchainEmbeddingFunction(object()),
        ["langchain_core", "langchain_core.embeddings"],
    ),
}


@pytest.mark.parametrize("name", sorted(SDK_FUNCTIONS))
def test_a_missing_sdk_is_chromadbs_error(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make, modules = SDK_FUNCTIONS[name]
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)
    messages = []
    for functions in (our_functions, chroma_functions):
        with pytest.raises(ValueError) as raised:
            make(functions)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert "pip install" in messages[0]
    assert our_functions.known_embedding_functions[name].__name__ == (
        chroma_functions.known_embedding_functions[name].__name__
    )


def test_a_langchain_function_is_not_rebuilt_from_config_as_in_chromadb() -> None:
    # Its config names the LangChain class only: the caller has to build it again.
    config = {"embedding_function_class": "FakeEmbeddings"}
    with pytest.raises(NotImplementedError) as theirs:
        chroma_functions.ChromaLangchainEmbeddingFunction.build_from_config(config)
    with pytest.raises(NotImplementedError) as ours:
        our_functions.ChromaLangchainEmbeddingFunction.build_from_config(config)
    assert str(ours.value) == str(theirs.value)
