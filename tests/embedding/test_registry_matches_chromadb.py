"""Azurite's registry of embedding functions against chromadb 1.5.9's, name by name: the
same registry keys, class names, ``name()``, constructor parameters (in chromadb's order,
with chromadb's defaults; Azurite may add parameters after them, such as ``api_base``)
and exported names."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import chromadb.utils.embedding_functions as chroma_functions
import pytest

import azurite.embedding_functions as our_functions

REGISTRY = sorted(chroma_functions.known_embedding_functions)


def test_every_registered_function_exists() -> None:
    assert len(REGISTRY) == 29
    assert sorted(our_functions.known_embedding_functions.keys() & set(REGISTRY)) == REGISTRY


def test_every_exported_name_exists() -> None:
    missing = set(chroma_functions.__all__) - set(our_functions.__all__)
    assert missing == set()
    for name in our_functions.__all__:
        assert hasattr(our_functions, name), name


def parameters(cls: Any) -> list[inspect.Parameter]:
    return [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]


@pytest.mark.parametrize("key", REGISTRY)
def test_same_class_name_and_constructor(key: str) -> None:
    theirs = chroma_functions.known_embedding_functions[key]
    ours = our_functions.known_embedding_functions[key]
    assert ours.__name__ == theirs.__name__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert ours.name() == theirs.name()
    their_parameters = parameters(theirs)
    our_parameters = parameters(ours)[: len(their_parameters)]
    assert [(p.name, p.kind) for p in our_parameters] == [
        (p.name, p.kind) for p in their_parameters
    ]
    for mine, chromas in zip(our_parameters, their_parameters):
        if isinstance(chromas.default, (str, int, float, bool, type(None))):
            assert mine.default == chromas.default, mine.name
    for extra in parameters(ours)[len(their_parameters) :]:
        assert extra.default is not inspect.Parameter.empty, extra.name
