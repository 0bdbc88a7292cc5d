"""The OpenAPI schema: every operation also documents the errors it can answer with."""

from drf_spectacular.openapi import AutoSchema

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


class TenantAutoSchema(AutoSchema):
    """drf-spectacular's schema plus 400/401/403/404 answers and CSV exports."""

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
        if self.view.get_throttles():
            errors["429"] = error("Too many requests; retry after the given seconds.", DETAIL)
        for code, body in errors.items():
            responses.setdefault(code, body)
        return responses
