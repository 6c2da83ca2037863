"""One function per API v2 operation: decode the request, call the engine, shape the reply.

Handlers run on worker threads (the engine releases the GIL, so requests run in
parallel); each returns the JSON-able response body and raises ``HttpError`` or an
engine error for failures.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams

from azurite import __version__, _core, errors
from azurite.api.client import DEFAULT_DATABASE, DEFAULT_TENANT, MAX_BATCH_SIZE
from azurite.api.engine import DatabaseModel
from azurite.server import wire
from azurite.server.config import ServerConfig
from azurite.server.errors import (
    GENERIC,
    HttpError,
    invalid_argument,
    not_implemented,
    unprocessable,
)
from azurite.server.wire import Body

READ_LEVELS = ("index_and_wal", "index_only", "index_and_bounded_wal")
EMPTY: dict[str, Any] = {}
#: The engine's words (the embedded client's) for a delete limit without a filter, and
#: those of Chroma's server, which names the fields it validates.
LIMIT_WITHOUT_FILTER = (
    "limit can only be specified when a where or where_document clause is provided"
)
CHROMA_LIMIT_WITHOUT_FILTER = (
    "Validation error: limit, where: limit can only be specified when a where clause is provided"
)


@dataclass
class Call:
    """Everything a handler needs from one request."""

    database: _core.Database
    config: ServerConfig
    path: dict[str, str]
    query: QueryParams
    body: Any = None

    def payload(self, name: str) -> Body:
        """The body, which must fit Chroma's request type ``name``."""
        return Body(self.body, name)

    def query_non_negative_integer(self, name: str) -> int | None:
        """An optional unsigned 32-bit integer in the query string (a limit, an offset)."""
        raw = self.query.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value < 0:
            raise invalid_argument(
                f"Failed to deserialize query string: {name}: invalid digit found in string"
            )
        if value > wire.U32_MAX:
            raise invalid_argument(
                f"Failed to deserialize query string: {name}: number too large to fit in target type"
            )
        return value

    @property
    def tenant(self) -> str:
        return self.path["tenant"]

    def database_name(self) -> str:
        """The database of a collection route, checked with Chroma's length rule."""
        name = self.path["database"]
        if len(name) < 3:
            raise invalid_argument("database name must be at least 3 characters")
        return name

    @property
    def collection_id(self) -> str:
        """The collection id of a record route, as sent: the engine checks it."""
        return self.path["collection_id"]


# ---- system


def heartbeat(call: Call) -> Any:
    return {"nanosecond heartbeat": time.time_ns()}


def version(call: Call) -> Any:
    return __version__


def pre_flight_checks(call: Call) -> Any:
    # Azurite takes any batch size; the value keeps clients that split by it working.
    return {"max_batch_size": MAX_BATCH_SIZE, "supports_base64_encoding": True}


def identity(call: Call) -> Any:
    return {"user_id": "", "tenant": DEFAULT_TENANT, "databases": [DEFAULT_DATABASE]}


def healthcheck(call: Call) -> Any:
    return {"is_executor_ready": True, "is_log_client_ready": True}


def reset(call: Call) -> Any:
    if not call.config.allow_reset:
        raise HttpError(403, GENERIC, "Reset is disabled by config")
    call.database.reset()
    return True


def backup(call: Call) -> Any:
    # The engine refuses a destination that holds anything, so a backup never overwrites.
    return call.database.backup(call.payload("BackupPayload").required_string("path"))


# ---- tenants and databases


def create_tenant(call: Call) -> Any:
    call.database.create_tenant(call.payload("CreateTenantPayload").required_string("name"))
    return EMPTY


def get_tenant(call: Call) -> Any:
    call.database.get_tenant(call.tenant)
    return {"name": call.tenant, "resource_name": None}


def update_tenant(call: Call) -> Any:
    call.payload("UpdateTenantPayload")
    call.database.get_tenant(call.tenant)
    return EMPTY


def _database_json(record: DatabaseModel) -> dict[str, str]:
    return {"id": record["id"], "name": record["name"], "tenant": record["tenant"]}


#: The rule Chroma's server applies to a new database's name (the embedded client only
#: checks its length, which the engine does).
DATABASE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]")


def create_database(call: Call) -> Any:
    name = call.payload("CreateDatabasePayload").required_string("name")
    if DATABASE_NAME.fullmatch(name) is None:
        raise invalid_argument(
            "Expected a name containing 3-512 characters from [a-zA-Z0-9._-], starting and "
            f"ending with a character in [a-zA-Z0-9]. Got: {name}"
        )
    call.database.create_database(name, call.tenant)
    return EMPTY


