"""Sortable column headers and the sort kept in filter forms (see core.ordering)."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core.ordering import PARAM

register = template.Library()

ARROWS = {"ascending": "▲", "descending": "▼"}


def _link(request, value: str) -> str:
    query = request.GET.copy()
    # A new order starts at the first page; the rest of the query (filters) stays.
    query.pop("page", None)
    query[PARAM] = value
    return f"?{query.urlencode()}"


@register.simple_tag(takes_context=True)
def sortable_th(context, key: str, label: str, css_class: str = "", first: str = "asc"):
    """A column header that sorts the list by `key`; the sorted one says so with aria-sort."""
    # `sort` is the view's core.ordering.SortState. The link is relative ("?ordering=..."),
    # so a table fetched again by htmx still points at the page, not at the fragment.
    sort = context.get("sort")
    request = context["request"]
    attrs = format_html(' class="{}"', css_class) if css_class else ""
    if sort is None:
        return format_html('<th scope="col"{}>{}</th>', attrs, label)
    if sort.key == key:
        direction = "descending" if sort.descending else "ascending"
        target = key if sort.descending else f"-{key}"
        hint = _("sorted descending") if sort.descending else _("sorted ascending")
        return format_html(
            '<th scope="col"{} aria-sort="{}"><a class="sort sorted" href="{}" data-sort="{}">'
            '{} <span class="sort-arrow" aria-hidden="true">{}</span>'
            '<span class="visually-hidden"> ({})</span></a></th>',
            attrs,
            direction,
            _link(request, target),
            key,
            label,
            ARROWS[direction],
            hint,
        )
    target = f"-{key}" if first == "desc" else key
    return format_html(
        '<th scope="col"{}><a class="sort" href="{}" data-sort="{}">{}'
        ' <span class="sort-arrow" aria-hidden="true">↕</span></a></th>',
        attrs,
        _link(request, target),
        key,
        label,
    )


@register.simple_tag(takes_context=True)
def ordering_input(context):
    """A filter form's hidden field that keeps the list's sort when the filters change."""
    sort = context.get("sort")
    if sort is None or not sort.requested:
        return ""
    return format_html('<input type="hidden" name="{}" value="{}">', PARAM, sort.value)


@register.simple_tag(takes_context=True)
def sort_link(context, key: str, label: str, first: str = "asc"):
    """A "sort by" link for a list that is not a table (cards of tariffs): like sortable_th."""
    sort = context.get("sort")
    request = context["request"]
    if sort is None:
        # A view that sorts nothing: the label, not a link that would do nothing.
        return label
    if sort.key == key:
        direction = "descending" if sort.descending else "ascending"
        hint = _("sorted descending") if sort.descending else _("sorted ascending")
        return format_html(
            '<a class="sort sorted" href="{}" data-sort="{}" aria-current="true">{}'
            ' <span class="sort-arrow" aria-hidden="true">{}</span>'
            '<span class="visually-hidden"> ({})</span></a>',
            _link(request, key if sort.descending else f"-{key}"),
            key,
            label,
            ARROWS[direction],
            hint,
        )
    return format_html(
        '<a class="sort" href="{}" data-sort="{}">{}</a>',
        _link(request, f"-{key}" if first == "desc" else key),
        key,
        label,
    )
