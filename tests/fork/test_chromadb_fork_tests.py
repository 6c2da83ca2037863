"""chromadb 1.5.9's own fork tests, which its suite runs only against distributed Chroma,
run with that skip lifted: chromadb's ``HttpClient`` against a real ``azurite run``. The
fork count tests as written; the fork state machine (random upserts, deletes and forks,
every fork checked against its own record set) with a bounded number of examples."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import chromadb
import hypothesis
import pytest
from chromadb.test.api import test_fork_count_api as fork_count_tests
from chromadb.test.property.test_fork import ForkStateMachine
from hypothesis.stateful import run_state_machine_as_test
from server.servers import Server

FORK_COUNT_TESTS = [
    getattr(fork_count_tests, name)
    for name in dir(fork_count_tests)
    if name.startswith("test_fork_count")
]


class Factories:
    """chromadb's ``client_factories`` fixture, as its fork count tests use it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.made: list[Any] = []

    def create_client_from_system(self) -> Any:
        client = chromadb.HttpClient(
            host=self.server.host,
            port=self.server.port,
            settings=chromadb.Settings(allow_reset=True),
        )
        self.made.append(client)
        return client

    def close(self) -> None:
        # chromadb 1.5.9 never closes its sessions (the client's and its admin client's).
        for client in self.made:
            client._server._session.close()
            client._admin_client._server._session.close()


@pytest.fixture
def factories(server: Server) -> Iterator[Factories]:
    made = Factories(server)
    yield made
    made.close()


def test_every_fork_count_test_is_run() -> None:
    assert len(FORK_COUNT_TESTS) == 5


@pytest.mark.parametrize("test", FORK_COUNT_TESTS, ids=lambda test: test.__name__)
def test_chromadbs_fork_count_test(factories: Factories, test: Callable[[Any], None]) -> None:
    test(factories)


def test_chromadbs_fork_state_machine(
    factories: Factories, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    client = factories.create_client_from_system()
    client.reset()
    run_state_machine_as_test(
        lambda: ForkStateMachine(client),
        settings=hypothesis.settings(
            max_examples=12,
            stateful_step_count=12,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(hypothesis.HealthCheck),
        ),
    )
