"""The parts of a search, as chromadb 1.5.9's ``chromadb.execution.expression.operator``
defines them:

- conditions on records (:class:`Where` and its operators), built by comparing a
  :class:`Key` or parsed from Chroma's where dicts;
- rank expressions (:class:`Knn`, :class:`Rrf`, :class:`Val` and the arithmetic on them);
- :class:`Limit`, :class:`Select`, and :class:`GroupBy` with its aggregates
  (:class:`MinK`, :class:`MaxK`).

``to_dict()`` gives each part's JSON form on Chroma's search route, and ``from_dict()``
rebuilds a part from it (the server decodes requests with it). Every check raises what
chromadb raises, with its message, at the moment chromadb makes it: when the part is built,
parsed or serialized (``Rrf`` checks its arguments only when serialized).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Union, cast

import numpy as np
import numpy.typing as npt

from azurite.api.validation import (
    maybe_cast_one_to_many,
    normalize_embeddings,
    validate_embeddings,
)
from azurite.base_types import SPARSE_VECTOR_TYPE_VALUE, TYPE_KEY, LiteralValue, SparseVector

# ---- conditions


@dataclass
class Where:
    """A condition on records. ``a & b`` and ``a | b`` combine two conditions; combining
    with an ``And`` (``Or``) extends it rather than nesting it."""

    def to_dict(self) -> dict[str, Any]:
        """The condition as a Chroma where dict."""
        raise NotImplementedError(
            f"{type(self).__name__} is not a condition itself: use one of its subclasses"
        )

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Where:
        """The condition a Chroma where dict states: ``{"field": value}`` (equality),
        ``{"field": {"$op": operand}}``, or ``{"$and" | "$or": [conditions]}``."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Where, got {type(data).__name__}")
        if not data:
            raise ValueError("Where dict cannot be empty")
        for logical, combine in (("$and", Where.__and__), ("$or", Where.__or__)):
            if logical in data:
                return _logical_from_dict(logical, combine, data)
        if len(data) != 1:
            raise ValueError(f"Where dict must contain exactly one field, got {len(data)}")
        name, condition = next(iter(data.items()))
        if not isinstance(name, str):
            raise TypeError(f"Field name must be a string, got {type(name).__name__}")
        if not isinstance(condition, dict):
            return Eq(name, condition)
        if not condition:
            raise ValueError(f"Operator dict for field '{name}' cannot be empty")
        if len(condition) != 1:
            raise ValueError(f"Operator dict for field '{name}' must contain exactly one operator")
        op, operand = next(iter(condition.items()))
        if op not in _FIELD_OPERATORS:
            raise ValueError(f"Unknown operator: {op}")
        build, accepted, requirement = _FIELD_OPERATORS[op]
        if accepted and not isinstance(operand, accepted):
            raise TypeError(f"{op} requires {requirement}, got {type(operand).__name__}")
        return build(Key(name), operand)

    def __and__(self, other: Where) -> And:
        return And([*_operands(And, self), *_operands(And, other)])

    def __or__(self, other: Where) -> Or:
        return Or([*_operands(Or, self), *_operands(Or, other)])


def _operands(kind: type[And | Or], condition: Where) -> list[Where]:
    return condition.conditions if isinstance(condition, kind) else [condition]


def _logical_from_dict(
    op: str, combine: Callable[[Where, Where], Where], data: dict[str, Any]
) -> Where:
    conditions = data[op]
    if not isinstance(conditions, list):
        raise TypeError(f"{op} must be a list, got {type(conditions).__name__}")
    if not conditions:
        raise ValueError(f"{op} requires at least one condition")
    if len(data) > 1:
        raise ValueError(f"{op} cannot be combined with other fields in the same dict")
    # Combining through the operators flattens nested conditions of the same kind, so a
    # parsed condition has the shape the same condition built in Python has.
    return functools.reduce(combine, [Where.from_dict(c) for c in conditions])


@dataclass
class And(Where):
    """Every one of `conditions` holds."""

    conditions: list[Where]

    def to_dict(self) -> dict[str, Any]:
        return {"$and": [c.to_dict() for c in self.conditions]}


