"""Azurite: an embedded vector database with a Rust core, API-compatible with Chroma.

import azurite
client = azurite.PersistentClient(path="./azurite-data")
collection = client.get_or_create_collection("docs")
"""

from azurite._core import __version__
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
from azurite.api.collection import Collection
from azurite.api.http_client import AsyncHttpClient, HttpClient
from azurite.config import Settings
from azurite.embedding_functions import EmbeddingFunction, Embeddings

__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_TENANT",
    "AdminClient",
    "AsyncHttpClient",
    "Client",
    "Collection",
    "EmbeddingFunction",
    "Embeddings",
    "EphemeralClient",
    "HttpClient",
    "PersistentClient",
    "Settings",
    "SharedSystemClient",
    "UserIdentity",
    "__version__",
]