def list_databases(call: Call) -> Any:
    records = call.database.list_databases(
        call.tenant,
        call.query_non_negative_integer("limit"),
        call.query_non_negative_integer("offset") or 0,
    )
    return [_database_json(record) for record in records]


def get_database(call: Call) -> Any:
    return _database_json(call.database.get_database(call.path["database"], call.tenant))


def delete_database(call: Call) -> Any:
    call.database.delete_database(call.path["database"], call.tenant)
    return EMPTY


# ---- collections


def list_collections(call: Call) -> Any:
    models = call.database.list_collections(
        call.tenant,
        call.database_name(),
        call.query_non_negative_integer("limit"),
        call.query_non_negative_integer("offset") or 0,
    )
    return [wire.collection(model) for model in models]


def count_collections(call: Call) -> Any:
    return call.database.count_collections(call.tenant, call.database_name())


def create_collection(call: Call) -> Any:
    body = call.payload("CreateCollectionPayload")
    configuration = wire.configuration(body, "configuration", update=False)
    schema = wire.schema(body)
    metadata = body.metadata("metadata", allow_null_values=False)
    try:
        model = call.database.create_collection(
            call.tenant,
            call.database_name(),
            body.required_string("name"),
            json.dumps(configuration) if configuration is not None else None,
            metadata,
            body.boolean("get_or_create"),
            json.dumps(schema) if schema is not None else None,
        )
    except errors.InvalidArgumentError as error:
        raise _with_metadata_problem(error, metadata) from None
    return wire.collection(model)


def _with_metadata_problem(
    error: errors.InvalidArgumentError, metadata: dict[str, Any] | None
) -> Exception:
    """Chroma's server validates a new collection's name and metadata together and reports
    both problems; the engine stops at the name."""
    message = error.message()
    problem = wire.metadata_key_problem(metadata)
    if message.startswith("Validation error: name: ") and problem is not None:
        return invalid_argument(f"{message}\nmetadata: {problem}")
    return error


def get_collection(call: Call) -> Any:
    model = call.database.get_collection(call.tenant, call.database_name(), call.path["name"])
    return wire.collection(model)


def get_collection_by_id(call: Call) -> Any:
    model = call.database.get_collection_by_id(
        call.tenant, call.database_name(), call.path["collection_id"]
    )
    return wire.collection(model)


def modify_collection(call: Call) -> Any:
    body = call.payload("UpdateCollectionPayload")
    collection_id = call.collection_id
    new_metadata = body.metadata("new_metadata", allow_null_values=True)
    if new_metadata is not None and not new_metadata:
        raise invalid_argument("Validation error: new_metadata: Metadata cannot be empty")
    new_configuration = wire.configuration(body, "new_configuration", update=True)
    # Ids are global, but the database in the path is still checked, as Chroma does.
    call.database_name()
    try:
        call.database.modify_collection(
            collection_id,
            body.string("new_name"),
            new_metadata,
            json.dumps(new_configuration) if new_configuration is not None else None,
        )
    except errors.NotFoundError as error:
        # The engine words it as embedded chromadb's modify does; Chroma's server ends it
        # with a period, as on its record routes.
        raise HttpError(404, "NotFoundError", f"{error.message()}.") from None
    return EMPTY


def fork_collection(call: Call) -> Any:
    body = call.payload("ForkCollectionPayload")
    # Ids are global, but the database in the path is still checked, as Chroma does.
    call.database_name()
    return wire.collection(
        call.database.fork_collection(call.collection_id, body.required_string("new_name"))
    )


def fork_count(call: Call) -> Any:
    call.database_name()
    return {"count": call.database.fork_count(call.collection_id)}


def delete_collection(call: Call) -> Any:
    call.database.delete_collection(call.tenant, call.database_name(), call.path["name"])
    return EMPTY


# ---- imports: a staging collection per imported collection, published all at once


def stage_import(call: Call) -> Any:
    body = call.payload("StageImportPayload")
    configuration = wire.configuration(body, "configuration", update=False)
    schema = wire.schema(body)
    model = call.database.stage_import(
        call.tenant,
        call.database_name(),
        body.required_string("name"),
        json.dumps(configuration) if configuration is not None else None,
        body.metadata("metadata", allow_null_values=False),
        json.dumps(schema) if schema is not None else None,
    )
    return wire.collection(model)


def publish_imports(call: Call) -> Any:
    ids = call.payload("PublishImportsPayload").strings("ids", required=True)
    return [wire.collection(model) for model in call.database.publish_imports(ids)]


def abandon_import(call: Call) -> Any:
    call.database.abandon_import(call.path["collection_id"])
    return EMPTY


# ---- records


