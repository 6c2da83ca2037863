"""A handler that fails in a way nobody meant is a bug of the server: it is answered 500
``InternalError`` and logged with its traceback, whatever the exception's type. Only
``HttpError`` and the engine's errors are answered with their own status, the engine's
by their kind."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from azurite import _core
from azurite.errors import AlreadyExistsError, ChromaError, InternalError, NotFoundError
from azurite.server import create_app
from azurite.server.app import endpoint
from azurite.server.errors import HttpError
from azurite.server.handlers import Call

BUGS: dict[str, Exception] = {
    "type": TypeError("unsupported operand type(s) for +: 'int' and 'str'"),
    "value": ValueError("invalid literal for int() with base 10: 'x'"),
    "key": KeyError("missing"),
    "overflow": OverflowError("Python int too large to convert to C long"),
}


#: Errors as the engine raises them, and their wire form.
ENGINE_ERRORS: dict[str, tuple[ChromaError, int, str]] = {
    "not-found": (NotFoundError("Collection [x] does not exist"), 404, "NotFoundError"),
    "already-exists": (AlreadyExistsError("Collection [x] already exists"), 409, "ChromaError"),
    # The kind decides, not the words.
    "internal": (InternalError("Tenant [x] already exists"), 500, "InternalError"),
}


def failing(call: Call) -> Any:
    kind = call.path["kind"]
    if kind == "http":
        raise HttpError(418, "ChromaError", "meant")
    if kind in ENGINE_ERRORS:
        raise ENGINE_ERRORS[kind][0]
    raise BUGS[kind]


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    app = create_app(database=_core.Database(None))
    app.router.routes.append(Route("/failing/{kind}", endpoint(failing), methods=["GET"]))
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("kind", sorted(BUGS))
def test_a_bug_in_a_handler_is_a_logged_500(
    client: TestClient, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    with caplog.at_level(logging.ERROR, logger="azurite.server"):
        reply = client.get(f"/failing/{kind}")
    assert reply.status_code == 500
    bug = BUGS[kind]
    assert reply.json() == {"error": "InternalError", "message": f"{type(bug).__name__}: {bug}"}
    [record] = [record for record in caplog.records if record.name == "azurite.server"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and record.exc_info[1] is bug


def test_meant_failures_are_answered_as_such_and_not_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="azurite.server"):
        meant = client.get("/failing/http")
        engine = {kind: client.get(f"/failing/{kind}") for kind in ENGINE_ERRORS}
    assert (meant.status_code, meant.json()) == (418, {"error": "ChromaError", "message": "meant"})
    for kind, (error, status, name) in ENGINE_ERRORS.items():
        reply = engine[kind]
        assert (reply.status_code, reply.json()) == (
            status,
            {"error": name, "message": error.message()},
        ), kind
        assert reply.headers["chroma-trace-id"] == "0" * 32
    assert [record for record in caplog.records if record.name == "azurite.server"] == []
