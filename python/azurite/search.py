"""The expressions of chromadb's Search API: ``Search``, ``Key`` (``K``), the conditions
(``Eq``, ``And``, ...), the rankings (``Knn``, ``Rrf``, ``Sum``, ...), ``Select``,
``Limit`` and ``GroupBy``.

Search is a Chroma Cloud feature that Azurite does not run yet. The expressions can be
built as in chromadb (integrations build them at import time, and ``Key`` names fields in
a ``Schema``), but ``collection.search(...)`` raises ``NotImplementedError``, as
chromadb's local client does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Union

SEARCH_NOT_AVAILABLE = (
    "The Search API (Search, Knn, Rrf) is not yet available in Azurite: "
    "use collection.query(...) instead"
)

# ---- conditions


class Where:
    """A condition on records; ``&`` and ``|`` combine conditions."""

    def __and__(self, other: Where) -> And:
        left = self.conditions if isinstance(self, And) else [self]
        right = other.conditions if isinstance(other, And) else [other]
        return And(left + right)

    def __or__(self, other: Where) -> Or:
        left = self.conditions if isinstance(self, Or) else [self]
        right = other.conditions if isinstance(other, Or) else [other]
        return Or(left + right)


SearchWhere = Where


@dataclass
class And(Where):
    conditions: list[Where]


@dataclass
class Or(Where):
    conditions: list[Where]


@dataclass
class Eq(Where):
    key: str
    value: Any


@dataclass
class Ne(Where):
    key: str
    value: Any


@dataclass
class Gt(Where):
    key: str
    value: Any


@dataclass
class Gte(Where):
    key: str
    value: Any


@dataclass
class Lt(Where):
    key: str
    value: Any


@dataclass
class Lte(Where):
    key: str
    value: Any


@dataclass
class In(Where):
    key: str
    values: list[Any]


@dataclass
class Nin(Where):
    key: str
    values: list[Any]


@dataclass
class Contains(Where):
    key: str
    value: Any


@dataclass
class NotContains(Where):
    key: str
    value: Any


@dataclass
class Regex(Where):
    key: str
    pattern: str


@dataclass
class NotRegex(Where):
    key: str
    pattern: str


class Key:
    """A field of a record: a metadata key, or one of the reserved ``Key.ID``,
    ``Key.DOCUMENT``, ``Key.EMBEDDING``, ``Key.METADATA``, ``Key.SCORE``. Comparing a key
    builds a condition."""

    ID: ClassVar[Key]
    DOCUMENT: ClassVar[Key]
    EMBEDDING: ClassVar[Key]
    METADATA: ClassVar[Key]
    SCORE: ClassVar[Key]

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Key({self.name!r})"

    def __hash__(self) -> int:
        return hash(self.name)

    def __eq__(self, value: Any) -> Eq:  # type: ignore[override]
        return Eq(self.name, value)

    def __ne__(self, value: Any) -> Ne:  # type: ignore[override]
        return Ne(self.name, value)

    def __gt__(self, value: Any) -> Gt:
        return Gt(self.name, value)

    def __ge__(self, value: Any) -> Gte:
        return Gte(self.name, value)

    def __lt__(self, value: Any) -> Lt:
        return Lt(self.name, value)

    def __le__(self, value: Any) -> Lte:
        return Lte(self.name, value)

    def is_in(self, values: list[Any]) -> In:
        return In(self.name, list(values))

    def not_in(self, values: list[Any]) -> Nin:
        return Nin(self.name, list(values))

    def regex(self, pattern: str) -> Regex:
        return Regex(self.name, pattern)

    def not_regex(self, pattern: str) -> NotRegex:
        return NotRegex(self.name, pattern)

    def contains(self, value: Any) -> Contains:
        return Contains(self.name, value)

    def not_contains(self, value: Any) -> NotContains:
        return NotContains(self.name, value)


Key.ID = Key("#id")
Key.DOCUMENT = Key("#document")
Key.EMBEDDING = Key("#embedding")
Key.METADATA = Key("#metadata")
Key.SCORE = Key("#score")

K = Key

# ---- rankings

Operand = Union["Rank", float, int]


def _rank(operand: Operand) -> Rank:
    return Val(operand) if isinstance(operand, (int, float)) else operand


def _flat(kind: type[Any], left: Rank, right: Rank) -> list[Rank]:
    """The operands of an associative operation, with nested ones of the same kind
    flattened (``a + b + c`` is one ``Sum`` of three)."""
    ranks: list[Rank] = []
    for operand in (left, right):
        ranks.extend(operand.ranks if isinstance(operand, kind) else [operand])
    return ranks


class Rank:
    """A ranking expression; arithmetic on rankings builds new ones."""

    def __add__(self, other: Operand) -> Sum:
        return Sum(_flat(Sum, self, _rank(other)))

    def __radd__(self, other: float) -> Sum:
        return Val(other) + self

    def __sub__(self, other: Operand) -> Sub:
        return Sub(self, _rank(other))

    def __rsub__(self, other: float) -> Sub:
        return Sub(Val(other), self)

    def __mul__(self, other: Operand) -> Mul:
        return Mul(_flat(Mul, self, _rank(other)))

    def __rmul__(self, other: float) -> Mul:
        return Val(other) * self

    def __truediv__(self, other: Operand) -> Div:
        return Div(self, _rank(other))

    def __rtruediv__(self, other: float) -> Div:
        return Div(Val(other), self)

    def __neg__(self) -> Mul:
        return Mul([Val(-1), self])

    def __abs__(self) -> Abs:
        return Abs(self)

    def abs(self) -> Abs:
        return Abs(self)

    def exp(self) -> Exp:
        return Exp(self)

    def log(self) -> Log:
        return Log(self)

    def max(self, other: Operand) -> Max:
        return Max(_flat(Max, self, _rank(other)))

    def min(self, other: Operand) -> Min:
        return Min(_flat(Min, self, _rank(other)))


@dataclass
class Abs(Rank):
    rank: Rank


@dataclass
class Exp(Rank):
    rank: Rank


@dataclass
class Log(Rank):
    rank: Rank


@dataclass
class Div(Rank):
    left: Rank
    right: Rank


@dataclass
class Sub(Rank):
    left: Rank
    right: Rank


@dataclass
class Max(Rank):
    ranks: list[Rank]


@dataclass
class Min(Rank):
    ranks: list[Rank]


@dataclass
class Mul(Rank):
    ranks: list[Rank]


@dataclass
class Sum(Rank):
    ranks: list[Rank]


@dataclass
class Val(Rank):
    value: float


@dataclass
class Knn(Rank):
    """Ranks records by their distance to `query` in the vector field `key`."""

    query: Any
    key: Key | str = field(default_factory=lambda: Key.EMBEDDING)
    limit: int = 16
    default: float | None = None
    return_rank: bool = False


@dataclass
class Rrf(Rank):
    """Reciprocal rank fusion of several rankings."""

    ranks: list[Rank]
    k: int = 60
    weights: list[float] | None = None
    normalize: bool = False

    def __post_init__(self) -> None:
        # The argument checks chromadb makes when the expression is built.
        if not self.ranks:
            raise ValueError("Rrf requires at least one rank")
        if self.k <= 0:
            raise ValueError(f"k must be positive, got {self.k}")
        if self.weights is not None and len(self.weights) != len(self.ranks):
            raise ValueError(
                f"Number of weights ({len(self.weights)}) must match number of ranks "
                f"({len(self.ranks)})"
            )


# ---- what a search returns


@dataclass
class Limit:
    offset: int = 0
    limit: int | None = None


@dataclass
class Select:
    keys: set[Key | str] = field(default_factory=set)


class Aggregate:
    """How a group of records is reduced (:class:`MinK`, :class:`MaxK`)."""


@dataclass
class MinK(Aggregate):
    """The `k` records of each group with the smallest `keys`."""

    keys: Any
    k: int


@dataclass
class MaxK(Aggregate):
    """The `k` records of each group with the largest `keys`."""

    keys: Any
    k: int


@dataclass
class GroupBy:
    keys: Any = field(default_factory=list)
    aggregate: Aggregate | None = None


class Search:
    """A search request: filter, ranking, grouping, limit and the fields to return. Each
    builder method returns a new ``Search``; running one is not yet available."""

    def __init__(
        self,
        where: Any = None,
        rank: Any = None,
        group_by: Any = None,
        limit: Any = None,
        select: Any = None,
    ) -> None:
        self._parts: dict[str, Any] = {
            "where": where,
            "rank": rank,
            "group_by": group_by,
            "limit": limit,
            "select": select,
        }

    def _with(self, part: str, value: Any) -> Search:
        copy = Search(**self._parts)
        copy._parts[part] = value
        return copy

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v!r}" for k, v in self._parts.items() if v is not None)
        return f"Search({parts})"

    def select_all(self) -> Search:
        return self.select(Key.DOCUMENT, Key.EMBEDDING, Key.METADATA, Key.SCORE)

    def select(self, *keys: Key | str) -> Search:
        return self._with("select", Select(set(keys)))

    def where(self, where: Any) -> Search:
        return self._with("where", where)

    def rank(self, rank_expr: Any) -> Search:
        return self._with("rank", rank_expr)

    def group_by(self, group_by: Any) -> Search:
        return self._with("group_by", group_by)

    def limit(self, limit: int, offset: int = 0) -> Search:
        return self._with("limit", Limit(offset=offset, limit=limit))

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError(SEARCH_NOT_AVAILABLE)


__all__ = [
    "SEARCH_NOT_AVAILABLE",
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
    "Where",
]
