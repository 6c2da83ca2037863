"""``chromadb.auth.token_authn``: the headers a client can send its token in
(``Settings(chroma_auth_token_transport_header=...)``)."""

from enum import Enum


class TokenTransportHeader(str, Enum):
    AUTHORIZATION = "Authorization"
    X_CHROMA_TOKEN = "X-Chroma-Token"


__all__ = ["TokenTransportHeader"]
