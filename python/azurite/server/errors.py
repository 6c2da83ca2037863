"""Errors on the wire: ``{"error": <name>, "message": <text>}`` with Chroma's status codes.

Every error response carries a ``chroma-trace-id`` header; Azurite does not trace, so it
is all zeros, which is what a Chroma server sends when tracing is off.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

from azurite import errors

TRACE_HEADERS = {"chroma-trace-id": "0" * 32}

#: Wire name Chroma uses for errors that have no more specific name.
GENERIC = "ChromaError"


class HttpError(Exception):
    """An error the server reports itself, with an explicit status and wire name."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message


def invalid_argument(message: str) -> HttpError:
    """400 ``InvalidArgumentError``: the client sent something the API rules refuse."""
    return HttpError(400, "InvalidArgumentError", message)


def unprocessable(message: str) -> HttpError:
    """422: a JSON body that does not fit the request type, worded like Chroma's server."""
    return HttpError(
        422, GENERIC, f"Failed to deserialize the JSON body into the target type: {message}"
    )


def not_implemented(what: str) -> HttpError:
    return HttpError(501, GENERIC, f"{what} is not implemented by Azurite")


def error_response(status: int, name: str, message: str) -> Response:
    return JSONResponse({"error": name, "message": message}, status, headers=TRACE_HEADERS)


def _wire_form(error: errors.ChromaError) -> tuple[int, str]:
    """Status and wire name of an engine error, as Chroma's server reports the same case."""
    if isinstance(error, errors.InvalidArgumentError):
        return 400, "InvalidArgumentError"
    if isinstance(error, errors.NotFoundError):
        return 404, "NotFoundError"
    if isinstance(error, errors.AuthorizationError):
        return 403, GENERIC
    if isinstance(error, errors.AlreadyExistsError):
        # An InternalError for the embedded client, as in Chroma; Chroma's server reports
        # the case as 409 with its generic name. Checked before InternalError, its base.
        return 409, GENERIC
    if isinstance(error, errors.InternalError):
        return 500, "InternalError"
    return error.code(), error.name() or GENERIC


def engine_error_response(error: errors.ChromaError) -> Response:
    status, name = _wire_form(error)
    return error_response(status, name, error.message())
