"""chromadb's ``chromadb.auth`` names that client code uses."""

from azurite.api.engine import UserIdentity
from azurite.auth.token_authn import TokenTransportHeader

__all__ = ["TokenTransportHeader", "UserIdentity"]
