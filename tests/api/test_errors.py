"""azurite.errors must stay interchangeable with chromadb.errors (chromadb 1.5.9)."""

import inspect

import pytest

from azurite import errors

# (class, name(), code()) for every class, as Chroma defines them (a few are newer than the
# chromadb 1.5.9 wheel: NOT_IN_CHROMADB_1_5_9).
ERROR_TABLE = [
    (errors.ChromaError, None, 400),
    (errors.InvalidArgumentError, "InvalidArgument", 400),
    (errors.NotFoundError, "NotFoundError", 404),
    (errors.InternalError, "InternalError", 500),
    (errors.AuthorizationError, "AuthorizationError", 401),
    (errors.ChromaAuthError, "AuthError", 403),
    (errors.DuplicateIDError, "DuplicateID", 400),
    (errors.UniqueConstraintError, "UniqueConstraintError", 409),
    (errors.IDAlreadyExistsError, "IDAlreadyExists", 409),
    (errors.InvalidDimensionException, "InvalidDimension", 400),
    (errors.InvalidUUIDError, "InvalidUUID", 400),
    (errors.InvalidHTTPVersion, "InvalidHTTPVersion", 400),
    (errors.BatchSizeExceededError, "BatchSizeExceededError", 413),
    (errors.VersionMismatchError, "VersionMismatchError", 500),
    (errors.RateLimitError, "RateLimitError", 429),
    (errors.QuotaError, "QuotaError", 400),
    (errors.BackoffError, "Backoff", 429),
    (errors.StaleReadError, "StaleReadError", 412),
    (errors.ConditionalWriteConflictError, "ConditionalWriteConflictError", 409),
    (errors.TransactionsNotSupportedError, "TransactionsNotSupported", 501),
]

# Azurite's own refinements of InternalError: code written for chromadb that catches
# InternalError (or ChromaError) still catches them.
AZURITE_ONLY = [
    (errors.DatabaseLockedError, "DatabaseLockedError", 500),
    (errors.CorruptionError, "CorruptionError", 500),
    (errors.AlreadyExistsError, "AlreadyExistsError", 409),
]

# Transaction errors that the installed chromadb 1.5.9 wheel does not define yet.
NOT_IN_CHROMADB_1_5_9 = {
    "BackoffError",
    "StaleReadError",
    "ConditionalWriteConflictError",
    "TransactionsNotSupportedError",
}


def chroma_error_classes(module: object) -> dict[str, type]:
    return {
        name: cls
        for name, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, module.ChromaError)
    }


SHARED_NAMES = [
    cls.__name__ for cls, _, _ in ERROR_TABLE if cls.__name__ not in NOT_IN_CHROMADB_1_5_9
]


def ours_and_chromadb() -> list[tuple[type, type]]:
    import chromadb.errors

    return [(getattr(errors, name), getattr(chromadb.errors, name)) for name in SHARED_NAMES]


def base_names(cls: type) -> list[str]:
    # chromadb mixes in overrides.EnforceOverrides, a development aid with no
    # behaviour at runtime; it is deliberately not reproduced.
    return [base.__name__ for base in cls.__bases__ if base.__name__ != "EnforceOverrides"]


@pytest.mark.parametrize(
    ("cls", "name", "code"), ERROR_TABLE, ids=[row[0].__name__ for row in ERROR_TABLE]
)
def test_name_code_and_base(cls: type, name: str | None, code: int) -> None:
    assert cls.name() == name
    assert cls("boom").code() == code
    expected_base = "Exception" if cls is errors.ChromaError else "ChromaError"
    assert base_names(cls) == [expected_base]


def test_table_covers_every_class() -> None:
    assert {cls for cls, _, _ in ERROR_TABLE + AZURITE_ONLY} == set(
        chroma_error_classes(errors).values()
    )


@pytest.mark.parametrize(
    ("cls", "name", "code"), AZURITE_ONLY, ids=[row[0].__name__ for row in AZURITE_ONLY]
)
def test_azurite_errors_refine_internal_error(cls: type, name: str, code: int) -> None:
    assert cls.name() == name
    assert cls("boom").code() == code
    assert base_names(cls) == ["InternalError"]
    assert errors.error_types[name] is cls


def test_every_chromadb_class_exists_here() -> None:
    import chromadb.errors

    theirs = set(chroma_error_classes(chromadb.errors))
    ours = set(chroma_error_classes(errors))
    assert theirs <= ours
    assert ours - theirs == NOT_IN_CHROMADB_1_5_9 | {cls.__name__ for cls, _, _ in AZURITE_ONLY}


@pytest.mark.parametrize("name", SHARED_NAMES)
def test_matches_chromadb_class(name: str) -> None:
    import chromadb.errors

    ours, theirs = getattr(errors, name), getattr(chromadb.errors, name)
    assert ours.name() == theirs.name()
    assert ours("boom").code() == theirs("boom").code()
    assert ours("a", "b").message() == theirs("a", "b").message()
    assert str(ours("a", "b")) == str(theirs("a", "b"))
    assert base_names(ours) == base_names(theirs)
    assert ours.trace_id is theirs.trace_id is None


def test_subclass_relations_match_chromadb() -> None:
    pairs = ours_and_chromadb()
    for ours_a, theirs_a in pairs:
        for ours_b, theirs_b in pairs:
            assert issubclass(ours_a, ours_b) == issubclass(theirs_a, theirs_b), (
                ours_a,
                ours_b,
            )


def test_error_types_matches_chromadb() -> None:
    import chromadb.errors

    theirs = {key: cls.__name__ for key, cls in chromadb.errors.error_types.items()}
    ours = {key: cls.__name__ for key, cls in errors.error_types.items()}
    assert {key: ours[key] for key in theirs} == theirs
    assert {key: ours[key] for key in ours.keys() - theirs.keys()} == {
        "Backoff": "BackoffError",
        "StaleReadError": "StaleReadError",
        "ConditionalWriteConflictError": "ConditionalWriteConflictError",
        "TransactionsNotSupported": "TransactionsNotSupportedError",
        "DatabaseLockedError": "DatabaseLockedError",
        "CorruptionError": "CorruptionError",
        "AlreadyExistsError": "AlreadyExistsError",
    }


@pytest.mark.parametrize(("key", "cls"), sorted(errors.error_types.items()))
def test_error_types_entry_is_a_chroma_error(key: str, cls: type) -> None:
    assert issubclass(cls, errors.ChromaError)
    # The HTTP name is the class's wire name, except for these historical keys.
    renamed = {"InvalidArgumentError": "InvalidArgument", "ChromaError": None}
    assert cls.name() == renamed.get(key, key)


def test_message_joins_args() -> None:
    assert errors.NotFoundError("a", "b").message() == "a, b"
    assert errors.InternalError().message() == ""
    assert str(errors.InvalidArgumentError("bad")) == "bad"


def test_auth_error_message_is_always_forbidden() -> None:
    error = errors.ChromaAuthError("token expired")
    assert error.message() == "Forbidden"
    assert str(error) == "token expired"


def test_trace_id_defaults_to_none_and_is_per_instance() -> None:
    first, second = errors.InternalError("x"), errors.InternalError("y")
    first.trace_id = "abc"
    assert (first.trace_id, second.trace_id, errors.InternalError.trace_id) == (
        "abc",
        None,
        None,
    )


def test_catchable_as_chroma_error_and_exception() -> None:
    with pytest.raises(errors.ChromaError, match=r"^gone$"):
        raise errors.NotFoundError("gone")
    assert issubclass(errors.ChromaError, Exception)
