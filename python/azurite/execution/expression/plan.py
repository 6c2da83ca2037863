"""A search request, as chromadb 1.5.9's ``chromadb.execution.expression.plan`` defines
it: :class:`Search`."""

from __future__ import annotations

from typing import Any

from azurite.execution.expression.operator import GroupBy, Key, Limit, Rank, Select, Where


class Search:
    """One search of a collection: which records (`where`), in which order (`rank`),
    grouped how (`group_by`), how many (`limit`, with an offset) and with which fields
    (`select`).

    Each part is given as its expression or as its dict form (``Limit`` also as an int, the
    number of results; ``Select`` also as a list or set of key names), in the constructor or
    through the builder methods, each of which returns a new ``Search``::

        Search().where(K("year") >= 2020).rank(Knn(query="fox")).limit(10).select(K.DOCUMENT)

    The parts are kept as ``_where``, ``_rank``, ``_group_by``, ``_limit`` and ``_select``
    (absent ones as None, or as the part that does nothing), and ``to_dict()`` gives the
    request's JSON form on Chroma's search route.
    """

    def __init__(
        self,
        where: Where | dict[str, Any] | None = None,
        rank: Rank | dict[str, Any] | None = None,
        group_by: GroupBy | dict[str, Any] | None = None,
        limit: Limit | dict[str, Any] | int | None = None,
        select: Select | dict[str, Any] | list[str] | set[str] | None = None,
    ) -> None:
        self._where = _where(where)
        self._rank = _rank(rank)
        self._group_by = _group_by(group_by)
        self._limit = _limit(limit)
        self._select = _select(select)

    def to_dict(self) -> dict[str, Any]:
        """The request as Chroma's search route takes it (the filter travels as
        ``filter``)."""
        return {
            "filter": self._where.to_dict() if self._where is not None else None,
            "rank": self._rank.to_dict() if self._rank is not None else None,
            "group_by": self._group_by.to_dict(),
            "limit": self._limit.to_dict(),
            "select": self._select.to_dict(),
        }

    def _with(self, **parts: Any) -> Search:
        current: dict[str, Any] = {
            "where": self._where,
            "rank": self._rank,
            "group_by": self._group_by,
            "limit": self._limit,
            "select": self._select,
        }
        return Search(**{**current, **parts})

    def select_all(self) -> Search:
        """This search returning every reserved field: document, embedding, metadata and
        score."""
        return self._with(
            select=Select(keys={Key.DOCUMENT, Key.EMBEDDING, Key.METADATA, Key.SCORE})
        )

    def select(self, *keys: Key | str) -> Search:
        """This search returning the fields `keys` (``Key``s or names)."""
        return self._with(select=Select(keys=set(keys)))

    def where(self, where: Where | dict[str, Any] | None) -> Search:
        """This search restricted to the records `where` holds for (None: every record)."""
        return self._with(where=where)

    def rank(self, rank_expr: Rank | dict[str, Any] | None) -> Search:
        """This search ordered by `rank_expr`, lowest first (None: unranked)."""
        return self._with(rank=rank_expr)

    def group_by(self, group_by: GroupBy | dict[str, Any] | None) -> Search:
        """This search grouping its results as `group_by` says (None: no grouping)."""
        return self._with(group_by=group_by)

    def limit(self, limit: int, offset: int = 0) -> Search:
        """This search skipping `offset` results, then returning at most `limit`."""
        return self._with(limit=Limit(offset=offset, limit=limit))


# Each part is checked where the search is built, with chromadb's messages; a dict goes
# through the part's from_dict, which checks its content.


def _where(where: Any) -> Where | None:
    if where is None or isinstance(where, Where):
        return where
    if isinstance(where, dict):
        return Where.from_dict(where)
    raise TypeError(f"where must be a Where object, dict, or None, got {type(where).__name__}")


def _rank(rank: Any) -> Rank | None:
    if rank is None or isinstance(rank, Rank):
        return rank
    if isinstance(rank, dict):
        return Rank.from_dict(rank)
    raise TypeError(f"rank must be a Rank object, dict, or None, got {type(rank).__name__}")


def _group_by(group_by: Any) -> GroupBy:
    if group_by is None:
        return GroupBy()
    if isinstance(group_by, GroupBy):
        return group_by
    if isinstance(group_by, dict):
        return GroupBy.from_dict(group_by)
    raise TypeError(
        f"group_by must be a GroupBy object, dict, or None, got {type(group_by).__name__}"
    )


def _limit(limit: Any) -> Limit:
    if limit is None:
        return Limit()
    if isinstance(limit, Limit):
        return limit
    if isinstance(limit, int):
        return Limit.from_dict({"limit": limit, "offset": 0})
    if isinstance(limit, dict):
        return Limit.from_dict(limit)
    raise TypeError(f"limit must be a Limit object, dict, int, or None, got {type(limit).__name__}")


def _select(select: Any) -> Select:
    if select is None:
        return Select()
    if isinstance(select, Select):
        return select
    if isinstance(select, dict):
        return Select.from_dict(select)
    if isinstance(select, (list, set)):
        # Chroma's Search API pages mix `Key`s and names in this list (chromadb 1.5.9
        # takes names only): a `Key` stands for its name.
        return Select.from_dict({"keys": [k.name if isinstance(k, Key) else k for k in select]})
    raise TypeError(
        f"select must be a Select object, dict, list, set, or None, got {type(select).__name__}"
    )


__all__ = ["Search"]
