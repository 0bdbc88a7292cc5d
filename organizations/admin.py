"""Django admin for support staff: organizations, members, invitations and API keys.

Also the base classes every app's admin builds on, so tenancy checks and write rules are
enforced once (organizations is the app every other app already depends on).
"""

import functools

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from core.events import emit
from core.timezones import format_in_zone, zone_named
from organizations.choices import InvitationStatus
from organizations.events import ORGANIZATION_CREATED
from organizations.models import Invitation, Membership, Organization, OrganizationAPIKey

NOT_TENANT_OWNED = object()


def organization_id_of(obj):
    """The id of the organization owning `obj` (None if unassigned), through its declared path."""
    path = getattr(type(obj)._default_manager.all(), "org_path", None)
    if path is None:
        return NOT_TENANT_OWNED
    if path == "pk":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id")


# The annotation that carries a row's organization's time zone name into the admin's pages.
ROW_TIME_ZONE = "organization_time_zone_for_admin"
NO_ANNOTATION = object()


def row_time_zone(obj):
    """The time zone of the organization owning `obj`; UTC for a row of no organization."""
    name = getattr(obj, ROW_TIME_ZONE, NO_ANNOTATION)
    if name is NO_ANNOTATION:
        # A row not read through the admin's queryset (an unsaved one): follow its path.
        org_id = organization_id_of(obj)
        name = None
        if org_id is not None and org_id is not NOT_TENANT_OWNED:
            name = Organization.objects.filter(pk=org_id).values_list("timezone", flat=True).first()
    return zone_named(name)


def zoned_datetime_display(field):
    """An admin display of a datetime field in the row's organization's time zone, named."""

    @admin.display(description=field.verbose_name, ordering=field.name)
    def display(obj):
        value = getattr(obj, field.name, None)
        if value is None:
            return None
        return format_in_zone(value, row_time_zone(obj))

    # Keeps the column's CSS class (`field-<name>`) and the name a reader of the HTML expects.
    display.__name__ = field.name
    return display


class OrganizationTimesMixin:
    """Shows a tenant row's datetimes in its organization's zone, naming the zone.

    Support staff and the organization's operators then read the same wall-clock times: the
    portal shows every time in the organization's zone. Editable datetime inputs keep the
    server's zone (settings.TIME_ZONE); read-only ones and list columns are converted.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # An admin that overrides get_readonly_fields without calling super() still gets its
        # datetime fields converted: its override is wrapped once, here.
        own = cls.__dict__.get("get_readonly_fields")
        if own is not None and not getattr(own, "adds_zoned_times", False):

            @functools.wraps(own)
            def get_readonly_fields(self, request, obj=None):
                return self.with_zoned_times(request, obj, own(self, request, obj))

            get_readonly_fields.adds_zoned_times = True
            cls.get_readonly_fields = get_readonly_fields

    def _organization_path(self):
        return getattr(self.model._default_manager.all(), "org_path", None)

    def _datetime_fields(self) -> dict:
        """The model's datetime fields by name; none for a model of no organization."""
        if self._organization_path() is None:
            return {}
        return {
            field.name: field
            for field in self.model._meta.concrete_fields
            if isinstance(field, models.DateTimeField)
        }

    def _zoned(self, name: str):
        # One display per field for the admin's lifetime: fieldsets and readonly_fields must
        # name the very same object.
        cache = self.__dict__.setdefault("_zoned_displays", {})
        if name not in cache:
            cache[name] = zoned_datetime_display(self._datetime_fields()[name])
        return cache[name]

    def with_zoned_times(self, request, obj, readonly) -> list:
        """`readonly` plus a zoned display for each datetime field shown read-only."""
        readonly = list(readonly)
        fields = self._datetime_fields()
        if not fields:
            return readonly
        view_only = not self.has_change_permission(request, obj)
        names = {name for name in readonly if isinstance(name, str)}
        for name, field in fields.items():
            if view_only or name in names or not field.editable:
                display = self._zoned(name)
                if display not in readonly:
                    # The name stays too, so the form leaves the field out.
                    readonly.append(display)
        return readonly

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        path = self._organization_path()
        if path is None:
            return queryset
        zone = F("timezone") if path == "pk" else F(f"{path}__timezone")
        return queryset.annotate(**{ROW_TIME_ZONE: zone})

    def get_readonly_fields(self, request, obj=None):
        return self.with_zoned_times(request, obj, super().get_readonly_fields(request, obj))

    get_readonly_fields.adds_zoned_times = True

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        readonly = self.get_readonly_fields(request, obj)
        zoned = {name for name in self._datetime_fields() if self._zoned(name) in readonly}
        if not zoned:
            return fieldsets
        seen = set()

        def swap(entry):
            if isinstance(entry, (list, tuple)):
                kept = tuple(item for item in map(swap, entry) if item is not None)
                return kept or None
            replacement = self._zoned(entry) if entry in zoned else entry
            if replacement in seen:
                return None
            seen.add(replacement)
            return replacement

        swapped = []
        for title, options in fieldsets:
            lines = [line for line in map(swap, options.get("fields", ())) if line is not None]
            swapped.append((title, {**options, "fields": lines}))
        return swapped

    def get_list_display(self, request):
        fields = self._datetime_fields()
        editable = set(getattr(self, "list_editable", ()) or ())
        return [
            self._zoned(name)
            if isinstance(name, str) and name in fields and name not in editable
            else name
            for name in super().get_list_display(request)
        ]


