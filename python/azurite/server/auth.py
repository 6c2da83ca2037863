"""Optional token authentication, as Chroma's clients send it.

A client authenticates with ``Authorization: Bearer <token>`` or ``X-Chroma-Token:
<token>``. A request without a token gets 401, one with a wrong token 403, both with
the ``AuthError`` name that Chroma's clients turn into ``ChromaAuthError``. Liveness
routes and the API description stay open so that probes and browsers need no secret.
"""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from azurite.server.errors import error_response

PUBLIC_PATHS = frozenset(
    {"/api/v2", "/api/v2/heartbeat", "/api/v2/version", "/openapi.json", "/docs"}
)


def presented_token(headers: Headers) -> str | None:
    """The token a request carries, if any."""
    authorization = headers.get("authorization")
    if authorization is not None:
        # HTTP servers strip a header value's trailing whitespace, so "Bearer " arrives as
        # "Bearer": a Bearer scheme without credentials is an empty (wrong) token.
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return credentials.strip()
    return headers.get("x-chroma-token")


class TokenAuthMiddleware:
    """Refuses HTTP requests that do not carry the configured token."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        token = presented_token(Headers(scope=scope))
        if token is None:
            response = error_response(401, "AuthError", "Unauthorized")
        elif not hmac.compare_digest(token.encode(), self.expected):
            # compare_digest takes the same time wherever the first difference is.
            response = error_response(403, "AuthError", "Forbidden")
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
