"""Azurite: an embedded vector database with a Rust core, API-compatible with Chroma.

import azurite
client = azurite.PersistentClient(path="./azurite-data")
collection = client.get_or_create_collection("docs")

``import azurite as chromadb`` runs code written for chromadb 1.5.9: the names of
``chromadb.__all__`` and its client factories are here, and its module paths
(``azurite.api.types``, ``azurite.utils.embedding_functions``, ...) exist.
"""

from typing import Any, Optional

from azurite import utils
from azurite._version import __version__ as __azurite_version__
from azurite.api import AdminAPI, AsyncClientAPI, ClientAPI
from azurite.api.client import (
    DEFAULT_DATABASE,
    DEFAULT_TENANT,
    AdminClient,
    Client,
    EphemeralClient,
    PersistentClient,
    SharedSystemClient,
    UserIdentity,
)
from azurite.api.client import AdminClient as AdminClientCreator
from azurite.api.client import Client as ClientCreator
from azurite.api.cloud_client import CloudClient
from azurite.api.http_client import AsyncHttpClient, HttpClient
from azurite.api.models.Collection import Collection
from azurite.api.types import (
    URI,
    BoolInvertedIndexConfig,
    Cmek,
    CollectionMetadata,
    Documents,
    EmbeddingFunction,
    Embeddings,
    FloatInvertedIndexConfig,
    FtsIndexConfig,
    GetResult,
    HnswIndexConfig,
    IDs,
    Include,
    IntInvertedIndexConfig,
    Metadata,
    Metadatas,
    QueryResult,
    ReadLevel,
    Schema,
    SpannIndexConfig,
    SparseEmbeddingFunction,
    SparseVector,
    SparseVectorIndexConfig,
    SparseVectors,
    StringInvertedIndexConfig,
    UpdateCollectionMetadata,
    UpdateMetadata,
    URIs,
    VectorIndexConfig,
    Where,
    WhereDocument,
)
from azurite.auth.token_authn import TokenTransportHeader
from azurite.config import CHROMA_API_VERSION, Settings

# chromadb 1.5.9 exports only Search, Key, K, Knn and Rrf here; Chroma's Search API pages
# also import And, Or, GroupBy, MinK, MaxK and Val from the package, so they are here too.
from azurite.execution.expression.operator import (
    And,
    GroupBy,
    K,
    Key,
    Knn,
    MaxK,
    MinK,
    Or,
    Rrf,
    Val,
)
from azurite.execution.expression.plan import Search
from azurite.types import CloudClientArg

#: Code that checks ``chromadb.__version__`` (``>= "0.5"``, ``packaging.version.parse``)
#: reads it here; Azurite's own version is ``__azurite_version__`` (and ``azurite version``).
__version__ = CHROMA_API_VERSION


def RustClient(
    path: Optional[str] = None,
    settings: Optional[Settings] = None,
    tenant: str = DEFAULT_TENANT,
    database: str = DEFAULT_DATABASE,
) -> ClientAPI:
    """chromadb's client of its in-process engine: a database stored in `path`, or in
    memory when `path` is ``None``. Azurite's engine is always in-process."""
    if path is None:
        return EphemeralClient(settings, tenant, database)
    return PersistentClient(path, settings, tenant, database)


_default_settings = Settings()


def configure(**kwargs: Any) -> None:
    """Replaces the process's default settings (what ``get_settings()`` returns), as
    chromadb's ``configure`` does; clients keep taking the settings they are given."""
    global _default_settings
    _default_settings = Settings(**kwargs)


def get_settings() -> Settings:
    """The process's default settings: those of the last ``configure``, else the
    environment's."""
    return _default_settings


__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_TENANT",
    "URI",
    "AdminAPI",
    "AdminClient",
    "AdminClientCreator",
    "And",
    "AsyncClientAPI",
    "AsyncHttpClient",
    "BoolInvertedIndexConfig",
    "Client",
    "ClientAPI",
    "ClientCreator",
    "CloudClient",
    "CloudClientArg",
    "Cmek",
    "Collection",
    "CollectionMetadata",
    "Documents",
    "EmbeddingFunction",
    "Embeddings",
    "EphemeralClient",
    "FloatInvertedIndexConfig",
    "FtsIndexConfig",
    "GetResult",
    "GroupBy",
    "HnswIndexConfig",
    "HttpClient",
    "IDs",
    "Include",
    "IntInvertedIndexConfig",
    "K",
    "Key",
    "Knn",
    "MaxK",
    "Metadata",
    "Metadatas",
    "MinK",
    "Or",
    "PersistentClient",
    "QueryResult",
    "ReadLevel",
    "Rrf",
    "RustClient",
    "Schema",
    "Search",
    "Settings",
    "SharedSystemClient",
    "SpannIndexConfig",
    "SparseEmbeddingFunction",
    "SparseVector",
    "SparseVectorIndexConfig",
    "SparseVectors",
    "StringInvertedIndexConfig",
    "TokenTransportHeader",
    "URIs",
    "UpdateCollectionMetadata",
    "UpdateMetadata",
    "UserIdentity",
    "Val",
    "VectorIndexConfig",
    "Where",
    "WhereDocument",
    "__azurite_version__",
    "__version__",
    "configure",
    "get_settings",
    "utils",
]
