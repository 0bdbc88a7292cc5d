"""Django admin for support staff: charging sessions, meter values, reservations."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from organizations.admin import CmsModelAdmin, ReadOnlyModelAdmin, ReadOnlyTabularInline
from sessions_app.forms import CorrectReadingsForm
from sessions_app.models import (
    ChargingSession,
    MeterValue,
    RemoteStart,
    Reservation,
    TransactionEvent,
)
from sessions_app.selectors import missing_event_numbers
from sessions_app.services import ReviewRefused, correct_session, release_session

# A session can hold thousands of samples; the change page shows the newest few.
METER_VALUES_SHOWN = 50
METER_VALUE_FIELDS = (
    "timestamp",
    "connector_number",
    "measurand",
    "phase",
    "location",
    "context",
    "value",
    "unit",
)


class LatestMeterValuesFormSet(BaseInlineFormSet):
    """Only the newest meter values of the session, newest first."""

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            newest_first = super().get_queryset().order_by("-timestamp", "-id")
            self._queryset = newest_first[:METER_VALUES_SHOWN]
        return self._queryset


class MeterValueInline(ReadOnlyTabularInline):
    """The session's latest meter values; the full series is on the meter value list."""

    model = MeterValue
    formset = LatestMeterValuesFormSet
    fields = METER_VALUE_FIELDS
    readonly_fields = METER_VALUE_FIELDS
    show_change_link = False
    verbose_name_plural = format_lazy(_("latest {count} meter values"), count=METER_VALUES_SHOWN)


TRANSACTION_EVENT_FIELDS = (
    "seq_no",
    "event_type",
    "trigger_reason",
    "charging_state",
    "offline",
    "timestamp",
    "id_tag",
    "connector_number",
)


class TransactionEventInline(ReadOnlyTabularInline):
    """The events a 2.0.1 station reported about the session, in sequence order."""

    model = TransactionEvent
    fields = TRANSACTION_EVENT_FIELDS
    readonly_fields = TRANSACTION_EVENT_FIELDS
    show_change_link = True


@admin.register(ChargingSession)
class ChargingSessionAdmin(CmsModelAdmin):
    """Charging sessions as recorded from the stations; billing flags are editable."""

    list_display = (
        "__str__",
        "organization",
        "connector_number",
        "id_tag",
        "id_token",
        "state",
        "start",
        "stop",
        "energy_kwh",
        "auth_method",
        "billable",
        "needs_review",
    )
    list_filter = (
        "needs_review",
        "state",
        "auth_method",
        "auth_status",
        "billable",
        "billing_stopped",
        "organization",
        ("start", admin.DateFieldListFilter),
    )
    # No date_hierarchy: it truncates every start to a local year in SQL, and one stored
    # implausible start (9999-12-31 east of UTC) fails the whole list; the filter uses ranges.
    search_fields = (
        "=transaction_id",
        "id_tag",
        "station__ocpp_id",
        "id_token__uid",
        "id_token__holder_name",
    )
    autocomplete_fields = ("id_token",)
    list_select_related = ("organization", "station", "connector", "id_token")
    # Sessions are the station's record of a transaction: the gateway writes them and the
    # billing pipeline rates them, so only the card link and billing flags are for people.
    readonly_fields = (
        "organization",
        "station",
        "connector",
        "transaction_id",
        "id_tag",
        "state",
        "start",
        "stop",
        "meter_start",
        "meter_stop",
        "energy_wh",
        "last_power_w",
        "stop_reason",
        "auth_method",
        "auth_status",
        "reservation",
        "charging_state",
        "number_of_phases_used",
        "cable_max_current",
        "time_spent_charging",
        "missing_events",
        # Billing is stopped through the gateway's "Stop billing…" action (ocpp_gateway.admin),
        # which records who and why.
        "billable",
        "billing_stopped",
        "billing_stopped_reason",
        "billing_stopped_by",
        "billing_stopped_at",
        # Settled through the "Release…" and "Correct readings…" actions, which record who.
        "needs_review",
        "review_reason",
        "review_outcome",
        "reviewed_by",
        "reviewed_at",
        "corrections",
        "related_records",
        "created",
        "updated",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "organization",
                    "station",
                    "connector",
                    "transaction_id",
                    "state",
                    "start",
                    "stop",
                    "stop_reason",
                )
            },
        ),
        (
            _("Authorization"),
            {"fields": ("id_tag", "id_token", "auth_method", "auth_status", "reservation")},
        ),
        (
            _("Energy"),
            {"fields": ("meter_start", "meter_stop", "energy_wh", "last_power_w")},
        ),
        (
            _("Transaction events (OCPP 2.0.1)"),
            {
                "fields": (
                    "charging_state",
                    "number_of_phases_used",
                    "cable_max_current",
                    "time_spent_charging",
                    "missing_events",
                ),
                "classes": ("collapse",),
            },
        ),
        (
            _("Billing"),
            {
                "fields": (
                    "billable",
                    "billing_stopped",
                    "billing_stopped_reason",
                    "billing_stopped_by",
                    "billing_stopped_at",
                )
            },
        ),
        (
            _("Review"),
            {
                "fields": (
                    "needs_review",
                    "review_reason",
                    "review_outcome",
                    "reviewed_by",
                    "reviewed_at",
                    "corrections",
                )
            },
        ),
        (_("Records"), {"fields": ("related_records", "created", "updated")}),
    )
    inlines = (TransactionEventInline, MeterValueInline)
    # The gateway's admin adds "Stop charging" and "Stop billing…" before these.
    actions = ("release_for_billing", "correct_readings")

    def has_add_permission(self, request):
        # A session without a station transaction behind it would be fiction.
        return False

    @admin.display(description=_("connector"), ordering="connector__connector_id")
    def connector_number(self, obj):
        return obj.connector.connector_id

    @admin.display(description=_("sequence numbers missing"))
    def missing_events(self, obj):
        # A gap is an event the station never delivered: its readings may be missing too.
        return ", ".join(str(number) for number in missing_event_numbers(obj)) or "-"

    @admin.display(description=_("energy (kWh)"), ordering="energy_wh")
    def energy_kwh(self, obj):
        return f"{obj.energy_wh / 1000:.3f}"

    @admin.display(description=_("Records of this session"))
    def related_records(self, obj):
        meter_values = reverse("admin:sessions_app_metervalue_changelist")
        cdrs = reverse("admin:billing_chargedetailrecord_changelist")
        return format_html(
            '<a href="{}?session__id__exact={}">{}</a> · <a href="{}?session__id__exact={}">{}</a>',
            meter_values,
            obj.pk,
            _("All %(count)d meter values") % {"count": obj.meter_values.count()},
            cdrs,
            obj.pk,
            _("Charge detail records"),
        )

    @admin.action(description=_("Release for billing (rate as recorded)"), permissions=["change"])
    def release_for_billing(self, request, queryset):
        held = list(queryset.filter(needs_review=True))
        for session in held:
            release_session(session, user=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d session released for billing.",
                "%(count)d sessions released for billing.",
                len(held),
            )
            % {"count": len(held)},
            messages.SUCCESS if held else messages.WARNING,
        )

    @admin.action(description=_("Correct readings…"), permissions=["change"])
    def correct_readings(self, request, queryset):
        held = queryset.filter(needs_review=True)
        if held.count() != 1:
            self.message_user(
                request, _("Choose exactly one session held for review."), messages.WARNING
            )
            return None
        session = held.get()
        form = CorrectReadingsForm(
            request.POST if "apply" in request.POST else None,
            initial={"meter_start": session.meter_start, "meter_stop": session.meter_stop},
        )
        if form.is_bound and form.is_valid():
            try:
                correct_session(session, user=request.user, **form.cleaned_data)
            except ReviewRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                self.message_user(request, _("Readings corrected; the session is rated."))
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Correct readings"),
            "opts": self.opts,
            "session": session,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/sessions_app/correct_readings.html", context)


