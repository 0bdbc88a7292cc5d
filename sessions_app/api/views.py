"""Views of the sessions API: sessions and their meter values, reservations, analytics."""

from datetime import UTC, date, datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core import timezones
from core.api.csv import CsvExportMixin
from core.api.exceptions import Conflict
from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from organizations.models import Organization
from sessions_app import selectors, services
from sessions_app.api.serializers import (
    AnalyticsQuerySerializer,
    AnalyticsSerializer,
    ChargingSessionDetailSerializer,
    ChargingSessionSerializer,
    CorrectSessionSerializer,
    MeterValueSerializer,
    ReservationSerializer,
)
from sessions_app.filtersets import (
    SESSION_ORDERING,
    ChargingSessionFilterSet,
    ReservationFilterSet,
)
from sessions_app.models import ChargingSession, MeterValue, Reservation, TransactionEvent

# The refusal body of the API's 409s: `detail`, with the command log entry when a command
# reached the station. Named, not imported: its serializer is the gateway's, above this app
# (ocpp_gateway.api.serializers.CommandRefusalSerializer), and a 409 here carries `detail` alone.
CONFLICT = OpenApiResponse(
    {"$ref": "#/components/schemas/CommandRefusal"}, "Not possible in the current state."
)


class ChargingSessionViewSet(
    CsvExportMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet
):
    """Charging sessions (written by the stations, read here), CSV export, remote stop."""

    # The API documentation shows this for the sessions' operations: stopping one or its
    # billing (/sessions/{id}/stop/, .../stop-billing/) is the gateway's SessionCommandViewSet.

    # The detail leaves the meter values out: a long session holds tens of thousands of them
    # (every measurand and phase each minute), so they are a paginated list of their own at
    # GET /sessions/{id}/meter-values/.
    queryset = selectors.with_cost(
        ChargingSession.objects.select_related("station__site", "connector__evse", "id_token")
    )
    filterset_class = ChargingSessionFilterSet
    # The portal's column headers sort by the same keys (sessions_app.filtersets).
    sorting = SESSION_ORDERING
    ordering_fields = SESSION_ORDERING.keys
    ordering = ["-start"]
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        "meter_values": Role.VIEWER,
        "release": Role.OPERATOR,
        "correct": Role.OPERATOR,
    }
    csv_columns = [
        ("id", "id"),
        ("transaction_id", "transaction_id"),
        ("ocpp_id", "station.ocpp_id"),
        ("site_name", "station.site.name"),
        ("connector_id", "connector.connector_id"),
        ("evse_id", "connector.evse_identity"),
        ("id_tag", "id_tag"),
        ("id_token_label", "id_token.label"),
        ("auth_method", "auth_method"),
        ("start", "start"),
        ("stop", "stop"),
        ("duration_seconds", selectors.duration_seconds),
        ("energy_wh", "energy_wh"),
        ("state", "state"),
        ("stop_reason", "stop_reason"),
        ("billing_stopped", "billing_stopped"),
        ("needs_review", "needs_review"),
        ("review_reason", "review_reason"),
        ("cost", selectors.cost_of),
        ("currency", "currency"),
    ]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action in ("retrieve", "release", "correct"):
            events = Prefetch("transaction_events", TransactionEvent.objects.order_by("seq_no"))
            queryset = queryset.select_related("billing_stopped_by", "reviewed_by")
            queryset = queryset.prefetch_related(events)
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return ChargingSessionSerializer
        return ChargingSessionDetailSerializer

    @extend_schema(
        responses=MeterValueSerializer(many=True),
        parameters=[
            OpenApiParameter(
                "measurand", OpenApiTypes.STR, description="e.g. Energy.Active.Import.Register"
            )
        ],
    )
    @action(detail=True, methods=["get"], url_path="meter-values", filter_backends=[])
    def meter_values(self, request, pk=None):
        """The session's meter values, oldest first, a page at a time."""
        session = self.get_object()
        values = MeterValue.objects.filter(session=session).order_by("timestamp", "id")
        measurand = request.query_params.get("measurand")
        if measurand and "\x00" in measurand:
            # PostgreSQL text cannot hold NUL: a 400, like every other text filter answers.
            raise ValidationError({"measurand": [_("Null characters are not allowed.")]})
        if measurand:
            values = values.filter(measurand=measurand)
        page = self.paginate_queryset(values)
        return self.get_paginated_response(MeterValueSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={200: ChargingSessionDetailSerializer, 409: CONFLICT},
        description="Release a session held for review (`needs_review`): it is rated as "
        "recorded. Who and when are kept.",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def release(self, request, pk=None):
        """Release a session held for review; it is then rated as recorded."""
        session = self.get_object()
        try:
            services.release_session(session, user=request.user)
        except services.ReviewRefused as refusal:
            raise Conflict(str(refusal)) from None
        return Response(ChargingSessionDetailSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        request=CorrectSessionSerializer,
        responses={200: ChargingSessionDetailSerializer, 409: CONFLICT},
        description="Correct a session held for review: set its meter registers (and start "
        "or stop, if wrong too); the old values stay in `corrections` with who and when, "
        "and the session is rated with the corrected values.",
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def correct(self, request, pk=None):
        """Correct a held session's registers (and times); it is then rated."""
        session = self.get_object()
        body = CorrectSessionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.correct_session(session, user=request.user, **body.validated_data)
        except services.ReviewRefused as refusal:
            raise Conflict(str(refusal)) from None
        return Response(ChargingSessionDetailSerializer(self.get_queryset().get(pk=pk)).data)


class ReservationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Reservations; made with the station command "reserve" (POST /stations/{id}/commands/)."""

    # No POST here on purpose: a reservation exists only as the station's answer to ReserveNow,
    # which the "reserve" command sends and records. Cancelling one (.../cancel/) is the
    # gateway's too: ocpp_gateway.api.views.ReservationCommandViewSet.
    queryset = Reservation.objects.select_related("station", "connector", "id_token", "created_by")
    serializer_class = ReservationSerializer
    filterset_class = ReservationFilterSet
    ordering_fields = ["created", "expiry"]
    ordering = ["-created"]
    required_role = {"list": Role.VIEWER, "retrieve": Role.VIEWER}


# --- analytics ---------------------------------------------------------------------------------

DEFAULT_DAYS = 30
# A chart of days is one row per day, zeros included: two years (with a leap day) at most.
MAX_DAYS = 731
# Outside these, time zone arithmetic would overflow Python's datetime; no session is there.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


ANALYTICS_DESCRIPTION = (
    "One row per bucket: sessions, energy and durations of the completed sessions that "
    "started in the range (a running session counts once it has ended; failed ones never). "
    "By day, every day of the range is a row, zeros included, so a chart has no gaps. Days "
    "are the organization's local days: a caller whose organizations keep different time "
    "zones names one with `organization` (or a `site` or `station`). `date_from` and "
    "`date_to` are whole local days; `start_after` and `start_before` are moments (UTC when "
    "given without an offset). Default range: the 30 days up to the end of today."
)


class AnalyticsViewSet(TenantViewSet):
    """Completed sessions, energy and durations per day, site or station over a range."""

    # A TenantViewSet over the sessions, so the base narrows them to the caller's organizations
    # like every other resource; the answer is the buckets, not the rows.
    queryset = ChargingSession.objects.all()
    required_role = Role.VIEWER
    pagination_class = None
    filter_backends = []

    @extend_schema(
        parameters=[AnalyticsQuerySerializer],
        responses=AnalyticsSerializer,
        description=ANALYTICS_DESCRIPTION,
    )
    def list(self, request):
        """One row per bucket of the caller's completed sessions."""
        params = AnalyticsQuerySerializer(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        query = resolve_analytics_query(request, params.validated_data)
        sessions = self.get_queryset()
        for name in ("organization", "site", "station"):
            if query.get(name) is not None:
                field = "station__site" if name == "site" else name
                sessions = sessions.filter(**{field: query[name]})
        rows = selectors.session_analytics(
            sessions,
            group_by=query["group_by"],
            start_after=query["start_after"],
            start_before=query["start_before"],
            zone=query["zone"],
        )
        answer = {
            "group_by": query["group_by"],
            "time_zone": str(query["zone"]),
            "start_after": query["start_after"],
            "start_before": query["start_before"],
            "results": rows,
        }
        return Response(AnalyticsSerializer(answer).data)


def resolve_analytics_query(request, params: dict) -> dict:
    """The validated parameters with the time zone and the range filled in; 400 when unclear."""
    group_by = params["group_by"]
    local_days = group_by == selectors.GroupBy.DAY or "date_from" in params or "date_to" in params
    zones = {timezones.zone_of(organization) for organization in _organizations(request, params)}
    if len(zones) > 1 and local_days:
        names = ", ".join(sorted(str(zone) for zone in zones))
        raise ValidationError(
            {
                "organization": [
                    _(
                        "Your organizations keep days in different time zones (%(zones)s): "
                        "name one organization, site or station."
                    )
                    % {"zones": names}
                ]
            }
        )
    zone = zones.pop() if len(zones) == 1 else UTC

    for name in ("start_after", "start_before", "date_from", "date_to"):
        value = params.get(name)
        if value is not None and not EARLIEST.date() <= _day_of(value) < LATEST.date():
            raise ValidationError({name: [_("Give a day between 1970 and 3000.")]})
    lower, upper = [], []
    if params.get("start_after") is not None:
        lower.append(params["start_after"])
    if params.get("date_from") is not None:
        lower.append(timezones.day_start(params["date_from"], zone))
    if params.get("start_before") is not None:
        upper.append(params["start_before"])
    if params.get("date_to") is not None:
        upper.append(timezones.day_start(params["date_to"] + timedelta(days=1), zone))
    if upper:
        start_before = min(upper)
    else:
        today = timezone.now().astimezone(zone).date()
        start_before = timezones.day_start(today + timedelta(days=1), zone)
    if lower:
        start_after = max(lower)
    else:
        start_after = timezones.local_days_before(start_before, DEFAULT_DAYS, zone)
    if start_after >= start_before:
        raise ValidationError(
            {"start_before": [_("The range ends before it starts (start_after, date_from).")]}
        )
    if group_by == selectors.GroupBy.DAY:
        first = start_after.astimezone(zone).date()
        last = (start_before - timedelta(microseconds=1)).astimezone(zone).date()
        if (last - first).days + 1 > MAX_DAYS:
            raise ValidationError(
                {"start_after": [_("By day, a range covers at most %(n)d days.") % {"n": MAX_DAYS}]}
            )
    return {
        **params,
        "group_by": group_by,
        "zone": zone,
        "start_after": start_after,
        "start_before": start_before,
    }


def _day_of(value) -> date:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


def _organizations(request, params: dict):
    """The organizations whose sessions the analytics count."""
    if params.get("organization") is not None:
        return [params["organization"]]
    if params.get("station") is not None:
        return [params["station"].organization]
    if params.get("site") is not None:
        return [params["site"].organization]
    return list(Organization.objects.visible_to(request.user))
