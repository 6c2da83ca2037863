"""``chromadb.api.models.AsyncCollection`` under Azurite."""

from azurite.api.collection import AsyncCollection

__all__ = ["AsyncCollection"]
