"""Serializer fields that only accept objects of the organization being written to."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS


class TenantManyRelatedField(serializers.ManyRelatedField):
    """A list of primary keys; DRF would also take an object and use its keys."""

    def to_internal_value(self, data):
        if not isinstance(data, list | tuple):
            self.fail("not_a_list", input_type=type(data).__name__)
        return super().to_internal_value(data)


class TenantRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key of an object in the same organization as the row being written."""

    # The organization is the one in the URL (creating) or the object's own (changing), set
    # by TenantViewSet.get_serializer_context. The same message for an object of another
    # organization and a missing one, so the error tells an outsider nothing.
    default_error_messages = {
        "does_not_exist": _('No {model} "{pk_value}" in this organization.'),
    }

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        list_kwargs.update((k, v) for k, v in kwargs.items() if k in MANY_RELATION_KWARGS)
        return TenantManyRelatedField(**list_kwargs)

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