@dataclass
class Or(Where):
    """At least one of `conditions` holds."""

    conditions: list[Where]

    def to_dict(self) -> dict[str, Any]:
        return {"$or": [c.to_dict() for c in self.conditions]}


@dataclass
class Eq(Where):
    """The field `key` equals `value`."""

    key: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$eq": self.value}}


@dataclass
class Ne(Where):
    """The field `key` differs from `value`."""

    key: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$ne": self.value}}


@dataclass
class Gt(Where):
    """The field `key` is greater than `value`."""

    key: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$gt": self.value}}


@dataclass
class Gte(Where):
    """The field `key` is greater than or equal to `value`."""

    key: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$gte": self.value}}


@dataclass
class Lt(Where):
    """The field `key` is less than `value`."""

    key: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$lt": self.value}}


@dataclass
class Lte(Where):
    """The field `key` is less than or equal to `value`."""

    key: str
    value: Any

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$lte": self.value}}


@dataclass
class In(Where):
    """The field `key` is one of `values`."""

    key: str
    values: list[Any]

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$in": self.values}}


@dataclass
class Nin(Where):
    """The field `key` is none of `values`."""

    key: str
    values: list[Any]

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$nin": self.values}}


@dataclass
class Contains(Where):
    """The document holds the substring `value` (``key`` is ``#document``), or the
    metadata array `key` holds the element `value`."""

    key: str
    value: LiteralValue

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$contains": self.value}}


@dataclass
class NotContains(Where):
    """The negation of :class:`Contains`."""

    key: str
    value: LiteralValue

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$not_contains": self.value}}


@dataclass
class Regex(Where):
    """The field `key` matches the regular expression `pattern`."""

    key: str
    pattern: str

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$regex": self.pattern}}


@dataclass
class NotRegex(Where):
    """The field `key` does not match the regular expression `pattern`."""

    key: str
    pattern: str

    def to_dict(self) -> dict[str, Any]:
        return {self.key: {"$not_regex": self.pattern}}


class Key:
    """A field of a record: a metadata key (``Key("year")``), or one of the reserved fields
    ``Key.ID``, ``Key.DOCUMENT``, ``Key.EMBEDDING``, ``Key.METADATA`` and ``Key.SCORE``
    (named with a leading ``#``). ``K`` is the same class.

    Comparing a key builds a condition (``Key("year") >= 2020``); so does each of its
    methods (``Key.DOCUMENT.contains("fox")``). A key also names the field a
    :class:`Knn` searches, a :class:`Select` returns and a :class:`GroupBy` groups by.
    """

    ID: Key
    DOCUMENT: Key
    EMBEDDING: Key
    METADATA: Key
    SCORE: Key

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Key({self.name!r})"

    # Keys go in sets (a Select's keys), which compare them by name.
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
        """The field is one of `values`."""
        return In(self.name, values)

    def not_in(self, values: list[Any]) -> Nin:
        """The field is none of `values`."""
        return Nin(self.name, values)

    def regex(self, pattern: str) -> Regex:
        """The field matches the regular expression `pattern`."""
        return Regex(self.name, pattern)

    def not_regex(self, pattern: str) -> NotRegex:
        """The field does not match the regular expression `pattern`."""
        return NotRegex(self.name, pattern)

    def contains(self, value: LiteralValue) -> Contains:
        """On ``Key.DOCUMENT``, the document holds the substring `value`; on a metadata key,
        the array stored there holds the element `value`."""
        if self.name == "#document" and not isinstance(value, str):
            raise TypeError("$contains on #document requires a string pattern")
        return Contains(self.name, value)

    def not_contains(self, value: LiteralValue) -> NotContains:
        """The negation of :meth:`contains`."""
        if self.name == "#document" and not isinstance(value, str):
            raise TypeError("$not_contains on #document requires a string pattern")
        return NotContains(self.name, value)


Key.ID = Key("#id")
Key.DOCUMENT = Key("#document")
Key.EMBEDDING = Key("#embedding")
Key.METADATA = Key("#metadata")
Key.SCORE = Key("#score")

K = Key

#: The reserved fields by name, so that a parsed selection holds the same Key objects.
_RESERVED_KEYS = {
    key.name: key for key in (Key.ID, Key.DOCUMENT, Key.EMBEDDING, Key.METADATA, Key.SCORE)
}

