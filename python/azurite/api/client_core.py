"""What the synchronous and asynchronous clients share: everything but the engine call.

Like a collection's methods, a client's methods prepare the engine's arguments, call the
engine, and shape its answer (a collection model becomes a collection object after the
embedding-function checks). The preparing and shaping live here, without any I/O.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any, Generic, NamedTuple, TypeVar
from uuid import UUID

from azurite.api import embedding
from azurite.api.engine import CollectionModel, DatabaseModel, Metadata

CollectionT = TypeVar("CollectionT")


class CreateCollectionCall(NamedTuple):
    tenant: str
    database: str
    name: str
    configuration_json: str | None
    metadata: Metadata | None
    get_or_create: bool
    schema_json: str | None


def database_record(model: DatabaseModel) -> dict[str, Any]:
    """A database as the admin client reports it (its id as a UUID)."""
    return {"id": UUID(model["id"]), "name": model["name"], "tenant": model["tenant"]}


def _copied(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def schema_json(schema: Any) -> str | None:
    """A schema in the JSON form chromadb sends it; the core reconciles it with the
    configuration and refuses what it cannot honour."""
    if not schema:
        return None
    return json.dumps(schema.serialize_to_json())


def configuration_json(
    configuration: dict[str, Any] | None,
    metadata: Metadata | None,
    embedding_function: Any,
) -> str | None:
    """Serialises a create-time configuration the way Chroma's client does, including
    filling in the space that the embedding function prefers."""
    configuration = dict(configuration or {})
    configured_function = configuration.get("embedding_function")
    embedding.check_conflict_on_create(embedding_function, configured_function)
    function = configured_function if configured_function is not None else embedding_function
    if function is None and not configuration:
        return None
    if configuration.get("hnsw") is not None and configuration.get("spann") is not None:
        raise ValueError("hnsw and spann cannot both be provided")
    entry = embedding.configuration_entry(function) or {"type": "legacy"}
    # A value that is not an object is sent as it is, for the engine to refuse
    # (InvalidArgumentError), as chromadb does.
    serialised: dict[str, Any] = {
        "hnsw": _copied(configuration.get("hnsw")),
        "spann": _copied(configuration.get("spann")),
        "embedding_function": entry,
    }
    space = embedding.default_space(function) if entry["type"] == "known" else None
    if space is not None:
        index = serialised["hnsw"] if serialised["hnsw"] is not None else serialised["spann"]
        if isinstance(index, dict):
            index.setdefault("space", space)
        elif "hnsw:space" not in (metadata or {}):
            serialised["hnsw"] = {"space": space}
    return json.dumps(serialised)


class ClientCore(ABC, Generic[CollectionT]):
    """A client of one tenant and database: the preparation of its collection calls and
    the collections it makes of the engine's answers."""

    tenant: str
    database: str

    @abstractmethod
    def _new_collection(
        self, model: CollectionModel, embedding_function: Any, data_loader: Any
    ) -> CollectionT:
        """The collection object of this kind of client."""

    def _prepare_create_collection(
        self,
        name: str,
        schema: Any,
        configuration: dict[str, Any] | None,
        metadata: Metadata | None,
        embedding_function: Any,
        get_or_create: bool,
    ) -> CreateCollectionCall:
        return CreateCollectionCall(
            self.tenant,
            self.database,
            name,
            configuration_json(configuration, metadata, embedding_function),
            metadata,
            get_or_create,
            schema_json(schema),
        )

    def _opened_collection(
        self, model: CollectionModel, embedding_function: Any, data_loader: Any
    ) -> CollectionT:
        """A collection that exists already: the function passed must not contradict the
        one stored with it."""
        stored = json.loads(model["configuration_json"]) or {}
        persisted = stored.get("embedding_function")
        embedding.check_conflict_on_get(embedding_function, persisted)
        return self._new_collection(model, embedding_function, data_loader)

    def _created_collection(
        self,
        model: CollectionModel,
        embedding_function: Any,
        data_loader: Any,
        get_or_create: bool,
    ) -> CollectionT:
        if get_or_create:
            return self._opened_collection(model, embedding_function, data_loader)
        return self._new_collection(model, embedding_function, data_loader)

    def _listed_collections(self, models: list[CollectionModel]) -> list[CollectionT]:
        return [self._new_collection(m, embedding.DEFAULT_EMBEDDING_FUNCTION, None) for m in models]
