"""What stations hold, read through the API: display messages, certificates, signing requests.

GET /stations/{id}/display-messages/, /stations/{id}/certificates/ and
/stations/{id}/certificate-requests/: read-only; they change through the remote commands.
"""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from ocpp_gateway.models import CertificateRequest, DisplayMessage, StationCertificate
from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from stations.models import ChargingStation


class DisplayMessageSerializer(serializers.ModelSerializer):
    """A message for a station's display and what the station last said of it."""

    on_station = serializers.BooleanField(
        read_only=True, help_text="Whether the station holds it, as far as it last told us."
    )
    # Plain text in the schema: an enum named "state" would collide with the sessions' state.
    state = serializers.CharField(
        read_only=True,
        help_text="Shown only while the station is Charging, Faulted, Idle or Unavailable; "
        "empty: in every state.",
    )

    class Meta:
        model = DisplayMessage
        fields = [
            "id",
            "message_id",
            "priority",
            "state",
            "start_time",
            "end_time",
            "transaction_id",
            "content",
            "message_format",
            "language",
            "display",
            "status",
            "on_station",
            "answer",
            "reported_at",
            "created",
            "updated",
        ]
        read_only_fields = fields


class StationCertificateSerializer(serializers.ModelSerializer):
    """A certificate on a station: how the station names it and what we know of it."""

    on_station = serializers.BooleanField(
        read_only=True, help_text="Whether the station holds it, as far as it last told us."
    )

    class Meta:
        model = StationCertificate
        fields = [
            "id",
            "certificate_type",
            "hash_algorithm",
            "issuer_name_hash",
            "issuer_key_hash",
            "serial_number",
            "child_certificates",
            "certificate",
            "subject",
            "not_after",
            "status",
            "on_station",
            "answer",
            "reported_at",
            "created",
            "updated",
        ]
        read_only_fields = fields


class CertificateRequestSerializer(serializers.ModelSerializer):
    """A station's certificate signing request and how it was answered."""

    class Meta:
        model = CertificateRequest
        fields = [
            "id",
            "certificate_type",
            "csr",
            "status",
            "provider",
            "reason_code",
            "detail",
            "certificate_chain",
            "delivery",
            "created",
            "updated",
        ]
        read_only_fields = fields


class StationHoldingsViewSet(TenantViewSet):
    """Display messages, certificates and signing requests of the user's organizations' stations."""

    queryset = ChargingStation.objects.all()
    required_role = {
        "display_messages": Role.VIEWER,
        "certificates": Role.VIEWER,
        "certificate_requests": Role.VIEWER,
    }
    filter_backends = []

    def _page_of(self, rows, serializer_class):
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    @extend_schema(responses=DisplayMessageSerializer(many=True))
    def display_messages(self, request, pk=None):
        """The station's display messages, by id: those it holds and those it no longer does."""
        station = self.get_object()
        rows = DisplayMessage.objects.filter(station=station).order_by("message_id", "id")
        return self._page_of(rows, DisplayMessageSerializer)

    @extend_schema(responses=StationCertificateSerializer(many=True))
    def certificates(self, request, pk=None):
        """The certificates the station holds or held, as installed or listed."""
        station = self.get_object()
        rows = StationCertificate.objects.filter(station=station).order_by("certificate_type", "id")
        return self._page_of(rows, StationCertificateSerializer)

    @extend_schema(responses=CertificateRequestSerializer(many=True))
    def certificate_requests(self, request, pk=None):
        """The station's certificate signing requests, newest first."""
        station = self.get_object()
        rows = CertificateRequest.objects.filter(station=station).order_by("-created", "-id")
        return self._page_of(rows, CertificateRequestSerializer)


def _route(tail: str, action: str, name: str):
    view = StationHoldingsViewSet.as_view({"get": action}, detail=True)
    return path(f"stations/<int:pk>/{tail}/", view, name=name)


# Routes of their own: a second viewset registered under "stations" would replace the stations
# entry of the API root (cms/api/urls.py lists one viewset per prefix).
urlpatterns = [
    _route("display-messages", "display_messages", "station-display-messages"),
    _route("certificates", "certificates", "station-certificates"),
    _route("certificate-requests", "certificate_requests", "station-certificate-requests"),
]