#: The field operators of a where dict: how each builds its condition, and which operands
#: it accepts (None: any), described for the error message.
_FIELD_OPERATORS: dict[str, tuple[Callable[[Key, Any], Where], tuple[type, ...] | None, str]] = {
    "$eq": (Key.__eq__, None, ""),
    "$ne": (Key.__ne__, None, ""),
    "$gt": (Key.__gt__, None, ""),
    "$gte": (Key.__ge__, None, ""),
    "$lt": (Key.__lt__, None, ""),
    "$lte": (Key.__le__, None, ""),
    "$in": (Key.is_in, (list,), "a list"),
    "$nin": (Key.not_in, (list,), "a list"),
    "$contains": (Key.contains, (str, int, float, bool), "a str, int, float, or bool"),
    "$not_contains": (Key.not_contains, (str, int, float, bool), "a str, int, float, or bool"),
    "$regex": (Key.regex, (str,), "a string pattern"),
    "$not_regex": (Key.not_regex, (str,), "a string pattern"),
}

# ---- rank expressions

_Operand = Union["Rank", float, int]


def _as_rank(operand: _Operand) -> Rank:
    return Val(operand) if isinstance(operand, (int, float)) else operand


def _flattened(kind: type[Sum | Mul | Max | Min], left: Rank, right: Rank) -> list[Rank]:
    """The operands of an associative operation, taking those of a `kind` operand in its
    place (``a + b + c`` is one ``Sum`` of three)."""
    return [
        rank
        for operand in (left, right)
        for rank in (operand.ranks if isinstance(operand, kind) else [operand])
    ]


