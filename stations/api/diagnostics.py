"""/stations/{id}/diagnostics/: the files a station uploaded, listed and downloaded."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from stations.diagnostics import download_response
from stations.models import ChargingStation, DiagnosticsFile


class DiagnosticsFileSerializer(serializers.ModelSerializer):
    """A diagnostics or log file the station uploaded (GetDiagnostics, GetLog)."""

    command = serializers.CharField(source="request.command", default="", read_only=True)

    class Meta:
        model = DiagnosticsFile
        fields = ["id", "original_name", "size", "received", "command"]


class StationDiagnosticsViewSet(TenantViewSet):
    """The diagnostics files of the stations of the user's organizations."""

    # Actions under /stations/{id}/ beside the stations' own viewset: no list or detail route.
    queryset = ChargingStation.objects.all()
    required_role = {
        "diagnostics": Role.VIEWER,
        # The file's content (logs of the station) is for those who may operate it.
        "diagnostics_download": Role.OPERATOR,
    }

    @extend_schema(responses=DiagnosticsFileSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def diagnostics(self, request, pk=None):
        """The files the station uploaded, newest first, a page at a time."""
        station = self.get_object()
        files = (
            DiagnosticsFile.objects.filter(station=station)
            .select_related("request")
            .order_by("-received", "-id")
        )
        page = self.paginate_queryset(files)
        return self.get_paginated_response(DiagnosticsFileSerializer(page, many=True).data)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(
        detail=True,
        methods=["get"],
        url_path=r"diagnostics/(?P<file_id>[0-9]+)",
        url_name="diagnostics-download",
        filter_backends=[],
        pagination_class=None,
    )
    def diagnostics_download(self, request, pk=None, file_id=None):
        """The content of one file, as the station uploaded it."""
        station = self.get_object()
        upload = DiagnosticsFile.objects.filter(station=station, pk=file_id).first()
        if upload is None:
            raise Http404
        return download_response(upload)
