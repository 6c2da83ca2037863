"""What the HTTP provider functions share: API keys from the environment, batching, and
turning HTTP failures into exceptions that say which provider failed and why."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


class EmbeddingProviderError(RuntimeError):
    """An embedding provider refused a request or could not be reached."""


class EmbeddingProviderHTTPError(EmbeddingProviderError, httpx.HTTPStatusError):
    """A provider answered with an HTTP error status. It is also the
    ``httpx.HTTPStatusError`` that chromadb's functions raise through
    ``response.raise_for_status()``, so code catching either sees it."""

    def __init__(self, message: str, *, request: httpx.Request, response: httpx.Response) -> None:
        httpx.HTTPStatusError.__init__(self, message, request=request, response=response)


class EmbeddingProviderResponseError(EmbeddingProviderError, KeyError):
    """A provider's answer lacks what it should hold. It is also the KeyError that
    chromadb's functions raise when they index such an answer."""

    # KeyError would quote the message.
    __str__ = BaseException.__str__


def key_from_environment(
    api_key: str | None, api_key_env_var: str, provider_env_var: str | None = None
) -> tuple[str, str]:
    """(the variable recorded in the configuration, the key), by chromadb's rule for its
    newer providers: a key given directly is used but never stored (with a
    DeprecationWarning); the provider's own variable (``TOGETHER_API_KEY``, ...) when it
    is set replaces `api_key_env_var`."""
    if api_key is not None:
        warnings.warn(
            "Direct api_key configuration will not be persisted. Please use environment "
            "variables via api_key_env_var for persistent storage.",
            DeprecationWarning,
            stacklevel=3,
        )
    if provider_env_var is not None and os.getenv(provider_env_var) is not None:
        api_key_env_var = provider_env_var
    key = api_key or os.getenv(api_key_env_var)
    if not key:
        raise ValueError(f"The {api_key_env_var} environment variable is not set.")
    return api_key_env_var, key


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
    check_status: bool = True,
) -> Any:
    """POSTs `payload` as JSON and returns the decoded JSON answer. Without
    `check_status`, an error answer is returned like any other, for the providers whose
    chromadb functions read the body whatever the status (their callers then find no
    embeddings in it)."""
    try:
        response = httpx.post(url, json=payload, headers=headers, timeout=timeout)
    except httpx.HTTPError as error:
        raise EmbeddingProviderError(f"{provider}: could not reach {url}: {error}") from error
    if check_status and response.status_code >= 400:
        raise EmbeddingProviderHTTPError(
            f"{provider} returned HTTP {response.status_code}: {_error_detail(response)}",
            request=response.request,
            response=response,
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
            raise EmbeddingProviderResponseError(
                f"{provider} returned an unexpected response (no {'/'.join(map(str, path))}): "
                f"{str(body)[:300]}"
            ) from None
    return value


def bearer(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}
