"""Server-side sorting of lists: `?ordering=` keys → ORM terms, shared by pages and the API."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.expressions import BaseExpression, OrderBy

# DRF's OrderingFilter reads the same parameter, so a link means the same in the portal,
# its CSV export and the API.
PARAM = "ordering"
TIEBREAKERS = {"pk", "-pk", "id", "-id"}


def with_tiebreak(terms: list, *, descending: bool) -> list:
    """`terms` ending on the primary key unless they name it already."""
    # Rows that tie on every key (two sessions of one start, stations never seen) would
    # otherwise land on two pages or none: the database may return ties in any order.
    if not TIEBREAKERS & {term for term in terms if isinstance(term, str)}:
        terms.append("-pk" if descending else "pk")
    return terms


@dataclass(frozen=True)
class SortState:
    """The parsed `?ordering=` of one request: its terms and the column sorted first."""

    terms: tuple[str, ...]
    # True when the query string asked for this order (not the default).
    requested: bool

    @property
    def key(self) -> str:
        """The key of the column sorted first (without the minus)."""
        return self.terms[0].lstrip("-")

    @property
    def descending(self) -> bool:
        return self.terms[0].startswith("-")

    @property
    def value(self) -> str:
        """The parameter's value that reproduces this order."""
        return ",".join(self.terms)


class Ordering:
    """The keys a list may be sorted by, each an ORM path or expression, with a default order."""

    def __init__(self, fields: Mapping[str, str | BaseExpression], default: str | Sequence[str]):
        self.fields = dict(fields)
        self.default = (default,) if isinstance(default, str) else tuple(default)
        unknown = [term for term in self.default if term.lstrip("-") not in self.fields]
        if unknown:
            raise ValueError(f"default ordering {unknown} is not among the keys")

    @property
    def keys(self) -> list[str]:
        """The allowed keys, as an API viewset's `ordering_fields`."""
        return list(self.fields)

    def subset(self, *excluded: str) -> "Ordering":
        """The same order without keys another reader cannot compute (an annotation)."""
        return Ordering(
            {key: target for key, target in self.fields.items() if key not in excluded},
            self.default,
        )

    def parse(self, raw: str | None) -> SortState:
        """The valid terms of `raw` ("-start" or "site,-energy"), or the default order."""
        # As DRF's OrderingFilter: unknown keys are dropped; nothing left means the default.
        terms, seen = [], set()
        for term in (raw or "").split(","):
            term = term.strip()
            key = term.removeprefix("-")
            if key in self.fields and key not in seen:
                terms.append(term)
                seen.add(key)
        if terms:
            return SortState(tuple(terms), requested=True)
        return SortState(self.default, requested=False)

    def order_by(self, state: SortState) -> list:
        """The ORM terms of `state`, ending in the primary key so pages never overlap."""
        expressions: list[str | OrderBy] = []
        for term in state.terms:
            descending = term.startswith("-")
            target = self.fields[term.lstrip("-")]
            if isinstance(target, str):
                expressions.append(f"-{target}" if descending else target)
            else:
                expressions.append(target.desc() if descending else target.asc())
        return with_tiebreak(expressions, descending=state.terms[-1].startswith("-"))

    def apply(self, queryset: QuerySet, raw: str | None) -> QuerySet:
        """`queryset` in the order `raw` asks for (or the default)."""
        return queryset.order_by(*self.order_by(self.parse(raw)))

    def sort_rows(self, rows: list, raw: str | None, key_of) -> list:
        """Rows already in memory (a report), sorted by `key_of(row, key)` like `apply`."""
        state = self.parse(raw)
        # Stable sorts from the last term to the first give a multi-key order.
        for term in reversed(state.terms):
            key = term.lstrip("-")
            values = [_none_first(key_of(row, key)) for row in rows]
            order = sorted(range(len(rows)), key=values.__getitem__, reverse=term.startswith("-"))
            rows = [rows[index] for index in order]
        return rows


def _none_first(value):
    # None sorts before every value ascending (and after them descending), as on SQLite.
    return (value is not None, value if value is not None else 0)
