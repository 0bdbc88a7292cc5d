"""Views of the availability API: the report (JSON or CSV), maintenance windows and log."""

from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from availability.api.serializers import (
    AttachmentUploadSerializer,
    MaintenanceAttachmentSerializer,
    MaintenanceDueSerializer,
    MaintenanceRecordSerializer,
    MaintenanceWindowSerializer,
    ReportQuerySerializer,
    ReportSerializer,
)
from availability.filtersets import (
    MaintenanceDueFilterSet,
    MaintenanceRecordFilterSet,
    MaintenanceWindowFilterSet,
)
from availability.models import (
    MaintenanceAttachment,
    MaintenanceRecord,
    MaintenanceWindow,
    MaintenanceWindowStation,
)
from availability.selectors import (
    CSV_COLUMNS,
    RangeError,
    availability_report,
    maintenance_due,
    report_rows,
    resolve_range,
)
from availability.services import add_attachments, download_response
from core import timezones
from core.api.csv import CsvExportMixin, CSVRenderer, csv_response
from core.api.schema import DETAIL
from organizations.api.viewsets import TenantCreateModelMixin, TenantViewSet
from organizations.choices import Role
from organizations.models import Organization
from stations.models import ChargingStation

REPORT_DESCRIPTION = (
    "Availability of the caller's charge points per local day or month: the seconds and "
    "shares of time available, faulted, unavailable, offline, unknown and in maintenance, "
    "the uptime (available / (period − maintenance − unknown)) and the session success rate, "
    "one row per day or month and connector, station or site (docs/availability.md defines "
    "each figure). Days and months are the organization's: a caller whose organizations keep "
    "different time zones names one with `organization` (or a `site` or `station`). Time after "
    "now is not counted. `?format=csv` answers the same rows as CSV."
)
READ = {"list": Role.VIEWER, "retrieve": Role.VIEWER}
OPERATOR_WRITES = {
    **READ,
    "create": Role.OPERATOR,
    "update": Role.OPERATOR,
    "partial_update": Role.OPERATOR,
    "destroy": Role.OPERATOR,
}


