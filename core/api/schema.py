"""The OpenAPI schema: every operation also documents the errors it can answer with."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# A 400 names each bad field with its messages (nested for nested bodies), or `detail`.
FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": True,
    "description": "Each invalid field with a list of messages; `non_field_errors` for the rest.",
}
CSV = {"type": "string", "description": "RFC 4180 CSV with a header line, streamed."}


def error(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def model_field_of(field):
    """The model field a serializer field reads, if it reads one directly."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or "." in (field.source or ""):
        return None
    try:
        return model._meta.get_field(field.source)
    except FieldDoesNotExist:
        return None


class TenantAutoSchema(AutoSchema):
    """drf-spectacular's schema plus 400/401/403/404 answers and CSV exports."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, serializers.ChoiceField | serializers.CharField) and field.read_only:
            # DRF drops allow_blank from read-only fields, yet a blank model field does answer
            # "" (a station's OCPP version before its first boot, a card without an email).
            model_field = model_field_of(field)
            if model_field is not None and model_field.blank and not field.allow_blank:
                field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for response in responses.values():
            content = response.get("content", {})
            if "text/csv" in content:
                content["text/csv"] = {"schema": CSV}
        errors = {"400": error("Invalid body or query parameters.", FIELD_ERRORS)}
        if self.view.get_authenticators():
            errors["401"] = error("Not authenticated.", DETAIL)
        if any(p for p in self.view.get_permissions() if type(p).__name__ != "AllowAny"):
            errors["403"] = error("Authenticated, but the role does not allow this.", DETAIL)
        if "{" in self.path:
            errors["404"] = error("No such object in your organizations.", DETAIL)
        elif self._is_list_view() and self.method == "GET" and self.view.paginator:
            errors["404"] = error("No such page.", DETAIL)
        if self.view.get_throttles():
            errors["429"] = error("Too many requests; retry after the given seconds.", DETAIL)
        for code, body in errors.items():
            responses.setdefault(code, body)
        return responses


def allow_empty_filters(result, generator, request, public):
    """Mark optional query parameters as accepting "" (django-filter: an empty filter is none)."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result