@admin.register(MeterValue)
class MeterValueAdmin(ReadOnlyModelAdmin):
    """Sampled values as the stations sent them."""

    list_display = ("timestamp", "station", "session", *METER_VALUE_FIELDS[1:])
    list_filter = ("station__organization", ("timestamp", admin.DateFieldListFilter))
    search_fields = ("station__ocpp_id", "=session__transaction_id", "measurand")
    list_select_related = ("station", "session__station")
    # Newest first; the model's oldest-first timestamp order has no index of its own to use.
    ordering = ("-id",)


@admin.register(TransactionEvent)
class TransactionEventAdmin(ReadOnlyModelAdmin):
    """Transaction events as 2.0.1 stations sent them, with the answer each got."""

    list_display = ("session", *TRANSACTION_EVENT_FIELDS)
    list_filter = (
        "event_type",
        "offline",
        "session__organization",
        ("timestamp", admin.DateFieldListFilter),
    )
    search_fields = ("=session__transaction_id", "session__station__ocpp_id", "id_tag")
    list_select_related = ("session__station",)
    readonly_fields = (*TRANSACTION_EVENT_FIELDS, "session", "payload", "response", "created")
    ordering = ("-id",)


@admin.register(RemoteStart)
class RemoteStartAdmin(ReadOnlyModelAdmin):
    """Remote starts and the session that claimed each; made through station commands only."""

    list_display = (
        "id",
        "station",
        "connector",
        "id_tag",
        "status",
        "session",
        "requested_by",
        "created_at",
    )
    list_filter = ("status", "station__organization", ("created_at", admin.DateFieldListFilter))
    date_hierarchy = "created_at"
    search_fields = ("=id", "id_tag", "station__ocpp_id")
    list_select_related = ("station", "connector__station", "session", "requested_by")


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyModelAdmin):
    """Reservations; they are made and cancelled through station commands, not here."""

    list_display = (
        "reservation_id",
        "station",
        "connector",
        "id_tag",
        "id_token",
        "status",
        "expiry",
        "created_by",
        "created",
    )
    list_filter = (
        "status",
        "station__organization",
        ("expiry", admin.DateFieldListFilter),
    )
    date_hierarchy = "created"
    search_fields = ("=id", "id_tag", "station__ocpp_id", "id_token__uid", "id_token__holder_name")
    list_select_related = ("station", "connector__station", "id_token", "created_by")

    @admin.display(description=_("reservation id"), ordering="id")
    def reservation_id(self, obj):
        return obj.pk
