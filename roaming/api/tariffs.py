"""A tariff as the OCPI 2.2.1 Tariff object roaming publishes: /api/v1/tariffs/{id}/ocpi/."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from billing.api.serializers import COUNTRY_CODE, PARTY_ID, tariff_elements_schema
from billing.choices import TariffType
from billing.models import Tariff
from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from roaming.ocpi.v221.tariffs import tariff_to_ocpi


class OcpiPartySerializer(serializers.Serializer):
    """Who publishes the tariff: the OCPI party of the organization towards the partner."""

    country_code = serializers.CharField(
        max_length=2,
        validators=[COUNTRY_CODE],
        help_text=_("ISO 3166-1 alpha-2 code of the publishing party, such as DE."),
    )
    party_id = serializers.CharField(
        max_length=3,
        validators=[PARTY_ID],
        help_text=_("OCPI party id of the publishing party: three upper-case letters or digits."),
    )


def _ocpi_price_schema(description: str) -> dict:
    return {
        "type": "object",
        "description": description,
        "properties": {
            "excl_vat": {"type": "number"},
            "incl_vat": {"type": "number"},
        },
        "required": ["excl_vat", "incl_vat"],
    }


def ocpi_tariff_schema() -> dict:
    """The OCPI 2.2.1 Tariff object as tariff_to_ocpi writes it."""
    elements = tariff_elements_schema(strict=False)
    component = elements["items"]["properties"]["price_components"]["items"]
    published_component = {
        **component,
        "properties": {
            **component["properties"],
            "price": {"type": "number", "minimum": 0},
            "vat": {
                "type": "number",
                "description": "VAT in percent: the component's own, else the tariff's tax rate.",
            },
        },
        "required": ["type", "price", "step_size", "vat"],
    }
    restrictions = elements["items"]["properties"]["restrictions"]
    decimals = ("min_kwh", "max_kwh", "min_power", "max_power")
    published_restrictions = {
        **restrictions,
        "properties": {
            name: ({"type": "number", "nullable": True} if name in decimals else schema)
            for name, schema in restrictions["properties"].items()
        },
    }
    date_time = {"type": "string", "description": "UTC, RFC 3339, e.g. 2026-03-01T00:00:00Z."}
    return {
        "type": "object",
        "properties": {
            "country_code": {"type": "string"},
            "party_id": {"type": "string"},
            "id": {"type": "string"},
            "currency": {"type": "string"},
            "type": {"type": "string", "enum": list(TariffType.values)},
            "elements": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "price_components": {"type": "array", "items": published_component},
                        "restrictions": published_restrictions,
                    },
                    "required": ["price_components"],
                    "additionalProperties": False,
                },
            },
            "min_price": _ocpi_price_schema("The least a session costs."),
            "max_price": _ocpi_price_schema("The most a session costs."),
            "start_date_time": date_time,
            "end_date_time": date_time,
            "last_updated": date_time,
        },
        "required": [
            "country_code",
            "party_id",
            "id",
            "currency",
            "type",
            "elements",
            "last_updated",
        ],
    }


class TariffOcpiViewSet(TenantViewSet):
    """A tariff of the user's organizations in the OCPI shape roaming publishes it in."""

    # Roaming sits above billing, so the OCPI shape of billing's tariffs is served from here,
    # at the URL billing's tariff API had it: the same tenancy (404 for another organization's
    # tariff) and role through the one base class.
    queryset = Tariff.objects.all()
    required_role = {"ocpi": Role.VIEWER}
    filter_backends = []
    pagination_class = None

    @extend_schema(
        operation_id="tariffs_ocpi_retrieve",
        parameters=[OcpiPartySerializer],
        responses={200: OpenApiResponse(response=ocpi_tariff_schema())},
    )
    def ocpi(self, request, pk=None):
        """The tariff as an OCPI 2.2.1 Tariff object, published by the party in the query."""
        tariff = self.get_object()
        party = OcpiPartySerializer(data=request.query_params)
        party.is_valid(raise_exception=True)
        return Response(tariff_to_ocpi(tariff, **party.validated_data))


urlpatterns = [
    path(
        "tariffs/<int:pk>/ocpi/",
        TariffOcpiViewSet.as_view({"get": "ocpi"}, detail=True),
        name="tariff-ocpi",
    )
]