class AvailabilityViewSet(TenantViewSet):
    """The availability report over the caller's stations."""

    # A TenantViewSet over the stations, so the base narrows them to the caller's
    # organizations like every other resource; the answer is the report, not the rows.
    queryset = ChargingStation.objects.all()
    required_role = Role.VIEWER
    pagination_class = None
    filter_backends = []

    def get_renderers(self):
        return [*super().get_renderers(), CSVRenderer()]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # Errors answer in JSON even when CSV was asked for, as every export does.
        renderer = getattr(self.request, "accepted_renderer", None)
        if renderer is not None and renderer.format == "csv":
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response

    @extend_schema(
        parameters=[ReportQuerySerializer],
        # DRF answers an unknown `format` with 404; a paginated list documents it by its pages.
        responses={200: ReportSerializer, 404: OpenApiResponse(DETAIL, "An unknown `format`.")},
        description=REPORT_DESCRIPTION,
    )
    def list(self, request):
        """One row per day or month and connector, station or site."""
        params = ReportQuerySerializer(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        query = params.validated_data
        stations = self.get_queryset()
        if query.get("organization") is not None:
            stations = stations.filter(organization=query["organization"])
        if query.get("site") is not None:
            stations = stations.filter(site=query["site"])
        if query.get("station") is not None:
            stations = stations.filter(pk=query["station"].pk)
        zone = self._zone(query)
        try:
            first, last = resolve_range(query["period"], query["from"], query["to"], zone)
        except RangeError as error:
            raise ValidationError({error.field_name: [error.message]}) from None
        report = availability_report(
            stations, period=query["period"], first=first, last=last, zone=zone
        )
        rows = report_rows(report, query["group"])
        if request.accepted_renderer.format == "csv":
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            return csv_response(
                rows,
                CSV_COLUMNS,
                f"availability-{query['group']}-{stamp}.csv",
            )
        answer = {
            "period": report.period,
            "group": query["group"],
            "time_zone": str(zone),
            "first_day": report.first,
            "last_day": report.last,
            "start": report.start,
            "end": report.end,
            "results": list(rows),
        }
        return Response(ReportSerializer(answer).data)

    def _zone(self, query):
        """The time zone of the days: the one of every organization concerned, or a 400."""
        if query.get("organization") is not None:
            organizations = [query["organization"]]
        elif query.get("station") is not None:
            organizations = [query["station"].organization]
        elif query.get("site") is not None:
            organizations = [query["site"].organization]
        else:
            organizations = list(Organization.objects.visible_to(self.request.user))
        zones = {str(timezones.zone_of(organization)) for organization in organizations}
        if len(zones) > 1:
            raise ValidationError(
                {
                    "organization": [
                        _(
                            "Your organizations keep days in different time zones (%(zones)s): "
                            "name one organization, site or station."
                        )
                        % {"zones": ", ".join(sorted(zones))}
                    ]
                }
            )
        return timezones.zone_of(organizations[0]) if organizations else UTC


class MaintenanceWindowViewSet(
    CsvExportMixin,
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """Announced maintenance windows; operators add, change and delete them."""

    queryset = MaintenanceWindow.objects.prefetch_related(
        Prefetch(
            "station_outcomes",
            queryset=MaintenanceWindowStation.objects.select_related("station").order_by(
                "station__ocpp_id", "pk"
            ),
        )
    )
    serializer_class = MaintenanceWindowSerializer
    filterset_class = MaintenanceWindowFilterSet
    ordering_fields = ["starts_at", "ends_at", "created"]
    required_role = OPERATOR_WRITES
    csv_columns = [
        ("id", "id"),
        ("organization", "organization_id"),
        ("site", "site_id"),
        ("station", "station_id"),
        ("starts_at", "starts_at"),
        ("ends_at", "ends_at"),
        ("reason", "reason"),
        ("set_inoperative", "set_inoperative"),
        ("created_by", "created_by_id"),
        ("created", "created"),
    ]

    def perform_create(self, serializer):
        user = self.request.user
        # An API key acts for its organization, not for a person.
        person = user if getattr(user, "api_key", None) is None else None
        serializer.save(organization=self.get_organization(), created_by=person)


def _person(user):
    """The user to name on a row: an API key acts for its organization, not for a person."""
    return user if getattr(user, "api_key", None) is None else None


class MaintenanceRecordViewSet(
    CsvExportMixin,
    TenantCreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantViewSet,
):
    """The maintenance log: operators record maintenance and upload files, admins delete."""

    queryset = MaintenanceRecord.objects.select_related("station").prefetch_related(
        Prefetch("attachments", queryset=MaintenanceAttachment.objects.order_by("pk"))
    )
    serializer_class = MaintenanceRecordSerializer
    filterset_class = MaintenanceRecordFilterSet
    ordering_fields = ["performed_at", "next_due", "created"]
    required_role = {
        **READ,
        "create": Role.OPERATOR,
        "update": Role.OPERATOR,
        "partial_update": Role.OPERATOR,
        "destroy": Role.ADMIN,
        "attachments": Role.OPERATOR,
        "attachment_download": Role.VIEWER,
        "attachment_delete": Role.OPERATOR,
    }
    csv_columns = [
        ("id", "id"),
        ("organization", "organization_id"),
        ("station", "station_id"),
        ("ocpp_id", "station.ocpp_id"),
        ("kind", "kind"),
        ("performed_at", "performed_at"),
        ("performed_by", "performed_by_id"),
        ("technician", "technician"),
        ("part_replaced", "part_replaced"),
        ("notes", "notes"),
        ("next_due", "next_due"),
        ("attachments", lambda record: len(record.attachments.all())),
        ("created", "created"),
    ]

    def perform_create(self, serializer):
        serializer.save(organization=self.get_organization(), created_by=_person(self.request.user))

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: MaintenanceAttachmentSerializer(many=True)},
        description="Upload one or more `file` parts: JPEG, PNG, GIF, WebP or PDF, each at "
        "most MAINTENANCE_MAX_ATTACHMENT_BYTES. All or none: one refused file is a 400.",
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=[MultiPartParser],
        filter_backends=[],
        pagination_class=None,
    )
    def attachments(self, request, pk=None):
        """Add photos or documents to the record."""
        record = self.get_object()
        files = request.FILES.getlist("file")
        if not files:
            raise ValidationError({"file": [_("Send one or more files as `file`.")]})
        try:
            stored = add_attachments(record, files, user=_person(request.user))
        except DjangoValidationError as error:
            raise ValidationError({"file": error.messages}) from None
        return Response(
            MaintenanceAttachmentSerializer(stored, many=True).data, status=status.HTTP_201_CREATED
        )

    def _attachment(self, attachment_id) -> MaintenanceAttachment:
        record = self.get_object()
        attachment = record.attachments.filter(pk=attachment_id).first()
        if attachment is None:
            raise Http404
        return attachment

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(
        detail=True,
        methods=["get"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)/download",
        url_name="attachment-download",
        filter_backends=[],
        pagination_class=None,
    )
    def attachment_download(self, request, pk=None, attachment_id=None):
        """The content of one attachment, as uploaded."""
        return download_response(self._attachment(attachment_id))

    @extend_schema(responses={204: None})
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"attachments/(?P<attachment_id>[0-9]+)",
        url_name="attachment",
        filter_backends=[],
        pagination_class=None,
    )
    def attachment_delete(self, request, pk=None, attachment_id=None):
        """Remove one attachment and its file."""
        self._attachment(attachment_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MaintenanceDueViewSet(mixins.ListModelMixin, TenantViewSet):
    """What is due per station, overdue first: last maintenance, next due, planned windows."""

    # Over the stations, narrowed by the base like every resource; the rows are computed.
    queryset = ChargingStation.objects.all()
    serializer_class = MaintenanceDueSerializer
    filterset_class = MaintenanceDueFilterSet
    required_role = Role.VIEWER

    def list(self, request, *args, **kwargs):
        """One row per station, overdue first, then by due date; never due last."""
        lines = maintenance_due(self.filter_queryset(self.get_queryset()))
        page = self.paginate_queryset(lines)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
