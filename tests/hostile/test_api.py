"""Hostile arguments for every public Client, AdminClient and Collection method, side by
side with chromadb 1.5.9.

Each example starts both systems from the same seeded collection, makes the same call on
each and demands:

* Azurite raises only what Chroma raises: a class of ``azurite.errors``, ``ValueError`` or
  ``TypeError``, or the very builtin class chromadb raises for that input (chromadb lets
  ``IndexError``, ``OverflowError``, ``RecursionError`` and ``UnicodeEncodeError`` through
  for some inputs);
* the same outcome as chromadb: both succeed, or both raise a class of the same name,
  except for the documented differences of ``known_difference``, and except where
  chromadb itself fails with a class outside its API (``AttributeError``, a Rust panic):
  there any of Chroma's classes from Azurite is the better answer;
* a call that fails changes nothing stored: the databases, every collection, its metadata
  and configuration, and every record (ids, embeddings, metadata, documents, URIs) are the
  same before and after.

``AZURITE_HOSTILE_EXAMPLES`` sets the number of examples per method of the short form
(default 40); the ``soak`` form runs ``AZURITE_HOSTILE_SOAK_EXAMPLES`` (default 1000).
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import chromadb
import chromadb.errors
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import azurite
from azurite import errors

from . import values as v

SHORT_EXAMPLES = int(os.environ.get("AZURITE_HOSTILE_EXAMPLES", "40"))
SOAK_EXAMPLES = int(os.environ.get("AZURITE_HOSTILE_SOAK_EXAMPLES", "1000"))
COLLECTION = "hostile"
SEED = {
    "ids": list(v.SEED_IDS),
    "embeddings": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    "metadatas": [{"n": 1, "s": "x", "l": [1, 2]}, {"n": 2.5, "b": True}, None],
    "documents": ["alpha beta", "gamma", None],
    "uris": ["u1", None, None],
}
ALL_INCLUDE = ["embeddings", "metadatas", "documents", "uris"]
#: Builtin classes Azurite may raise without chromadb raising the same one.
CHROMA_CLASSES = (errors.ChromaError, ValueError, TypeError)
CHROMA_CLASSES_OF_CHROMADB = (chromadb.errors.ChromaError, ValueError, TypeError)


def _open(module: Any) -> Any:
    settings_ = module.Settings(allow_reset=True, anonymized_telemetry=False)
    try:
        client = module.EphemeralClient(settings=settings_)
    except ValueError:
        shared = getattr(module, "SharedSystemClient", None) or module.api.client.SharedSystemClient
        shared.clear_system_cache()
        client = module.EphemeralClient(settings=settings_)
    return client


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[Any, Any]]:
    ours, theirs = _open(azurite), _open(chromadb)
    yield ours, theirs
    ours.reset()
    theirs.reset()


@pytest.fixture(scope="module")
def admins(clients: tuple[Any, Any]) -> Iterator[tuple[Any, Any]]:
    ours, theirs = clients
    admins = azurite.AdminClient(ours.get_settings()), chromadb.AdminClient(theirs.get_settings())
    yield admins
    admins[0].close()


def _seed(client: Any) -> Any:
    client.reset()
    collection = client.create_collection(COLLECTION, embedding_function=None)
    collection.add(**SEED)
    return collection


def _stable(value: Any) -> Any:
    """A form of stored values that compares equal exactly when they are the same (NaN
    equals NaN, float32 arrays become lists)."""
    if isinstance(value, np.ndarray):
        return _stable(value.tolist())
    if isinstance(value, dict):
        return sorted((k, _stable(x)) for k, x in value.items())
    if isinstance(value, (list, tuple)):
        return [_stable(x) for x in value]
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def snapshot(client: Any) -> Any:
    """Everything stored: the databases of the default tenant, and each collection's
    name, metadata, configuration and records."""
    admin = azurite.AdminClient(client.get_settings())
    state: list[Any] = [sorted(d["name"] for d in admin.list_databases())]
    admin.close()
    for collection in sorted(client.list_collections(), key=lambda c: c.name):
        records = collection.get(include=ALL_INCLUDE)
        state.append(
            (
                collection.name,
                _stable(collection.metadata),
                _stable(collection.configuration_json),
                collection.count(),
                _stable({k: records[k] for k in ["ids", *ALL_INCLUDE]}),
            )
        )
    return state


def _outcome(call: Callable[[], Any]) -> BaseException | None:
    # Conversion warnings (numpy overflow) are not errors for a caller: record, do not raise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # a Rust panic is a BaseException
            return error
    return None


def _non_finite(value: Any) -> bool:
    try:
        return not np.isfinite(np.asarray(value, dtype=np.float64)).all()
    except (TypeError, ValueError, OverflowError):
        return False


def _nan_in_list_metadata(metadatas: Any) -> bool:
    items = metadatas if isinstance(metadatas, list) else [metadatas]
    return any(
        isinstance(m, dict)
        and any(isinstance(x, list) and any(_is_nan(i) for i in x) for x in m.values())
        for m in items
    )


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _has_sparse_vector(metadata: Any) -> bool:
    return isinstance(metadata, dict) and any(
        isinstance(value, dict) and value.get("#type") == "sparse_vector"
        for value in metadata.values()
    )


def known_difference(method: str, kwargs: dict[str, Any], ours: Any, theirs: Any) -> bool:
    """Documented differences from chromadb 1.5.9 that hostile input reaches."""
    # A query vector with NaN or an infinity: chromadb answers arbitrary records with NaN
    # or infinite distances; Azurite refuses it with the message chromadb gives for such a
    # vector in a write (InvalidArgumentError).
    if (
        method == "query"
        and theirs is None
        and isinstance(ours, errors.InvalidArgumentError)
        and _non_finite(kwargs.get("query_embeddings"))
    ):
        return True
    # Documents and URIs together without embeddings: chromadb embeds whichever comes first
    # in its *set* of embeddable fields, an order that changes with the hash seed; when it
    # picks the URIs it asks for a data loader, where Azurite embeds the documents.
    if (
        isinstance(theirs, ValueError)
        and "You must set a data loader" in str(theirs)
        and kwargs.get("uris") is not None
        and (kwargs.get("documents") is not None or kwargs.get("query_texts") is not None)
    ):
        return True
    # Embeddings of different lengths together with an argument the engine cannot convert
    # (a lone surrogate, a None metadata value in add): Azurite reports the lengths first
    # (it builds one matrix in Python before calling the engine); chromadb's engine converts
    # every argument before it compares lengths. Either is one of Chroma's classes.
    if (
        isinstance(ours, errors.InvalidArgumentError)
        and str(ours) == "Inconsistent dimensions in provided embeddings"
        and isinstance(theirs, (UnicodeEncodeError, TypeError))
    ):
        return True
    # A sparse vector in collection metadata: chromadb converts it, then refuses a malformed
    # one with InvalidArgumentError and panics on a well-formed one ("Sparse vector is not
    # yet supported for local"); Azurite refuses it when converting (TypeError).
    if (
        method in ("create_collection", "get_or_create_collection", "modify")
        and isinstance(ours, TypeError)
        and _has_sparse_vector(kwargs.get("metadata"))
    ):
        return True
    # A spann configuration given to modify: Azurite refuses any with chromadb's ValueError
    # before changing anything. chromadb's engine first refuses a malformed one
    # (InvalidArgumentError), and applies the rest of a well-formed call before raising the
    # ValueError, so its failed call may have renamed the collection.
    if (
        method == "modify"
        and isinstance(ours, ValueError)
        and str(ours) == "Trying to update SPANN config but schema has HNSW"
    ):
        return True
    # list_databases with a tenant that cannot be UTF-8 and a limit or offset of the wrong
    # type: chromadb's engine takes (limit, offset, tenant) and converts the limit first;
    # Azurite's takes (tenant, limit, offset). Both are classes chromadb raises.
    if (
        method == "list_databases"
        and isinstance(ours, UnicodeEncodeError)
        and isinstance(theirs, TypeError)
        and any(not isinstance(kwargs.get(k), (int, type(None))) for k in ("limit", "offset"))
    ):
        return True
    # HNSW parameters that cannot build a graph (max_neighbors outside 1..=1024,
    # ef_construction 0): chromadb stores them, Azurite refuses them up front so that the
    # graph is never built with them (commit 8494388: hnsw_rs ended the process).
    if isinstance(ours, errors.InvalidArgumentError) and str(ours).startswith(
        ("max_neighbors must be between", "ef_construction must be at least")
    ):
        return theirs is None
    # A NaN inside a list metadata value: chromadb fails in its log compaction
    # ("Error in compaction: Failed to pull logs from the log store"); Azurite stores it.
    return (
        method in ("add", "upsert", "update")
        and ours is None
        and type(theirs).__name__ == "InvalidArgumentError"
        and _nan_in_list_metadata(kwargs.get("metadatas"))
    )


def check(
    clients: tuple[Any, Any],
    admins: tuple[Any, Any],
    target: str,
    method: str,
    kwargs: dict[str, Any],
) -> None:
    ours_client, theirs_client = clients
    ours_collection, theirs_collection = _seed(ours_client), _seed(theirs_client)
    ours_target, theirs_target = {
        "client": clients,
        "admin": admins,
        "collection": (ours_collection, theirs_collection),
    }[target]
    before = snapshot(ours_client)
    # Azurite first: chromadb's validation mutates some arguments in place.
    ours = _outcome(lambda: getattr(ours_target, method)(**_copy(kwargs)))
    theirs = _outcome(lambda: getattr(theirs_target, method)(**_copy(kwargs)))
    if ours is not None:
        assert isinstance(ours, CHROMA_CLASSES) or type(ours) is type(theirs), (
            f"{method} raised {type(ours).__name__}: {ours!r:.300}"
        )
        assert snapshot(ours_client) == before, f"failed {method} changed the stored state"
        if method == "create_tenant" and isinstance(kwargs["name"], str):
            assert _outcome(lambda: admins[0].get_tenant(kwargs["name"])) is not None
    # Where chromadb itself fails with a class outside its API (AttributeError, a panic...
    # from deep inside on junk input), any of Chroma's classes from Azurite is better.
    chroma_contract = theirs is None or isinstance(theirs, CHROMA_CLASSES_OF_CHROMADB)
    if chroma_contract and not known_difference(method, kwargs, ours, theirs):
        assert _chromadb_class_name(ours) == type(theirs).__name__, (
            f"{method}: azurite {type(ours).__name__}: {str(ours)[:300]!r}; "
            f"chromadb {type(theirs).__name__}: {str(theirs)[:300]!r}"
        )


#: Azurite's own exception classes, each a subclass of the chromadb class that chromadb
#: raises for the same case (see azurite.errors).
AZURITE_ONLY_ERRORS = {"AlreadyExistsError", "CorruptionError", "DatabaseLockedError"}


def _chromadb_class_name(error: BaseException | None) -> str:
    """The class chromadb code would catch: Azurite's own subclasses count as their base."""
    return next(c.__name__ for c in type(error).__mro__ if c.__name__ not in AZURITE_ONLY_ERRORS)


