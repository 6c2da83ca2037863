"""``chromadb.types``: the metadata and filter aliases, and the records of tenants and
databases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict
from uuid import UUID

from azurite.api.types import (
    InclusionExclusionOperator,
    LiteralValue,
    LogicalOperator,
    Metadata,
    OperatorExpression,
    PyVector,
    UpdateMetadata,
    Vector,
    Where,
    WhereDocument,
    WhereDocumentOperator,
    WhereOperator,
)


class Tenant(TypedDict):
    name: str


class Database(TypedDict):
    id: UUID
    name: str
    tenant: str


@dataclass
class CloudClientArg:
    """An argument of ``CloudClient`` that can come from an environment variable."""

    name: str
    env_var: str
    value: str | None = None


__all__ = [
    "CloudClientArg",
    "Database",
    "InclusionExclusionOperator",
    "LiteralValue",
    "LogicalOperator",
    "Metadata",
    "OperatorExpression",
    "PyVector",
    "Tenant",
    "UpdateMetadata",
    "Vector",
    "Where",
    "WhereDocument",
    "WhereDocumentOperator",
    "WhereOperator",
]
