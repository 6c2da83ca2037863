"""Drives asynchronous clients (Azurite's and chromadb's) from the synchronous scenario
suite."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from azurite.api.http_client import AsyncCollection


class Blocking:
    """Wraps an object whose methods are coroutines: each call runs to completion on
    ``loop`` and returns its result; returned objects of the ``wraps`` classes (the
    client's collections) are wrapped in turn."""

    def __init__(
        self,
        target: Any,
        loop: asyncio.AbstractEventLoop,
        wraps: tuple[type, ...] = (AsyncCollection,),
    ) -> None:
        self._target = target
        self._loop = loop
        self._wraps = wraps

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, self._wraps):
            return Blocking(value, self._loop, self._wraps)
        if isinstance(value, list) and value and isinstance(value[0], self._wraps):
            return [Blocking(item, self._loop, self._wraps) for item in value]
        return value

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            if inspect.isawaitable(result):
                result = self._loop.run_until_complete(result)
            return self._wrap(result)

        return call
