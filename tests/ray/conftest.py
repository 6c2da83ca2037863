"""The local Ray cluster of the Ray tests: two CPUs, as on the project machine, started
for each test module and shut down after it (a module may override it to start the
cluster with settings of its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import ray


@pytest.fixture(scope="module", autouse=True)
def local_cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()
