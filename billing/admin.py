"""Django admin for support staff: tariffs, assignments, CDRs, periods, invoices, payments."""

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.choices import AssignmentScope
from billing.models import (
    BillingPeriod,
    ChargeDetailRecord,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAccount,
    PaymentEvent,
    PaymentRefund,
    Tariff,
    TariffAssignment,
)
from organizations.admin import (
    CmsModelAdmin,
    CmsTabularInline,
    ImmutableModelAdmin,
    ReadOnlyTabularInline,
    TenantAdminForm,
    TenantInlineFormSet,
)

ASSIGNMENT_TARGETS = ("site", "station", "access_group")
TARGET_OF_SCOPE = {
    AssignmentScope.ORGANIZATION: None,
    AssignmentScope.SITE: "site",
    AssignmentScope.STATION: "station",
    AssignmentScope.ACCESS_GROUP: "access_group",
}


class TariffAssignmentForm(TenantAdminForm):
    """Assignment form that explains a scope/target mismatch or a second default tariff in
    words instead of naming a database constraint."""

    def clean(self):
        cleaned_data = super().clean()
        scope = cleaned_data.get("scope")
        if not scope:
            return cleaned_data
        wanted = TARGET_OF_SCOPE[AssignmentScope(scope)]
        for name in ASSIGNMENT_TARGETS:
            if name not in self.fields or self.has_error(name):
                continue
            if name == wanted and not cleaned_data.get(name):
                self.add_error(name, _("Required for this scope."))
            elif name != wanted and cleaned_data.get(name):
                self.add_error(name, _("Leave empty for this scope."))
        if scope == AssignmentScope.ORGANIZATION:
            organization = cleaned_data.get("organization")
            org_id = organization.pk if organization else self.instance.organization_id
            defaults = TariffAssignment.objects.filter(
                organization_id=org_id, scope=AssignmentScope.ORGANIZATION
            ).exclude(pk=self.instance.pk)
            if org_id and defaults.exists():
                self.add_error(
                    "scope",
                    _("The organization already has a default tariff: %(tariff)s.")
                    % {"tariff": defaults.select_related("tariff").get().tariff},
                )
        return cleaned_data


class TariffAssignmentFormSet(TenantInlineFormSet):
    """Assignments inside a tariff: they belong to the tariff's organization."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.instance.organization_id = self.instance.organization_id

    def clean(self):
        super().clean()
        # Each form checks the database for a default; two new ones side by side need this.
        defaults = [
            form
            for form in self.forms
            if form.cleaned_data.get("scope") == AssignmentScope.ORGANIZATION
            and not (self.can_delete and form.cleaned_data.get("DELETE"))
        ]
        if len(defaults) > 1:
            raise ValidationError(_("An organization has one default tariff at most."))


class TariffAssignmentInline(CmsTabularInline):
    """Where the tariff applies."""

    model = TariffAssignment
    form = TariffAssignmentForm
    formset = TariffAssignmentFormSet
    fields = ("scope", *ASSIGNMENT_TARGETS)
    autocomplete_fields = ASSIGNMENT_TARGETS


class IndentedJSONField(forms.JSONField):
    """JSON shown indented, so support staff can read and edit a tariff's elements."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


class TariffForm(TenantAdminForm):
    """Tariff form; Tariff.clean checks the elements with the engine's parser."""

    def _post_clean(self):
        invalid_json = self.has_error("elements")
        super()._post_clean()
        if invalid_json:
            # Text that is no JSON leaves the model its default [], and Tariff.clean's complaint
            # about an empty list would only confuse: "Enter a valid JSON." says it all.
            del self.errors["elements"][1:]


@admin.register(Tariff)
class TariffAdmin(CmsModelAdmin):
    """Prices, with the places they are assigned to; elements are checked by the engine."""

    form = TariffForm

    # Tariff.clean runs the engine's parser, so a bad element list is a form error naming the
    # element and component at fault, the same messages the API gives.
    formfield_overrides = {
        models.JSONField: {
            "form_class": IndentedJSONField,
            "widget": forms.Textarea(attrs={"rows": 16, "cols": 80, "class": "vLargeTextField"}),
        }
    }

    list_display = (
        "name",
        "organization",
        "type",
        "currency",
        "tax_rate",
        "min_price",
        "max_price",
        "valid_from",
        "valid_to",
    )
    list_filter = ("organization", "type", "currency", ("valid_from", admin.DateFieldListFilter))
    search_fields = ("name", "organization__name")
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)
    readonly_fields = ("created", "updated")
    fieldsets = (
        (
            None,
            {"fields": ("organization", "name", "type", "currency", "valid_from", "valid_to")},
        ),
        (
            _("Prices"),
            {
                "fields": ("elements", "tax_rate", "min_price", "max_price"),
                "description": _(
                    "Elements are OCPI 2.2.1 TariffElement objects; see docs/billing.md."
                ),
            },
        ),
        (_("History"), {"fields": ("created", "updated")}),
    )
    inlines = (TariffAssignmentInline,)