@dataclass
class Rank:
    """A score for each record; lower ranks first. Ranks combine with ``+``, ``-``, ``*``,
    ``/``, unary ``-`` and ``abs()``, and with the methods :meth:`exp`, :meth:`log`,
    :meth:`max` and :meth:`min`; a number in an expression stands for :class:`Val`.
    ``+``, ``*``, ``max`` and ``min`` extend an operand of their own kind rather than
    nesting it."""

    def to_dict(self) -> dict[str, Any]:
        """The expression as a Chroma rank dict."""
        raise NotImplementedError(
            f"{type(self).__name__} is not a rank expression itself: use one of its subclasses"
        )

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Rank:
        """The expression a Chroma rank dict states: one operator (``$knn``, ``$val``,
        ``$sum``, ``$sub``, ``$mul``, ``$div``, ``$abs``, ``$exp``, ``$log``, ``$max``,
        ``$min``) with its operands. A bare number is not a rank: write ``{"$val": x}``."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Rank, got {type(data).__name__}")
        if not data:
            raise ValueError("Rank dict cannot be empty")
        if len(data) != 1:
            raise ValueError(f"Rank dict must contain exactly one operator, got {len(data)}")
        op, operand = next(iter(data.items()))
        if op not in _RANK_PARSERS:
            raise ValueError(f"Unknown rank operator: {op}")
        return _RANK_PARSERS[op](op, operand)

    def __add__(self, other: _Operand) -> Sum:
        return Sum(_flattened(Sum, self, _as_rank(other)))

    def __radd__(self, other: float) -> Sum:
        return Val(other) + self

    def __sub__(self, other: _Operand) -> Sub:
        return Sub(self, _as_rank(other))

    def __rsub__(self, other: float) -> Sub:
        return Sub(Val(other), self)

    def __mul__(self, other: _Operand) -> Mul:
        return Mul(_flattened(Mul, self, _as_rank(other)))

    def __rmul__(self, other: float) -> Mul:
        return Val(other) * self

    def __truediv__(self, other: _Operand) -> Div:
        return Div(self, _as_rank(other))

    def __rtruediv__(self, other: float) -> Div:
        return Div(Val(other), self)

    def __neg__(self) -> Mul:
        return Mul([Val(-1), self])

    def __abs__(self) -> Abs:
        return Abs(self)

    def abs(self) -> Abs:
        """The absolute value of this rank."""
        return Abs(self)

    def exp(self) -> Exp:
        """e raised to this rank."""
        return Exp(self)

    def log(self) -> Log:
        """The natural logarithm of this rank."""
        return Log(self)

    def max(self, other: _Operand) -> Max:
        """The larger of this rank and `other`, record by record."""
        return Max(_flattened(Max, self, _as_rank(other)))

    def min(self, other: _Operand) -> Min:
        """The smaller of this rank and `other`, record by record."""
        return Min(_flattened(Min, self, _as_rank(other)))


@dataclass
class Abs(Rank):
    """The absolute value of `rank`."""

    rank: Rank

    def to_dict(self) -> dict[str, Any]:
        return {"$abs": self.rank.to_dict()}


@dataclass
class Div(Rank):
    """`left` divided by `right`."""

    left: Rank
    right: Rank

    def to_dict(self) -> dict[str, Any]:
        return {"$div": {"left": self.left.to_dict(), "right": self.right.to_dict()}}


@dataclass
class Exp(Rank):
    """e raised to `rank`."""

    rank: Rank

    def to_dict(self) -> dict[str, Any]:
        return {"$exp": self.rank.to_dict()}


@dataclass
class Log(Rank):
    """The natural logarithm of `rank`."""

    rank: Rank

    def to_dict(self) -> dict[str, Any]:
        return {"$log": self.rank.to_dict()}


@dataclass
class Max(Rank):
    """The largest of `ranks`."""

    ranks: list[Rank]

    def to_dict(self) -> dict[str, Any]:
        return {"$max": [r.to_dict() for r in self.ranks]}


@dataclass
class Min(Rank):
    """The smallest of `ranks`."""

    ranks: list[Rank]

    def to_dict(self) -> dict[str, Any]:
        return {"$min": [r.to_dict() for r in self.ranks]}


@dataclass
class Mul(Rank):
    """The product of `ranks`."""

    ranks: list[Rank]

    def to_dict(self) -> dict[str, Any]:
        return {"$mul": [r.to_dict() for r in self.ranks]}


@dataclass
class Knn(Rank):
    """The distance of each record's vector under `key` to `query`, for the `limit`
    nearest records; the others score `default` (None leaves them out of the ranking).

    `query` is a dense vector (a list or a numpy array) for ``Key.EMBEDDING`` or another
    dense key, a :class:`~azurite.SparseVector` for a sparse key, or a string, which the
    collection embeds with the key's embedding function before searching. With
    `return_rank`, the score is the record's position among the nearest (0 for the
    nearest) instead of its distance, which is what :class:`Rrf` fuses.
    """

    query: (
        str
        | list[float]
        | SparseVector
        | npt.NDArray[np.float32]
        | npt.NDArray[np.float64]
        | npt.NDArray[np.int32]
    )
    key: Key | str = K.EMBEDDING
    limit: int = 16
    default: float | None = None
    return_rank: bool = False

    def to_dict(self) -> dict[str, Any]:
        query: Any = self.query
        if isinstance(query, SparseVector):
            query = query.to_dict()
        elif isinstance(query, np.ndarray):
            query = query.tolist()
        knn: dict[str, Any] = {
            "query": query,
            "key": self.key.name if isinstance(self.key, Key) else self.key,
            "limit": self.limit,
        }
        # The optional fields travel only when they differ from their defaults.
        if self.default is not None:
            knn["default"] = self.default
        if self.return_rank:
            knn["return_rank"] = self.return_rank
        return {"$knn": knn}


@dataclass
class Sub(Rank):
    """`left` minus `right`."""

    left: Rank
    right: Rank

    def to_dict(self) -> dict[str, Any]:
        return {"$sub": {"left": self.left.to_dict(), "right": self.right.to_dict()}}


@dataclass
class Sum(Rank):
    """The sum of `ranks`."""

    ranks: list[Rank]

    def to_dict(self) -> dict[str, Any]:
        return {"$sum": [r.to_dict() for r in self.ranks]}


@dataclass
class Val(Rank):
    """The same score, `value`, for every record."""

    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"$val": self.value}


@dataclass
class Rrf(Rank):
    """Reciprocal rank fusion of `ranks` (each usually a ``Knn`` with
    ``return_rank=True``): the score ``-sum(weight_i / (k + rank_i))``, negated so that the
    best fused record ranks lowest. `weights` default to 1.0 each; with `normalize` they
    are scaled to sum to 1.

    It travels as that arithmetic, so the engine needs no operator of its own for it. The
    arguments are checked when the expression is serialized.
    """

    ranks: list[Rank]
    k: int = 60
    weights: list[float] | None = None
    normalize: bool = False

    def to_dict(self) -> dict[str, Any]:
        weights = self._weights()
        terms: list[Rank] = [weight / (self.k + rank) for weight, rank in zip(weights, self.ranks)]
        fused: Rank = functools.reduce(lambda total, term: total + term, terms)
        return (-fused).to_dict()

    def _weights(self) -> list[float]:
        if not self.ranks:
            raise ValueError("RRF requires at least one rank")
        if self.k <= 0:
            raise ValueError(f"k must be positive, got {self.k}")
        if self.weights is not None:
            if len(self.weights) != len(self.ranks):
                raise ValueError(
                    f"Number of weights ({len(self.weights)}) must match number of ranks "
                    f"({len(self.ranks)})"
                )
            if any(weight < 0.0 for weight in self.weights):
                raise ValueError("All weights must be non-negative")
        weights = self.weights or [1.0] * len(self.ranks)
        if not self.normalize:
            return weights
        total = sum(weights)
        if total == 0:
            raise ValueError("Sum of weights must be positive when normalize=True")
        return [weight / total for weight in weights]


def _val_from_dict(op: str, value: Any) -> Rank:
    if not isinstance(value, (int, float)):
        raise TypeError(f"{op} requires a number, got {type(value).__name__}")
    return Val(value)


def _knn_from_dict(op: str, knn: Any) -> Rank:
    if not isinstance(knn, dict):
        raise TypeError(f"{op} requires a dict, got {type(knn).__name__}")
    if "query" not in knn:
        raise ValueError(f"{op} requires 'query' field")
    query = knn["query"]
    if isinstance(query, dict):
        if query.get(TYPE_KEY) != SPARSE_VECTOR_TYPE_VALUE:
            raise ValueError(
                f"Expected dict with {TYPE_KEY}='{SPARSE_VECTOR_TYPE_VALUE}', got {query}"
            )
        query = SparseVector.from_dict(query)
    elif isinstance(query, (list, tuple, np.ndarray)):
        # A dense query is checked as an embedding, and kept as the array that check makes.
        embeddings = normalize_embeddings(query)
        if not embeddings or len(embeddings) > 1:
            raise ValueError(f"{op} requires exactly one query embedding")
        query = validate_embeddings(embeddings)[0]
    elif not isinstance(query, str):
        # A text query, as `Knn(query="...")` takes one, is embedded by the collection
        # (Chroma's Search API pages write it in this form too; chromadb 1.5.9 refuses it).
        raise TypeError(
            f"{op} query must be a list, numpy array, or SparseVector dict, "
            f"got {type(query).__name__}"
        )
    key = knn.get("key", "#embedding")
    if not isinstance(key, str):
        raise TypeError(f"{op} key must be a string, got {type(key).__name__}")
    limit = knn.get("limit", 16)
    if not isinstance(limit, int):
        raise TypeError(f"{op} limit must be an integer, got {type(limit).__name__}")
    if limit <= 0:
        raise ValueError(f"{op} limit must be positive, got {limit}")
    return_rank = knn.get("return_rank", False)
    if not isinstance(return_rank, bool):
        raise TypeError(f"{op} return_rank must be a boolean, got {type(return_rank).__name__}")
    return Knn(
        query=query, key=key, limit=limit, default=knn.get("default"), return_rank=return_rank
    )


def _folded_from_dict(combine: Callable[[Rank, Rank], Rank]) -> Callable[[str, Any], Rank]:
    def parse(op: str, operands: Any) -> Rank:
        if not isinstance(operands, (list, tuple)):
            raise TypeError(f"{op} requires a list, got {type(operands).__name__}")
        if len(operands) < 2:
            raise ValueError(f"{op} requires at least 2 ranks, got {len(operands)}")
        # Through the operators, as a parsed Where is: nested operands of the same kind
        # flatten.
        return functools.reduce(combine, [Rank.from_dict(r) for r in operands])

    return parse


def _binary_from_dict(combine: Callable[[Rank, Rank], Rank]) -> Callable[[str, Any], Rank]:
    def parse(op: str, operands: Any) -> Rank:
        if not isinstance(operands, dict):
            raise TypeError(
                f"{op} requires a dict with 'left' and 'right', got {type(operands).__name__}"
            )
        if "left" not in operands or "right" not in operands:
            raise ValueError(f"{op} requires 'left' and 'right' fields")
        return combine(Rank.from_dict(operands["left"]), Rank.from_dict(operands["right"]))

    return parse


def _unary_from_dict(apply: Callable[[Rank], Rank]) -> Callable[[str, Any], Rank]:
    def parse(op: str, operand: Any) -> Rank:
        if not isinstance(operand, dict):
            raise TypeError(f"{op} requires a rank dict, got {type(operand).__name__}")
        return apply(Rank.from_dict(operand))

    return parse


_RANK_PARSERS: dict[str, Callable[[str, Any], Rank]] = {
    "$val": _val_from_dict,
    "$knn": _knn_from_dict,
    "$sum": _folded_from_dict(Rank.__add__),
    "$sub": _binary_from_dict(Rank.__sub__),
    "$mul": _folded_from_dict(Rank.__mul__),
    "$div": _binary_from_dict(Rank.__truediv__),
    "$abs": _unary_from_dict(Rank.__abs__),
    "$exp": _unary_from_dict(Rank.exp),
    "$log": _unary_from_dict(Rank.log),
    "$max": _folded_from_dict(Rank.max),
    "$min": _folded_from_dict(Rank.min),
}

# ---- what a search returns


@dataclass
class Limit:
    """Skip the first `offset` results, then return at most `limit` (None: all)."""

    offset: int = 0
    limit: int | None = None

    def to_dict(self) -> dict[str, Any]:
        limits: dict[str, Any] = {"offset": self.offset}
        if self.limit is not None:
            limits["limit"] = self.limit
        return limits

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Limit:
        """The limit ``{"offset": n, "limit": m}`` states (both optional)."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Limit, got {type(data).__name__}")
        offset = data.get("offset", 0)
        if not isinstance(offset, int):
            raise TypeError(f"Limit offset must be an integer, got {type(offset).__name__}")
        if offset < 0:
            raise ValueError(f"Limit offset must be non-negative, got {offset}")
        limit = data.get("limit")
        if limit is not None:
            if not isinstance(limit, int):
                raise TypeError(f"Limit limit must be an integer, got {type(limit).__name__}")
            if limit <= 0:
                raise ValueError(f"Limit limit must be positive, got {limit}")
        _reject_unexpected_keys("Limit", data, {"offset", "limit"})
        return Limit(offset=offset, limit=limit)


