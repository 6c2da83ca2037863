"""``register_embedding_function`` and ``EmbeddingFunction.embed_with_retries`` side by side
with chromadb 1.5.9's: the same forms of use, registry, errors and retry policy."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import chromadb.api.types as chroma_types
import chromadb.utils.embedding_functions as chroma_functions
import pytest
import tenacity

import azurite.embedding_functions as our_functions
from azurite.embedding_functions import base as our_base

SIDES = {
    "chromadb": (chroma_functions, chroma_types.EmbeddingFunction),
    "azurite": (our_functions, our_base.EmbeddingFunction),
}


@pytest.fixture(params=sorted(SIDES))
def side(request: pytest.FixtureRequest) -> Iterator[tuple[Any, Any]]:
    """(functions module, EmbeddingFunction base) of one side; what a test registers is
    removed afterwards."""
    module, base = SIDES[request.param]
    known = dict(module.known_embedding_functions)
    yield module, base
    module.known_embedding_functions.clear()
    module.known_embedding_functions.update(known)


def named(base: Any, name: str) -> Any:
    class Named(base):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            pass

        def __call__(self, input: Any) -> Any:
            return [[1.0] for _ in input]

        @staticmethod
        def name() -> str:
            return name

    return Named


def test_same_signature() -> None:
    ours = inspect.signature(our_functions.register_embedding_function)
    theirs = inspect.signature(chroma_functions.register_embedding_function)
    assert list(ours.parameters) == list(theirs.parameters) == ["ef_class"]
    assert ours.parameters["ef_class"].default is None
    assert list(inspect.signature(our_base.EmbeddingFunction.embed_with_retries).parameters) == [
        "self",
        "input",
        "retry_kwargs",
    ]


def test_every_form_of_use_registers_by_name(side: tuple[Any, Any]) -> None:
    module, base = side
    plain = module.register_embedding_function(named(base, "reg_plain"))
    called = module.register_embedding_function()(named(base, "reg_called"))
    direct = named(base, "reg_direct")
    assert module.register_embedding_function(direct) is direct
    registry = module.known_embedding_functions
    assert registry["reg_plain"] is plain
    assert registry["reg_called"] is called
    assert registry["reg_direct"] is direct


def test_a_known_name_is_replaced(side: tuple[Any, Any]) -> None:
    module, base = side
    first = module.register_embedding_function(named(base, "reg_twice"))
    second = module.register_embedding_function(named(base, "reg_twice"))
    assert first is not second
    assert module.known_embedding_functions["reg_twice"] is second


def test_a_failing_name_is_a_value_error(side: tuple[Any, Any]) -> None:
    module, base = side

    class Broken(base):  # type: ignore[misc,valid-type]
        @staticmethod
        def name() -> str:
            raise RuntimeError("no name")

    with pytest.raises(ValueError, match=r"^Failed to register embedding function: no name$"):
        module.register_embedding_function(Broken)


class Flaky:
    """Fails `failures` times with `error`, then answers."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self, input: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return [[float(self.calls)] for _ in input]


def flaky_function(base: Any, flaky: Flaky) -> Any:
    class FlakyFunction(base):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            pass

        def __call__(self, input: Any) -> Any:
            return flaky(input)

    return FlakyFunction()


def test_without_arguments_every_exception_is_retried_until_success(
    side: tuple[Any, Any],
) -> None:
    _, base = side
    flaky = Flaky(5, KeyError("flaky"))
    embeddings = flaky_function(base, flaky).embed_with_retries(["a"])
    assert [vector.tolist() for vector in embeddings] == [[6.0]]
    assert flaky.calls == 6


def test_stop_ends_with_tenacitys_retry_error(side: tuple[Any, Any]) -> None:
    _, base = side
    flaky = Flaky(10, ConnectionError("down"))
    with pytest.raises(tenacity.RetryError):
        flaky_function(base, flaky).embed_with_retries(
            ["a"], stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_none()
        )
    assert flaky.calls == 3


def test_retry_and_reraise_choose_what_is_retried(side: tuple[Any, Any]) -> None:
    _, base = side
    flaky = Flaky(10, ValueError("bad input"))
    with pytest.raises(ValueError, match="bad input"):
        flaky_function(base, flaky).embed_with_retries(
            ["a"],
            retry=tenacity.retry_if_exception_type(ConnectionError),
            reraise=True,
        )
    assert flaky.calls == 1
