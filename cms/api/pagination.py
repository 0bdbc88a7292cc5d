"""Page-number pagination and the ordering that keeps pages stable."""

from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """50 rows a page; clients may ask for up to 200 with `?page_size=`."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class StableOrderingFilter(OrderingFilter):
    """`?ordering=` over the view's `ordering_fields`, always ending in the primary key."""

    def get_ordering(self, request, queryset, view):
        ordering = list(
            super().get_ordering(request, queryset, view) or queryset.model._meta.ordering
        )
        if not ordering:
            return ["-pk"]
        # Rows that tie on every requested field (many stations never seen: last_seen is
        # null) would otherwise land on two pages or none: the database may order ties anyhow.
        if not {"pk", "-pk", "id", "-id"} & {str(term) for term in ordering}:
            first = str(ordering[0])
            ordering.append("-pk" if first.startswith("-") else "pk")
        return ordering