@dataclass
class Select:
    """The fields each result carries: reserved keys (``Key.DOCUMENT``,
    ``Key.EMBEDDING``, ``Key.METADATA``, ``Key.SCORE``) and metadata keys, as ``Key``s or
    names."""

    keys: set[Key | str] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        names = [key.name if isinstance(key, Key) else key for key in self.keys]
        return {"keys": list(dict.fromkeys(names))}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Select:
        """The selection ``{"keys": [names]}`` states."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Select, got {type(data).__name__}")
        names = data.get("keys", [])
        if not isinstance(names, (list, tuple, set)):
            raise TypeError(f"Select keys must be a list/tuple/set, got {type(names).__name__}")
        keys: list[Key | str] = []
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"Select key must be a string, got {type(name).__name__}")
            keys.append(_RESERVED_KEYS.get(name) or Key(name))
        _reject_unexpected_keys("Select", data, {"keys"})
        return Select(keys=set(keys))


def _reject_unexpected_keys(part: str, data: dict[str, Any], allowed: set[str]) -> None:
    unexpected = set(data.keys()) - allowed
    if unexpected:
        raise ValueError(f"Unexpected keys in {part} dict: {unexpected}")


# ---- grouping

#: One key or several, as ``Key``s or names.
_KeyOrKeys = Union[Key, str, list[Union[Key, str]]]


def _key_names(keys: _KeyOrKeys) -> list[str]:
    many = cast(list[Union[Key, str]], maybe_cast_one_to_many(keys))
    return [key.name if isinstance(key, Key) else key for key in many]


def _named_keys(names: list[Any] | tuple[Any, ...]) -> list[Key | str]:
    return [Key(name) if isinstance(name, str) else name for name in names]


@dataclass
class Aggregate:
    """Which records of each group a :class:`GroupBy` keeps: :class:`MinK` or
    :class:`MaxK`."""

    def to_dict(self) -> dict[str, Any]:
        """The aggregate as a Chroma aggregate dict."""
        raise NotImplementedError(
            f"{type(self).__name__} is not an aggregate itself: use MinK or MaxK"
        )

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Aggregate:
        """The aggregate ``{"$min_k" | "$max_k": {"keys": [names], "k": n}}`` states."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for Aggregate, got {type(data).__name__}")
        if not data:
            raise ValueError("Aggregate dict cannot be empty")
        if len(data) != 1:
            raise ValueError(f"Aggregate dict must contain exactly one operator, got {len(data)}")
        op, arguments = next(iter(data.items()))
        kinds: dict[str, type[MinK | MaxK]] = {"$min_k": MinK, "$max_k": MaxK}
        if op not in kinds:
            raise ValueError(f"Unknown aggregate operator: {op}")
        if not isinstance(arguments, dict):
            raise TypeError(f"{op} requires a dict, got {type(arguments).__name__}")
        for required in ("keys", "k"):
            if required not in arguments:
                raise ValueError(f"{op} requires '{required}' field")
        keys, k = arguments["keys"], arguments["k"]
        if not isinstance(keys, (list, tuple)):
            raise TypeError(f"{op} keys must be a list, got {type(keys).__name__}")
        if not keys:
            raise ValueError(f"{op} keys cannot be empty")
        if not isinstance(k, int):
            raise TypeError(f"{op} k must be an integer, got {type(k).__name__}")
        if k <= 0:
            raise ValueError(f"{op} k must be positive, got {k}")
        return kinds[op](keys=_named_keys(keys), k=k)