class TenantAdminForm(forms.ModelForm):
    """Refuses related objects of another organization than the row's own."""

    def clean(self):
        cleaned_data = super().clean()
        model = self._meta.model
        path = getattr(model._default_manager.all(), "org_path", None)
        if path is None or path == "pk":
            return cleaned_data
        owner_field = path.split("__")[0]
        if owner_field in self.fields:
            if owner_field not in cleaned_data:
                return cleaned_data  # the owner field has its own error already
            owner = cleaned_data[owner_field]
            org_id = None if owner is None else organization_id_of(owner)
        else:
            org_id = organization_id_of(self.instance)
        for name in self.fields:
            if name == owner_field or name not in cleaned_data:
                continue
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if not model_field.is_relation:
                continue
            value = cleaned_data[name]
            if model_field.many_to_many:
                related = list(value or [])
            else:
                related = [] if value is None else [value]
            for obj in related:
                other_org_id = organization_id_of(obj)
                if other_org_id is NOT_TENANT_OWNED or other_org_id == org_id:
                    continue
                if org_id is None:
                    message = _("Choose an organization before linking “%(object)s”.")
                else:
                    message = _("“%(object)s” belongs to another organization.")
                self.add_error(name, forms.ValidationError(message, params={"object": obj}))
        return cleaned_data

    def changed_model_fields(self) -> list[str]:
        """Concrete model fields this form changed, plus auto-updated timestamps."""
        concrete = self._meta.model._meta.concrete_fields
        names = {field.name for field in concrete}
        changed = [name for name in self.changed_data if name in names]
        return changed + [field.name for field in concrete if getattr(field, "auto_now", False)]


def save_changed_fields(form, instance) -> None:
    """Write only what the form changed, so concurrent writes to other fields survive."""
    instance.save(update_fields=form.changed_model_fields())


class TenantInlineFormSet(BaseInlineFormSet):
    """Inline formset that updates existing rows with the changed fields only."""

    def save_existing(self, form, obj, commit=True):
        if not commit:
            return form.save(commit=False)
        instance = form.save(commit=False)
        save_changed_fields(form, instance)
        form.save_m2m()
        return instance


class CmsModelAdmin(OrganizationTimesMixin, admin.ModelAdmin):
    """Base admin: same-organization checks, and changes written field by field."""

    form = TenantAdminForm
    # Support staff work on busy tables; a full COUNT(*) on every page load is not worth it.
    show_full_result_count = False

    def save_model(self, request, obj, form, change):
        # The gateway writes status, meter and connection fields at any moment; saving every
        # column would put back the values this request read before validating the form.
        if change:
            save_changed_fields(form, obj)
        else:
            super().save_model(request, obj, form, change)


