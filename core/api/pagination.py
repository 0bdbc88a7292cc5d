"""Page-number pagination and the ordering that keeps pages stable."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.pagination import PageNumberPagination

from core.ordering import with_tiebreak


class StandardPagination(PageNumberPagination):
    """50 rows a page; clients may ask for up to 200 with `?page_size=`."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        # DRF silently falls back to the default on a bad value; a client deserves to know.
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError(
                {self.page_size_query_param: [_("A whole number of at least 1 is required.")]}
            )
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                # Above the cap is capped, not refused, as DRF does.
                parameter["description"] = (
                    f"Rows per page: {self.page_size} unless given, at most {self.max_page_size}."
                )
        return parameters


class StableOrderingFilter(OrderingFilter):
    """`?ordering=` over the view's `ordering_fields`, always ending in the primary key."""

    def filter_queryset(self, request, queryset, view):
        # A view whose list the portal shows too declares `sorting` (a core.ordering.Ordering):
        # its keys then mean exactly what the page's column headers mean. Without a valid key
        # the API keeps its own default order.
        sorting = getattr(view, "sorting", None)
        raw = request.query_params.get(self.ordering_param)
        if sorting is not None and raw:
            state = sorting.parse(raw)
            if state.requested:
                return queryset.order_by(*sorting.order_by(state))
        return super().filter_queryset(request, queryset, view)

    def get_valid_fields(self, queryset, view, context=None):
        sorting = getattr(view, "sorting", None)
        if sorting is not None:
            return [(key, key) for key in sorting.keys]
        return super().get_valid_fields(queryset, view, context or {})

    def get_ordering(self, request, queryset, view):
        ordering = list(
            super().get_ordering(request, queryset, view) or queryset.model._meta.ordering
        )
        if not ordering:
            return ["-pk"]
        return with_tiebreak(ordering, descending=str(ordering[0]).startswith("-"))