@dataclass
class MinK(Aggregate):
    """The `k` records of each group with the smallest values of `keys` (compared in
    order: later keys break ties)."""

    keys: _KeyOrKeys
    k: int

    def to_dict(self) -> dict[str, Any]:
        return {"$min_k": {"keys": _key_names(self.keys), "k": self.k}}


@dataclass
class MaxK(Aggregate):
    """The `k` records of each group with the largest values of `keys` (compared in
    order: later keys break ties)."""

    keys: _KeyOrKeys
    k: int

    def to_dict(self) -> dict[str, Any]:
        return {"$max_k": {"keys": _key_names(self.keys), "k": self.k}}


@dataclass
class GroupBy:
    """Group the ranked records by the values of the metadata `keys` and keep, in each
    group, the records `aggregate` picks; the kept records come back in score order.
    Without both `keys` and `aggregate`, nothing is grouped."""

    keys: _KeyOrKeys = field(default_factory=list)
    aggregate: Aggregate | None = None

    def to_dict(self) -> dict[str, Any]:
        if not self.keys or self.aggregate is None:
            return {}
        return {"keys": _key_names(self.keys), "aggregate": self.aggregate.to_dict()}

    @staticmethod
    def from_dict(data: dict[str, Any]) -> GroupBy:
        """The grouping ``{"keys": [names], "aggregate": {...}}`` states; ``{}`` is no
        grouping."""
        if not isinstance(data, dict):
            raise TypeError(f"Expected dict for GroupBy, got {type(data).__name__}")
        if not data:
            return GroupBy()
        for required in ("keys", "aggregate"):
            if required not in data:
                raise ValueError(f"GroupBy requires '{required}' field")
        keys, aggregate = data["keys"], data["aggregate"]
        if not isinstance(keys, (list, tuple)):
            raise TypeError(f"GroupBy keys must be a list, got {type(keys).__name__}")
        if not keys:
            raise ValueError("GroupBy keys cannot be empty")
        if not isinstance(aggregate, dict):
            raise TypeError(f"GroupBy aggregate must be a dict, got {type(aggregate).__name__}")
        return GroupBy(keys=_named_keys(keys), aggregate=Aggregate.from_dict(aggregate))


__all__ = [
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
    "Select",
    "Sub",
    "Sum",
    "Val",
    "Where",
]
