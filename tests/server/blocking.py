"""Drives Azurite's asynchronous client from the synchronous scenario suite."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from azurite.api.http_client import AsyncCollection


class Blocking:
    """Wraps an object whose methods are coroutines: each call runs to completion on
    ``loop`` and returns its result; collections it returns are wrapped in turn."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def _wrap(self, value: Any) -> Any:
        if isinstance(value, AsyncCollection):
            return Blocking(value, self._loop)
        if isinstance(value, list) and value and isinstance(value[0], AsyncCollection):
            return [Blocking(item, self._loop) for item in value]
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
