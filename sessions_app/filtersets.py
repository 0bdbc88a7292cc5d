"""Query-string filters of the sessions and reservations API."""

import django_filters
from django.db.models import DurationField, ExpressionWrapper, F

from cards.models import IdToken
from core import timezones
from core.api.filters import StrictBooleanFilter, UtcDateTimeFilter, visible
from core.ordering import Ordering
from organizations.models import Organization
from sessions_app import selectors
from sessions_app.choices import AuthMethod, ReservationStatus, SessionState
from sessions_app.models import ChargingSession, Reservation
from stations.models import ChargingStation, Site

# `?ordering=` of the sessions list, its CSV and the API's /sessions/ alike. `cost` is the
# annotation of selectors.with_cost, which every one of them reads.
SESSION_ORDERING = Ordering(
    {
        "start": "start",
        "stop": "stop",
        "station": "station__ocpp_id",
        "connector": "connector__connector_id",
        "card": "id_tag",
        "state": "state",
        "energy_wh": "energy_wh",
        "duration": ExpressionWrapper(F("stop") - F("start"), output_field=DurationField()),
        "cost": "cost",
    },
    default="-start",
)


class ChargingSessionFilterSet(django_filters.FilterSet):
    """Sessions by start time or day, place, card, state and how they were authorized."""

    # A half-open interval, so consecutive windows neither overlap nor leave a gap.
    start_after = UtcDateTimeFilter(
        field_name="start", lookup_expr="gte", label="Started at or after"
    )
    start_before = UtcDateTimeFilter(field_name="start", lookup_expr="lt", label="Started before")
    # Whole days as the operator's staff see them: "yesterday" in Berlin is not a UTC day.
    date_from = django_filters.DateFilter(
        method="filter_date_from",
        label="Started on or after this day, in the session's organization's time zone",
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to",
        label="Started on or before this day (inclusive), in the organization's time zone",
    )
    organization = django_filters.ModelChoiceFilter(queryset=visible(Organization))
    site = django_filters.ModelChoiceFilter(field_name="station__site", queryset=visible(Site))
    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))
    ocpp_id = django_filters.CharFilter(field_name="station__ocpp_id")
    id_token = django_filters.ModelChoiceFilter(queryset=visible(IdToken), label="Card (id)")
    # Id tags are case-insensitive in OCPP (CiString), and kept here as the station sent them.
    id_tag = django_filters.CharFilter(lookup_expr="iexact")
    state = django_filters.ChoiceFilter(choices=SessionState.choices)
    auth_method = django_filters.ChoiceFilter(choices=AuthMethod.choices)
    stop_reason = django_filters.CharFilter()
    billing_stopped = StrictBooleanFilter()
    needs_review = StrictBooleanFilter()
    # The id the station knows the session by (OCPP transactionId), as support is told it.
    transaction_id = django_filters.CharFilter()

    class Meta:
        model = ChargingSession
        fields = [
            "start_after",
            "start_before",
            "date_from",
            "date_to",
            "organization",
            "site",
            "station",
            "ocpp_id",
            "id_token",
            "id_tag",
            "state",
            "auth_method",
            "stop_reason",
            "billing_stopped",
            "needs_review",
            "transaction_id",
        ]

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(selectors.started_on_or_after(value, self._zones()))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(selectors.started_on_or_before(value, self._zones()))

    def _zones(self):
        # Read once even when both date_from and date_to are given.
        if not hasattr(self, "_zones_by_organization"):
            organizations = Organization.objects.visible_to(self.request.user).only("timezone")
            self._zones_by_organization = {
                organization.pk: timezones.zone_of(organization) for organization in organizations
            }
        return self._zones_by_organization


class ReservationFilterSet(django_filters.FilterSet):
    """Reservations by station, card, status and expiry."""

    station = django_filters.ModelChoiceFilter(queryset=visible(ChargingStation))
    ocpp_id = django_filters.CharFilter(field_name="station__ocpp_id")
    id_token = django_filters.ModelChoiceFilter(queryset=visible(IdToken), label="Card (id)")
    id_tag = django_filters.CharFilter(lookup_expr="iexact")
    status = django_filters.ChoiceFilter(choices=ReservationStatus.choices)
    expiry_after = UtcDateTimeFilter(
        field_name="expiry", lookup_expr="gte", label="Expires at or after"
    )
    expiry_before = UtcDateTimeFilter(field_name="expiry", lookup_expr="lt", label="Expires before")

    class Meta:
        model = Reservation
        fields = [
            "station",
            "ocpp_id",
            "id_token",
            "id_tag",
            "status",
            "expiry_after",
            "expiry_before",
        ]