@admin.register(TariffAssignment)
class TariffAssignmentAdmin(CmsModelAdmin):
    """Which tariff applies to an organization, site, station or access group."""

    form = TariffAssignmentForm
    list_display = ("tariff", "scope", "target", "organization")
    list_filter = ("scope", "organization")
    search_fields = (
        "tariff__name",
        "site__name",
        "station__ocpp_id",
        "access_group__name",
        "organization__name",
    )
    autocomplete_fields = ("organization", "tariff", *ASSIGNMENT_TARGETS)
    list_select_related = ("organization", "tariff", *ASSIGNMENT_TARGETS)

    @admin.display(description=_("applies to"))
    def target(self, obj):
        return obj.site or obj.station or obj.access_group or obj.organization


@admin.register(ChargeDetailRecord)
class ChargeDetailRecordAdmin(ImmutableModelAdmin):
    """Priced session records; immutable, corrected by credit records."""

    list_display = (
        "__str__",
        "session",
        "organization",
        "kind",
        "energy_kwh",
        "total_excl_tax",
        "total_incl_tax",
        "currency",
        "accounted_at",
        "created",
    )
    list_filter = ("kind", "organization", ("accounted_at", admin.DateFieldListFilter))
    date_hierarchy = "created"
    search_fields = (
        "=id",
        "=session__transaction_id",
        "session__station__ocpp_id",
        "session__id_tag",
        "id_token__uid",
        "roaming_partner__name",
    )
    list_select_related = ("organization", "session__station")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "organization",
                    "kind",
                    "corrects",
                    "session",
                    "id_token",
                    "roaming_partner",
                    "accounted_at",
                    "created",
                )
            },
        ),
        (_("Tariff"), {"fields": ("tariff", "tariff_snapshot", "currency", "tax_rate")}),
        (
            _("Usage"),
            {
                "fields": (
                    "energy_wh",
                    "charging_seconds",
                    "idle_seconds",
                    "parking_tolerance_wh",
                    "periods",
                )
            },
        ),
        (
            _("Amounts"),
            {
                "fields": (
                    "components",
                    "energy_amount",
                    "time_amount",
                    "idle_amount",
                    "session_fee_amount",
                    "price_cap_amount",
                    "total_excl_tax",
                    "tax_amount",
                    "total_incl_tax",
                )
            },
        ),
        (_("Why"), {"fields": ("reason", "billing_stopped_by")}),
    )

    @admin.display(description=_("energy (kWh)"), ordering="energy_wh")
    def energy_kwh(self, obj):
        return f"{obj.energy_wh / 1000:.3f}"


class BillingPeriodInvoiceInline(ReadOnlyTabularInline):
    """The invoices a period issued."""

    model = Invoice
    fields = ("number", "holder_name", "total_incl_tax", "currency", "status")
    readonly_fields = fields


@admin.register(BillingPeriod)
class BillingPeriodAdmin(ImmutableModelAdmin):
    """Closed billing periods; closing one issued its invoices, so it is never undone here."""

    list_display = ("organization", "start", "end", "closed_at", "invoice_count")
    list_filter = ("organization", ("start", admin.DateFieldListFilter))
    date_hierarchy = "start"
    search_fields = ("organization__name",)
    list_select_related = ("organization",)
    inlines = (BillingPeriodInvoiceInline,)