def _write(
    call: Call, method: Any, payload: str, *, embeddings_required: bool, null_values: bool
) -> None:
    body = call.payload(payload)
    ids = body.strings("ids", required=True)
    matrix = wire.embeddings(body, "embeddings", required=embeddings_required)
    metadatas = body.metadatas(allow_null_values=null_values)
    documents = body.strings("documents", nullable_items=True)
    uris = body.strings("uris", nullable_items=True)
    columns = (metadatas, documents, uris)
    nothing = not ids and (matrix is None or matrix.shape[0] == 0) and not any(columns)
    if nothing:
        # Chroma's server takes a write of no records as done, once the collection is found.
        call.database.count(call.collection_id)
        return
    method(call.collection_id, ids, matrix, metadatas, documents, uris)


def add(call: Call) -> Any:
    _write(
        call,
        call.database.add,
        "AddCollectionRecordsPayload",
        embeddings_required=True,
        null_values=False,
    )
    return EMPTY


def update(call: Call) -> Any:
    _write(
        call,
        call.database.update,
        "UpdateCollectionRecordsPayload",
        embeddings_required=False,
        null_values=True,
    )
    return EMPTY


def upsert(call: Call) -> Any:
    _write(
        call,
        call.database.upsert,
        "UpsertCollectionRecordsPayload",
        embeddings_required=True,
        null_values=True,
    )
    return EMPTY


def get(call: Call) -> Any:
    body = call.payload("GetRequestPayload")
    include = body.include(wire.GET_INCLUDE)
    columns = call.database.get(
        call.collection_id,
        body.strings("ids"),
        body.filter_json("where"),
        body.filter_json("where_document"),
        body.non_negative_integer("limit"),
        body.non_negative_integer("offset") or 0,
        # Chroma accepts "distances" in a get and ignores it.
        [field for field in include if field != "distances"],
    )
    return wire.get_result(columns, include)


def query(call: Call) -> Any:
    body = call.payload("QueryRequestPayload")
    include = body.include(wire.QUERY_INCLUDE)
    matrix = wire.embeddings(body, "query_embeddings", required=True, allow_base64=False)
    n_results = body.non_negative_integer("n_results")
    if matrix.shape[0] == 0:
        # Chroma's server answers no queries with no results, once the collection is found.
        call.database.count(call.collection_id)
        return wire.query_result([], include)
    results = call.database.query(
        call.collection_id,
        matrix,
        10 if n_results is None else n_results,
        body.strings("ids"),
        body.filter_json("where"),
        body.filter_json("where_document"),
        include,
    )
    return wire.query_result(results, include)


def search(call: Call) -> Any:
    """Chroma's search route: the payloads go to the engine as sent (it parses and checks
    them, as it does for the embedded client), the answer is Chroma's ``SearchResponse``."""
    body = call.payload("SearchRequestPayload")
    searches = body.required("searches")
    if not isinstance(searches, list):
        raise wire.invalid_type("searches", searches, "a sequence")
    read_level = body.raw("read_level")
    read_level = READ_LEVELS[0] if read_level is None else read_level
    if read_level not in READ_LEVELS:
        raise unprocessable(
            f"read_level: unknown variant `{read_level}`, expected one of "
            + ", ".join(f"`{level}`" for level in READ_LEVELS)
        )
    return wire.search_result(
        call.database.search(call.collection_id, json.dumps(searches), read_level)
    )


def delete(call: Call) -> Any:
    body = call.payload("DeleteCollectionRecordsPayload")
    try:
        deleted = call.database.delete(
            call.collection_id,
            body.strings("ids"),
            body.filter_json("where"),
            body.filter_json("where_document"),
            body.non_negative_integer("limit"),
        )
    except errors.InvalidArgumentError as error:
        if error.message() == LIMIT_WITHOUT_FILTER:
            raise invalid_argument(CHROMA_LIMIT_WITHOUT_FILTER) from None
        raise
    return {"deleted": deleted}


def count(call: Call) -> Any:
    read_level = call.query.get("read_level", READ_LEVELS[0])
    if read_level not in READ_LEVELS:
        raise invalid_argument(
            "Failed to deserialize query string: read_level: unknown variant "
            f"`{read_level}`, expected one of " + ", ".join(f"`{level}`" for level in READ_LEVELS)
        )
    # Local reads always see every acknowledged write, whatever the level.
    return call.database.count(call.collection_id)


def index_stats(call: Call) -> Any:
    return call.database.index_stats(call.collection_id)


def unsupported(what: str) -> Any:
    """A handler for a hosted-Chroma feature that Azurite does not offer (501)."""

    def handler(call: Call) -> Any:
        raise not_implemented(what)

    return handler
