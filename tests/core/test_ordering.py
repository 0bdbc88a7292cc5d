"""core.ordering and core.lists: sort keys from `?ordering=`, the summary line of a list."""

import pytest
from django.db.models import F
from django.http import QueryDict
from django.template import Context, Template
from django.test import RequestFactory
from django.utils.translation import gettext_lazy, ngettext_lazy

from core.lists import Nouns, clear_url, is_filtered, summarize
from core.ordering import Ordering

SESSIONS = Ordering(
    {"start": "start", "station": "station__ocpp_id", "span": F("stop") - F("start")},
    default="-start",
)
NOUNS = Nouns(
    matched=ngettext_lazy("%(count)s row matches.", "%(count)s rows match.", "count"),
    total=ngettext_lazy("%(count)s row.", "%(count)s rows.", "count"),
    none_matched=gettext_lazy("No rows match."),
    none=gettext_lazy("No rows yet."),
)


def test_a_known_key_is_parsed_with_its_direction():
    state = SESSIONS.parse("-station")
    assert (state.key, state.descending, state.requested) == ("station", True, True)


@pytest.mark.parametrize("raw", [None, "", "password", "-", "--start", "start__gt", "station;drop"])
def test_an_unknown_or_missing_key_falls_back_to_the_default(raw):
    state = SESSIONS.parse(raw)
    assert state.terms == ("-start",)
    assert not state.requested


def test_unknown_keys_in_a_list_are_dropped_and_repeats_kept_once():
    assert SESSIONS.parse("nope,station,-station,-start").terms == ("station", "-start")


def test_order_by_maps_keys_to_paths_and_ends_in_the_primary_key():
    assert SESSIONS.order_by(SESSIONS.parse("-station")) == ["-station__ocpp_id", "-pk"]
    assert SESSIONS.order_by(SESSIONS.parse("station")) == ["station__ocpp_id", "pk"]


def test_an_expression_key_orders_by_the_expression():
    ascending, tiebreaker = SESSIONS.order_by(SESSIONS.parse("span"))
    assert not ascending.descending and tiebreaker == "pk"
    descending, _ = SESSIONS.order_by(SESSIONS.parse("-span"))
    assert descending.descending


def test_a_default_outside_the_keys_is_refused():
    with pytest.raises(ValueError):
        Ordering({"name": "name"}, default="created")


def test_a_subset_drops_keys_but_keeps_the_default():
    subset = SESSIONS.subset("span")
    assert subset.keys == ["start", "station"]
    assert subset.parse("span").terms == ("-start",)


def test_rows_in_memory_sort_like_the_database_with_none_first():
    rows = [{"n": 2}, {"n": None}, {"n": 1}]
    ordering = Ordering({"n": "n"}, default="n")
    by_key = ordering.sort_rows(rows, "n", lambda row, key: row[key])
    assert [row["n"] for row in by_key] == [None, 1, 2]
    by_key = ordering.sort_rows(rows, "-n", lambda row, key: row[key])
    assert [row["n"] for row in by_key] == [2, 1, None]


def test_page_and_ordering_are_not_filters():
    assert not is_filtered(QueryDict("page=2&ordering=-start&state="))
    assert is_filtered(QueryDict("state=completed"))


def test_clearing_filters_keeps_the_sort():
    assert clear_url("/o/x/sessions/", QueryDict("state=a&ordering=-start")) == (
        "/o/x/sessions/?ordering=-start"
    )
    assert clear_url("/o/x/sessions/", QueryDict("state=a")) == "/o/x/sessions/"


@pytest.mark.parametrize(
    ("query", "count", "text", "filtered"),
    [
        ("", 0, "No rows yet.", False),
        ("", 3, "3 rows.", False),
        ("state=x", 0, "No rows match.", True),
        ("state=x", 1, "1 row matches.", True),
    ],
)
def test_the_summary_says_what_matched(query, count, text, filtered):
    request = RequestFactory().get(f"/list/?{query}")
    summary = summarize(NOUNS, count, request)
    assert (summary.text, summary.filtered, summary.clear_url) == (text, filtered, "/list/")


def render(template: str, query: str, sort) -> str:
    request = RequestFactory().get(f"/list/?{query}")
    return Template("{% load lists %}" + template).render(
        Context({"request": request, "sort": sort})
    )


def test_the_sorted_column_header_says_so_with_aria_sort_and_an_arrow():
    html = render('{% sortable_th "start" "Start" %}', "ordering=-start&page=3&state=a", None)
    assert html == '<th scope="col">Start</th>'  # no sort in the context: a plain header
    sort = SESSIONS.parse("-start")
    html = render('{% sortable_th "start" "Start" %}', "ordering=-start&page=3&state=a", sort)
    assert 'aria-sort="descending"' in html
    assert "▼" in html
    # Clicking reverses the order, keeps the filters and goes back to the first page.
    assert 'href="?ordering=start&amp;state=a"' in html


def test_another_column_header_links_to_its_first_direction_without_aria_sort():
    sort = SESSIONS.parse("-start")
    html = render('{% sortable_th "station" "Station" "num" first="desc" %}', "", sort)
    assert "aria-sort" not in html
    assert 'class="num"' in html
    assert 'href="?ordering=-station"' in html


def test_the_filter_form_keeps_a_requested_sort_only():
    assert render("{% ordering_input %}", "", SESSIONS.parse(None)) == ""
    html = render("{% ordering_input %}", "", SESSIONS.parse("station"))
    assert html == '<input type="hidden" name="ordering" value="station">'
