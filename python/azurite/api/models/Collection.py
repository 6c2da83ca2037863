"""``chromadb.api.models.Collection`` under Azurite."""

from azurite.api.collection import Collection

__all__ = ["Collection"]
