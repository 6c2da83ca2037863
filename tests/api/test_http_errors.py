"""How the HTTP clients turn a server's error answer into an exception: by the error name
the body gives, and for 409 answers by the status (the already-exists kind). The answers
are those Chroma's server and `azurite run` send; tests/api/test_siblings.py drives the
same clients against a real `azurite run`."""

from __future__ import annotations

import httpx
import pytest

from azurite import errors
from azurite.api.remote import raise_for_error


def answer(status: int, name: str, message: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"error": name, "message": message},
        headers={"chroma-trace-id": "1" * 32},
    )


@pytest.mark.parametrize(
    ("name", "message", "expected"),
    [
        # azurite run and Chroma's server name an existing collection or database generically.
        ("ChromaError", "Collection [c] already exists", errors.AlreadyExistsError),
        ("InternalError", "Database [d] already exists", errors.AlreadyExistsError),
        ("AlreadyExistsError", "Tenant [t] already exists", errors.AlreadyExistsError),
        # Chroma's server reports its conditional-write conflict generically, by this text.
        ("ChromaError", "conditional write conflict", errors.ConditionalWriteConflictError),
        # Other 409 kinds keep their own classes.
        ("UniqueConstraintError", "taken", errors.UniqueConstraintError),
        ("IDAlreadyExists", "id taken", errors.IDAlreadyExistsError),
        ("ConditionalWriteConflictError", "conflict", errors.ConditionalWriteConflictError),
    ],
)
def test_a_409_answer(name: str, message: str, expected: type[errors.ChromaError]) -> None:
    with pytest.raises(expected) as raised:
        raise_for_error(answer(409, name, message))
    assert type(raised.value) is expected
    assert str(raised.value) == message
    assert raised.value.trace_id == "1" * 32


def test_other_answers_are_decoded_by_name() -> None:
    with pytest.raises(errors.InternalError) as raised:
        raise_for_error(answer(500, "InternalError", "boom"))
    assert type(raised.value) is errors.InternalError
    with pytest.raises(errors.NotFoundError, match=r"^gone$"):
        raise_for_error(answer(404, "NotFoundError", "gone"))
