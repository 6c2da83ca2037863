"""The Python API: clients and collections that prepare calls for an engine, under the
names chromadb's ``chromadb.api`` gives them (``ClientAPI``, ``AdminAPI``,
``AsyncClientAPI``, ``CreateCollectionConfiguration``, and the types of
:mod:`azurite.api.types`).

- ``engine``: the contract (``Engine`` / ``AsyncEngine``, ``Server`` / ``AsyncServer``,
  ``Connection``) and the dicts that cross it.
- ``collection_core``: preparing a collection's calls and shaping their answers (no I/O).
- ``collection``: ``Collection`` and ``AsyncCollection``, siblings over that core.
- ``client_core``: preparing a client's calls and making collections of their answers.
- ``client``: ``ClientAPI`` / ``AsyncClientAPI`` and ``AdminAPI`` / ``AsyncAdminAPI``, and
  the embedded ``Client`` and ``AdminClient``.
- ``embedded``: the engine of this process and the process-wide systems that share it.
- ``remote``: the remote engine and server over HTTP, and the connections to them.
- ``http_client``: the HTTP clients: the same clients over a remote connection.
- ``validation``, ``embedding``: chromadb's argument checks; embedding functions.
- ``types``, ``collection_configuration``, ``models``: chromadb's import paths for the
  types user code annotates with.
"""

from azurite.api.client import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    AdminAPI,
    AsyncAdminAPI,
    AsyncClientAPI,
    ClientAPI,
)
from azurite.api.collection_configuration import (
    CreateCollectionConfiguration,
    UpdateCollectionConfiguration,
)
from azurite.api.engine import UserIdentity
from azurite.api.models.AsyncCollection import AsyncCollection
from azurite.api.models.Collection import Collection
from azurite.api.types import *  # noqa: F403
from azurite.api.types import (
    IncludeMetadataDocuments,
    IncludeMetadataDocumentsDistances,
    IncludeMetadataDocumentsEmbeddings,
    IncludeMetadataDocumentsEmbeddingsDistances,
)
from azurite.api.types import __all__ as _types_all
from azurite.config import Settings
from azurite.search import (
    Abs,
    Aggregate,
    And,
    Contains,
    Div,
    Eq,
    Exp,
    GroupBy,
    Gt,
    Gte,
    In,
    K,
    Key,
    Knn,
    Limit,
    Log,
    Lt,
    Lte,
    Max,
    MaxK,
    Min,
    MinK,
    Mul,
    Ne,
    Nin,
    NotContains,
    NotRegex,
    Or,
    Rank,
    Regex,
    Rrf,
    Search,
    SearchWhere,
    Select,
    Sub,
    Sum,
    Val,
)
from azurite.types import Database, Tenant

__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_TENANT",
    "AdminAPI",
    "AsyncAdminAPI",
    "AsyncClientAPI",
    "AsyncCollection",
    "ClientAPI",
    "Collection",
    "CreateCollectionConfiguration",
    "Database",
    "IncludeMetadataDocuments",
    "IncludeMetadataDocumentsDistances",
    "IncludeMetadataDocumentsEmbeddings",
    "IncludeMetadataDocumentsEmbeddingsDistances",
    "Settings",
    "Tenant",
    "UpdateCollectionConfiguration",
    "UserIdentity",
    "Abs",
    "Aggregate",
    "And",
    "Contains",
    "Div",
    "Eq",
    "Exp",
    "GroupBy",
    "Gt",
    "Gte",
    "In",
    "K",
    "Key",
    "Knn",
    "Limit",
    "Log",
    "Lt",
    "Lte",
    "Max",
    "MaxK",
    "Min",
    "MinK",
    "Mul",
    "Ne",
    "Nin",
    "NotContains",
    "NotRegex",
    "Or",
    "Rank",
    "Regex",
    "Rrf",
    "Search",
    "SearchWhere",
    "Select",
    "Sub",
    "Sum",
    "Val",
    *_types_all,
]
