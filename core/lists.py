"""What a list page says above its rows: how many matched, and how to clear the filters."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.http import QueryDict

from core.ordering import PARAM

# Parameters that shape a list without narrowing it.
NOT_FILTERS = {"page", "page_size", PARAM}


@dataclass(frozen=True)
class Nouns:
    """How one list names its rows (ngettext_lazy with a "count" key, and gettext_lazy)."""

    # "%(count)s session matches these filters." / "... sessions match ..."
    matched: object
    # "%(count)s session." / "%(count)s sessions."
    total: object
    # "No sessions match these filters."
    none_matched: object
    # "No sessions yet."
    none: object


@dataclass(frozen=True)
class ListSummary:
    """The line above a list: what matched, or why there is nothing, and the clear link."""

    count: int
    filtered: bool
    clear_url: str
    text: str

    @property
    def empty(self) -> bool:
        return self.count == 0


def is_filtered(query: QueryDict, ignore: Iterable[str] = ()) -> bool:
    """True when the query string narrows the list (a page or a sort does not)."""
    skip = NOT_FILTERS | set(ignore)
    return any(
        value.strip() for name, values in query.lists() if name not in skip for value in values
    )


def clear_url(path: str, query: QueryDict) -> str:
    """`path` without any filter, keeping the sort."""
    ordering = query.get(PARAM)
    if not ordering:
        return path
    kept = QueryDict(mutable=True)
    kept[PARAM] = ordering
    return f"{path}?{kept.urlencode()}"


def summarize(
    nouns: Nouns, count: int, request, *, path: str | None = None, ignore: Iterable[str] = ()
) -> ListSummary:
    """The summary of a list of `count` rows shown for `request`'s query string."""
    filtered = is_filtered(request.GET, ignore)
    if filtered:
        text = nouns.matched % {"count": count} if count else str(nouns.none_matched)
    else:
        text = nouns.total % {"count": count} if count else str(nouns.none)
    return ListSummary(
        count=count,
        filtered=filtered,
        clear_url=clear_url(path or request.path, request.GET),
        text=text,
    )


class SortedListMixin:
    """A list view sorted by `?ordering=` (`sorting`), with its summary line (`nouns`)."""

    sorting = None  # a core.ordering.Ordering
    nouns: Nouns | None = None
    # Query parameters the page always sets itself, which do not count as a filter.
    summary_ignores: tuple[str, ...] = ()

    def sort_state(self):
        return self.sorting.parse(self.request.GET.get(PARAM))

    def sort(self, queryset):
        """`queryset` in the order the query string asks for, or the list's default."""
        return queryset.order_by(*self.sorting.order_by(self.sort_state()))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sort"] = self.sort_state()
        if self.nouns is not None and "summary" not in context:
            paginator = context.get("paginator")
            rows = context.get("object_list")
            count = paginator.count if paginator is not None else len(rows or [])
            context["summary"] = summarize(
                self.nouns, count, self.request, ignore=self.summary_ignores
            )
        return context
