"""What the HTTP provider functions share: API keys from the environment, batching, and
turning HTTP failures into exceptions that say which provider failed and why."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


class EmbeddingProviderError(RuntimeError):
    """An embedding provider refused a request or could not be reached."""


def resolve_api_key(api_key: str | None, env_var: str | None, provider: str) -> str:
    """The key given, else the one in `env_var`. Only the variable's name is ever stored
    in a collection's configuration, never the key."""
    if api_key:
        return api_key
    if env_var and os.environ.get(env_var):
        return os.environ[env_var]
    raise ValueError(
        f"The {provider} API key is not set: pass api_key=... or set the environment "
        f"variable {env_var}"
    )


def batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _error_detail(response: Any) -> str:
    """The provider's own error message if the body has one, else the body."""
    try:
        body = response.json()
    except ValueError:
        return str(response.text).strip()[:500]
    if isinstance(body, dict):
        error = body.get("error", body.get("message", body.get("detail", body)))
        if isinstance(error, dict):
            error = error.get("message", error)
        return str(error)
    return str(body)


def post_json(
    provider: str,
    url: str,
    payload: Any,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Any:
    """POSTs `payload` as JSON and returns the decoded JSON answer."""
    import httpx

    try:
        response = httpx.post(url, json=payload, headers=headers, timeout=timeout)
    except httpx.HTTPError as error:
        raise EmbeddingProviderError(f"{provider}: could not reach {url}: {error}") from error
    if response.status_code >= 400:
        raise EmbeddingProviderError(
            f"{provider} returned HTTP {response.status_code}: {_error_detail(response)}"
        )
    try:
        return response.json()
    except ValueError as error:
        raise EmbeddingProviderError(f"{provider} returned a response that is not JSON") from error


def field(provider: str, body: Any, *path: str | int) -> Any:
    """``body[path[0]][path[1]]...``, or an error naming what the provider left out."""
    value = body
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise EmbeddingProviderError(
                f"{provider} returned an unexpected response (no {'/'.join(map(str, path))}): "
                f"{str(body)[:300]}"
            ) from None
    return value


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}
