"""Shared fixtures of the test suite.

Every ephemeral client of a process shares one in-memory database (as in chromadb), and a
client cannot be created for that database with settings other than the ones it was opened
with. The fixtures therefore always use the same settings, reset the database before each
test, and close their clients afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import azurite
from azurite import AdminClient, Collection, EphemeralClient, PersistentClient, Settings

#: Settings of every ephemeral client the fixtures create.
EPHEMERAL_SETTINGS = {"allow_reset": True}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long forms of the reliability, hostile-input and load tests (marker ``soak``)
    run only when asked for with ``-m soak``; the plain test command runs their short
    forms, which are separate tests, so nothing is skipped."""
    if "soak" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("soak") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(autouse=True, scope="module")
def fresh_systems_per_module() -> Iterator[None]:
    """Each test module starts without open systems, in Azurite and in chromadb alike, so
    that one module's clients (and their settings) never leak into the next."""
    clear_all_system_caches()
    yield
    clear_all_system_caches()


def clear_all_system_caches() -> None:
    azurite.SharedSystemClient.clear_system_cache()
    chromadb = sys.modules.get("chromadb")
    if chromadb is not None:
        chromadb.api.client.SharedSystemClient.clear_system_cache()


def ephemeral_settings() -> Settings:
    return Settings(**EPHEMERAL_SETTINGS)


def open_ephemeral_client() -> azurite.Client:
    """An ephemeral client with the fixture settings, even if a client with other settings
    was leaked by an earlier test (it would hold the shared in-memory database)."""
    try:
        return EphemeralClient(ephemeral_settings())
    except ValueError:
        azurite.SharedSystemClient.clear_system_cache()
        return EphemeralClient(ephemeral_settings())


def new_collection(client: Any, name: str = "coll", **kwargs: Any) -> Collection:
    """A collection without embedding function: records need explicit embeddings."""
    return client.create_collection(name, embedding_function=None, **kwargs)


@pytest.fixture
def client() -> Iterator[azurite.Client]:
    """An ephemeral client (allow_reset=True) of an empty database."""
    c = open_ephemeral_client()
    c.reset()
    yield c
    c.close()


@pytest.fixture
def admin(client: azurite.Client) -> Iterator[AdminClient]:
    """An admin client of the same (empty) ephemeral database as `client`."""
    a = AdminClient(client.get_settings())
    yield a
    a.close()


@pytest.fixture
def persistent_path(tmp_path: Path) -> Path:
    return tmp_path / "db"


@pytest.fixture
def persistent_client(persistent_path: Path) -> Iterator[azurite.Client]:
    """A client of a new database directory (default settings)."""
    c = PersistentClient(persistent_path)
    yield c
    c.close()


@pytest.fixture
def make_collection(client: azurite.Client) -> Callable[..., Collection]:
    """`make_collection(name="coll", **kwargs)`: a collection of `client` without
    embedding function."""

    def make(name: str = "coll", **kwargs: Any) -> Collection:
        return new_collection(client, name, **kwargs)

    return make


@pytest.fixture
def collection(make_collection: Callable[..., Collection]) -> Collection:
    """An empty l2 collection named "coll" without embedding function."""
    return make_collection()


@pytest.fixture
def no_open_systems() -> Iterator[None]:
    """For tests that open clients with other settings than the fixtures: closes every
    database this process holds open before and after the test."""
    azurite.SharedSystemClient.clear_system_cache()
    yield
    azurite.SharedSystemClient.clear_system_cache()
