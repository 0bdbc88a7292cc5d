"""Query parameters a view understands, so an unknown one is a 400 and not silently ignored."""

from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.settings import api_settings


def _filterset_parameters(view, backend) -> set[str]:
    """The names a filterset reads: a range filter's widget adds suffixes (`_min`, `_after`)."""
    # The class's queryset is enough (only its model is read): get_queryset() may query.
    queryset = view.queryset if view.queryset is not None else view.get_queryset()
    filterset_class = backend.get_filterset_class(view, queryset)
    if filterset_class is None:
        return set()
    names = set()
    for name, filter_ in filterset_class.base_filters.items():
        widget = filter_.extra.get("widget") or filter_.field_class.widget
        suffixes = getattr(widget, "suffixes", None)
        names.update(f"{name}_{suffix}" if suffix else name for suffix in suffixes or [""])
    return names


def _declared_parameters(view) -> set[str]:
    """Query parameters the action documents with @extend_schema (parameters or a serializer)."""
    method = getattr(view, getattr(view, "action", None) or "", None)
    schema_class = getattr(method, "kwargs", {}).get("schema")
    if schema_class is None:
        return set()
    schema = schema_class()
    schema.view, schema.method = view, view.request.method
    names = set()
    for parameter in schema.get_override_parameters():
        if isinstance(parameter, OpenApiParameter):
            if parameter.location == OpenApiParameter.QUERY and not parameter.response:
                names.add(parameter.name)
        else:
            serializer = parameter() if isinstance(parameter, type) else parameter
            names.update(serializer.fields)
    return names


def allowed_query_parameters(view) -> set[str]:
    """Every query parameter the view reads: filters, ordering, search, pages, format, its own."""
    names = {api_settings.URL_FORMAT_OVERRIDE}
    for backend_class in getattr(view, "filter_backends", ()):
        backend = backend_class()
        if isinstance(backend, DjangoFilterBackend):
            names |= _filterset_parameters(view, backend)
        elif isinstance(backend, OrderingFilter):
            names.add(backend.ordering_param)
        elif isinstance(backend, SearchFilter):
            names.add(backend.search_param)
    paginator = getattr(view, "paginator", None)
    for attribute in ("page_query_param", "page_size_query_param", "limit_query_param"):
        if getattr(paginator, attribute, None):
            names.add(getattr(paginator, attribute))
    names |= _declared_parameters(view)
    names |= set(getattr(view, "extra_query_parameters", ()))
    return names


def reject_unknown_query_parameters(view, request) -> None:
    """A 400 naming each query parameter the view does not read (a typo filters nothing)."""
    allowed = allowed_query_parameters(view)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        message = _("Unknown query parameter. This endpoint reads: %(allowed)s.") % {
            "allowed": ", ".join(sorted(allowed))
        }
        raise ValidationError({name: [message] for name in unknown})


class StrictQueryParametersMixin:
    """Reads refuse query parameters the view does not read, after authentication."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # After authentication and permissions: a stranger learns nothing from a 400. Reads
        # only: a write's query string is the action's own business (the card import options).
        if request.method in ("GET", "HEAD"):
            reject_unknown_query_parameters(self, request)
