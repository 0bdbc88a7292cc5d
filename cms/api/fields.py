"""Serializer fields that only accept objects of the organization being written to."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class TenantRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key of an object in the same organization as the row being written."""

    # The organization is the one in the URL (creating) or the object's own (changing), set
    # by TenantViewSet.get_serializer_context. The same message for an object of another
    # organization and a missing one, so the error tells an outsider nothing.
    default_error_messages = {
        "does_not_exist": _('No {model} "{pk_value}" in this organization.'),
    }

    def get_queryset(self):
        queryset = super().get_queryset()
        organization = self.context.get("organization_id")
        if organization is None:
            return queryset.none()
        return queryset.for_org(organization)

    def fail(self, key, **kwargs):
        if key == "does_not_exist":
            kwargs.setdefault("model", self.queryset.model._meta.verbose_name)
        super().fail(key, **kwargs)
