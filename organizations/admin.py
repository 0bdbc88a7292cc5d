"""Django admin for support staff: organizations, members, invitations and API keys.

Also the base classes every app's admin builds on, so tenancy checks and write rules are
enforced once (organizations is the app every other app already depends on).
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.forms.models import BaseInlineFormSet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import APIKey

from core.events import emit
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


class CmsModelAdmin(admin.ModelAdmin):
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


class CmsTabularInline(admin.TabularInline):
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


class ReadOnlyTabularInline(admin.TabularInline):
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