class InvoiceLineInline(ReadOnlyTabularInline):
    """Lines of an invoice."""

    model = InvoiceLine
    fields = (
        "description",
        "quantity",
        "unit",
        "unit_price",
        "tax_rate",
        "amount_excl_tax",
        "tax_amount",
        "amount_incl_tax",
        "cdr",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cdr")


@admin.register(Invoice)
class InvoiceAdmin(CmsModelAdmin):
    """Invoices with their lines; only the status changes after issue."""

    list_display = (
        "number",
        "organization",
        "holder_name",
        "period_start",
        "period_end",
        "total_incl_tax",
        "currency",
        "status",
        "issued_at",
    )
    list_filter = ("status", "organization", ("issued_at", admin.DateFieldListFilter))
    date_hierarchy = "issued_at"
    search_fields = (
        "number",
        "holder_name",
        "holder_email",
        "id_token__uid",
        "roaming_partner__name",
    )
    list_select_related = ("organization",)
    inlines = (InvoiceLineInline,)
    fieldsets = (
        (
            None,
            {"fields": ("organization", "billing_period", "number", "sequence", "status")},
        ),
        (
            _("Billed to"),
            {"fields": ("id_token", "roaming_partner", "holder_name", "holder_email")},
        ),
        (_("Issuer"), {"fields": ("issuer", "issued_at")}),
        (
            _("Period and totals"),
            {
                "fields": (
                    "period_start",
                    "period_end",
                    "currency",
                    "total_excl_tax",
                    "tax_amount",
                    "total_incl_tax",
                    "tax_breakdown",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # An issued invoice is a legal document: it is paid or voided, never rewritten.
        return [
            field.name
            for field in Invoice._meta.fields
            if field.name != "status" and not field.auto_created
        ]

    def has_add_permission(self, request):
        # The billing service numbers invoices from a gapless per-organization sequence.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(InvoiceLine)
class InvoiceLineAdmin(ImmutableModelAdmin):
    """Invoice lines, each usually one charge detail record."""

    list_display = (
        "description",
        "invoice",
        "cdr",
        "quantity",
        "unit",
        "unit_price",
        "amount_incl_tax",
    )
    list_filter = ("invoice__status", "invoice__organization")
    search_fields = ("description", "invoice__number")
    list_select_related = ("invoice", "cdr")


@admin.register(PaymentAccount)
class PaymentAccountAdmin(CmsModelAdmin):
    """An organization's account with its payment provider; the platform's keys stay in the env."""

    list_display = ("organization", "provider", "account_id", "currency", "enabled", "updated")
    list_filter = ("provider", "enabled", "currency")
    search_fields = ("organization__name", "account_id")
    autocomplete_fields = ("organization",)
    list_select_related = ("organization",)
    readonly_fields = ("created", "updated")


class PaymentRefundInline(ReadOnlyTabularInline):
    """What was paid back of a payment."""

    model = PaymentRefund
    fields = (
        "created",
        "amount",
        "reason",
        "status",
        "failure",
        "credit",
        "created_by",
        "reference",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "credit")


class PaymentEventInline(ReadOnlyTabularInline):
    """The provider's events about a payment."""

    model = PaymentEvent
    fields = ("received_at", "type", "event_id")
    readonly_fields = fields


@admin.register(Payment)
class PaymentAdmin(ImmutableModelAdmin):
    """Payments, written by the payment services and the provider's webhooks only."""

    list_display = (
        "__str__",
        "organization",
        "status",
        "purpose",
        "amount_authorized",
        "amount_captured",
        "amount_refunded",
        "currency",
        "created",
    )
    list_filter = ("status", "purpose", "provider", ("created", admin.DateFieldListFilter))
    date_hierarchy = "created"
    search_fields = ("=id", "=reference", "email", "organization__name")
    list_select_related = ("organization",)
    inlines = (PaymentRefundInline, PaymentEventInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "organization",
                    "provider",
                    "reference",
                    "idempotency_key",
                    "purpose",
                    "status",
                    "failure",
                )
            },
        ),
        (
            _("Amounts"),
            {"fields": ("currency", "amount_authorized", "amount_captured", "amount_refunded")},
        ),
        (_("Paid for"), {"fields": ("session", "cdr", "email", "receipt_id", "receipt_url")}),
        (
            _("History"),
            {"fields": ("created", "updated", "authorized_at", "captured_at", "canceled_at")},
        ),
    )


@admin.register(PaymentRefund)
class PaymentRefundAdmin(ImmutableModelAdmin):
    """Refunds, asked for in the portal or the API; a failed one made its amount refundable."""

    list_display = ("__str__", "payment", "organization", "status", "reason", "created")
    list_filter = ("status", ("created", admin.DateFieldListFilter))
    date_hierarchy = "created"
    search_fields = ("=id", "=reference", "=payment__reference", "reason")
    list_select_related = ("payment__organization", "created_by")

    @admin.display(description=_("organization"), ordering="payment__organization__name")
    def organization(self, obj):
        return obj.payment.organization


@admin.register(PaymentEvent)
class PaymentEventAdmin(ImmutableModelAdmin):
    """Provider events as they arrived; an event matching no payment has none."""

    list_display = ("event_id", "type", "provider", "payment", "organization", "received_at")
    list_filter = ("provider", "type", ("received_at", admin.DateFieldListFilter))
    date_hierarchy = "received_at"
    search_fields = ("=event_id", "type", "=payment__reference")
    list_select_related = ("payment__organization",)

    @admin.display(description=_("organization"), ordering="payment__organization__name")
    def organization(self, obj):
        return obj.payment.organization if obj.payment else None
