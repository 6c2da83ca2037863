"""A real ``azurite run`` process per test module (started once, always stopped)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .servers import Server, azurite_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with azurite_server(tmp_path_factory.mktemp("server"), "--allow-reset") as running:
        yield running


# The scenarios are shared by several test modules; their asserts should explain failures.
pytest.register_assert_rewrite(f"{__package__}.scenarios")