class CmsTabularInline(OrganizationTimesMixin, admin.TabularInline):
    """Base tabular inline with the same form and write rules as CmsModelAdmin."""

    form = TenantAdminForm
    formset = TenantInlineFormSet
    extra = 0


class ReadOnlyModelAdmin(CmsModelAdmin):
    """Records written by the system: viewable, never added or edited; superusers may delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class ImmutableModelAdmin(ReadOnlyModelAdmin):
    """Records that must never change or disappear, not even for superusers."""

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyTabularInline(OrganizationTimesMixin, admin.TabularInline):
    """Inline that only lists rows."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(CmsTabularInline):
    """Members of an organization with their role."""

    model = Membership
    fields = ("user", "role", "created")
    readonly_fields = ("created",)
    autocomplete_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(CmsModelAdmin):
    """Tenants with their members."""

    list_display = ("name", "slug", "currency", "timezone", "contact_name", "contact_email")
    list_filter = (
        "currency",
        "timezone",
        "billing_period",
        ("created", admin.DateFieldListFilter),
    )
    search_fields = ("name", "slug", "contact_name", "contact_email", "vat_id")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created", "updated")
    fieldsets = (
        (None, {"fields": ("name", "slug", "currency", "timezone")}),
        (_("Contact"), {"fields": ("contact_name", "contact_email", "contact_phone")}),
        (
            _("Invoicing"),
            {"fields": ("billing_address", "vat_id", "billing_period", "invoice_prefix")},
        ),
        (_("History"), {"fields": ("created", "updated")}),
    )
    inlines = (MembershipInline,)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            # Announced like a signup's (services.create_organization): apps that give a new
            # organization its defaults (alert rules) hear of it after the commit.
            emit(ORGANIZATION_CREATED, organization_id=obj.pk)


@admin.register(Membership)
class MembershipAdmin(CmsModelAdmin):
    """Who belongs to which organization, with which role."""

    list_display = ("user", "organization", "role", "created")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "user__email", "organization__name")
    autocomplete_fields = ("user", "organization")
    list_select_related = ("user", "organization")
    readonly_fields = ("created",)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyModelAdmin):
    """Invitations to join organizations: who invited whom; support staff may only revoke them."""

    list_display = ("email", "organization", "role", "status", "created", "expires_at", "sent_at")
    list_filter = ("status", "role", "organization")
    search_fields = ("email", "organization__name")
    list_select_related = ("organization", "invited_by", "accepted_by")
    # Never the token hash: it is of no use to anybody reading this page.
    fields = ("organization", "email", "role", "status", "invited_by", "created", "expires_at")
    fields += ("sent_at", "accepted_by", "responded_at")
    actions = ("revoke",)

    @admin.action(description=_("Revoke the selected pending invitations"))
    def revoke(self, request, queryset):
        count = queryset.filter(status=InvitationStatus.PENDING).update(
            status=InvitationStatus.REVOKED, responded_at=timezone.now()
        )
        self.message_user(request, _("%(count)d invitations revoked.") % {"count": count})


# The library's own key model belongs to no organization and opens nothing here: keys are
# OrganizationAPIKey rows, created by organization admins through the API or the portal.
admin.site.unregister(APIKey)


@admin.register(OrganizationAPIKey)
class OrganizationAPIKeyAdmin(ReadOnlyModelAdmin):
    """Machine clients' keys: who made them, last use; support staff may only revoke them."""

    list_display = ("name", "prefix", "organization", "role", "created", "last_used", "revoked")
    list_filter = ("role", "revoked", "organization")
    search_fields = ("name", "prefix", "organization__name")
    list_select_related = ("organization", "created_by")
    fields = ("name", "prefix", "organization", "role", "created_by", "created", "last_used")
    fields += ("expiry_date", "revoked", "revoked_at")
    actions = ("revoke",)

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request, queryset):
        count = queryset.filter(revoked=False).update(revoked=True, revoked_at=timezone.now())
        self.message_user(request, _("%(count)d API keys revoked.") % {"count": count})