def _copy(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the arguments for each system (lists and dicts one level deep, which
    is what the validators mutate)."""
    return {k: (list(x) if isinstance(x, list) else x) for k, x in kwargs.items()}


def optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=fields)


def write_arguments() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"ids": v.ids},
        optional={
            "embeddings": v.embeddings,
            "metadatas": v.metadatas,
            "documents": v.documents,
            "uris": v.uris,
        },
    )


METHODS: dict[str, tuple[str, st.SearchStrategy[dict[str, Any]]]] = {
    "add": ("collection", write_arguments()),
    "upsert": ("collection", write_arguments()),
    "update": ("collection", write_arguments()),
    "get": (
        "collection",
        optional(
            ids=v.ids,
            where=v.where,
            limit=v.counts,
            offset=v.counts,
            where_document=v.where_document,
            include=v.include,
        ),
    ),
    "query": (
        "collection",
        optional(
            query_embeddings=v.embeddings,
            query_texts=v.documents,
            ids=v.ids,
            n_results=v.n_results,
            where=v.where,
            where_document=v.where_document,
            include=v.include,
        ),
    ),
    "delete": (
        "collection",
        optional(ids=v.ids, where=v.where, where_document=v.where_document, limit=v.counts),
    ),
    "peek": ("collection", optional(limit=v.counts)),
    "count": ("collection", st.just({})),
    "modify": (
        "collection",
        optional(
            name=v.collection_names,
            metadata=v.collection_metadata,
            configuration=v.configurations,
        ),
    ),
    "create_collection": (
        "client",
        st.fixed_dictionaries(
            {"name": v.collection_names, "embedding_function": st.none()},
            optional={
                "metadata": v.collection_metadata,
                "configuration": v.configurations,
                "get_or_create": st.booleans(),
            },
        ),
    ),
    "get_or_create_collection": (
        "client",
        st.fixed_dictionaries(
            {"name": v.collection_names, "embedding_function": st.none()},
            optional={"metadata": v.collection_metadata, "configuration": v.configurations},
        ),
    ),
    "get_collection": (
        "client",
        st.fixed_dictionaries({"name": v.collection_names, "embedding_function": st.none()}),
    ),
    "delete_collection": ("client", st.fixed_dictionaries({"name": v.collection_names})),
    "list_collections": ("client", optional(limit=v.counts, offset=v.counts)),
    "create_tenant": ("admin", st.fixed_dictionaries({"name": v.collection_names})),
    "get_tenant": ("admin", st.fixed_dictionaries({"name": v.collection_names})),
    "create_database": (
        "admin",
        st.fixed_dictionaries({"name": v.collection_names}, optional={"tenant": v.tenants}),
    ),
    "get_database": (
        "admin",
        st.fixed_dictionaries({"name": v.collection_names}, optional={"tenant": v.tenants}),
    ),
    "delete_database": (
        "admin",
        st.fixed_dictionaries({"name": v.collection_names}, optional={"tenant": v.tenants}),
    ),
    "list_databases": ("admin", optional(limit=v.counts, offset=v.counts, tenant=v.tenants)),
}


def _property(examples: int) -> Callable[..., None]:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
    @given(data=st.data())
    def run(
        clients: tuple[Any, Any], admins: tuple[Any, Any], method: str, data: st.DataObject
    ) -> None:
        target, arguments = METHODS[method]
        check(clients, admins, target, method, data.draw(arguments, label=method))

    return run


@pytest.mark.parametrize("method", sorted(METHODS))
def test_hostile_arguments(clients: tuple[Any, Any], admins: tuple[Any, Any], method: str) -> None:
    # Deep filters: Python's own recursion limit is part of what chromadb's outcome is.
    assert sys.getrecursionlimit() >= 1000
    _property(SHORT_EXAMPLES)(clients, admins, method)


@pytest.mark.soak
@pytest.mark.parametrize("method", sorted(METHODS))
def test_hostile_arguments_soak(
    clients: tuple[Any, Any], admins: tuple[Any, Any], method: str
) -> None:
    _property(SOAK_EXAMPLES)(clients, admins, method)
