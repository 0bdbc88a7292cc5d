"""The bulk commands API: send one command to many stations, then read the result per station."""

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from ocpp_gateway.api.views import requested_via
from ocpp_gateway.models import BulkCommand, BulkCommandResult
from ocpp_gateway.remote.bulk import (
    MAX_STATIONS,
    InvalidBulkParameters,
    create_bulk_command,
    start_bulk_command,
)
from ocpp_gateway.remote.registry import Actor, CommandForbidden, InvalidCommandParameters
from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from organizations.models import Organization
from organizations.roles import organization_roles, organizations_with_role
from stations.models import ChargingStation, Site


class BulkCommandResultSerializer(serializers.ModelSerializer):
    """What became of the bulk command on one station."""

    ocpp_id = serializers.CharField(source="station.ocpp_id", read_only=True)

    class Meta:
        model = BulkCommandResult
        fields = ["id", "station", "ocpp_id", "status", "reason", "command_log", "finished_at"]
        read_only_fields = fields


class BulkCommandSerializer(serializers.ModelSerializer):
    """A bulk command with its result per station."""

    url = serializers.SerializerMethodField()
    requested_by = serializers.CharField(
        source="requested_by.username", read_only=True, default=None, allow_null=True
    )
    api_key = serializers.CharField(
        source="api_key.prefix", read_only=True, default=None, allow_null=True
    )
    results = BulkCommandResultSerializer(many=True, read_only=True)

    class Meta:
        model = BulkCommand
        fields = [
            "id",
            "url",
            "organization",
            "command",
            "params",
            "own_upload_location",
            "site",
            "requested_by",
            "api_key",
            "requested_via",
            "created",
            "finished_at",
            "results",
        ]
        read_only_fields = fields

    def get_url(self, bulk) -> str:
        path = reverse("api:bulkcommand-detail", kwargs={"pk": bulk.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class BulkCommandRequestSerializer(serializers.Serializer):
    """`{"command", "params", "stations": [ids]}` or `{..., "site": id}`."""

    command = serializers.CharField(max_length=48)
    params = serializers.DictField(required=False, default=dict)
    stations = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        allow_empty=False,
        max_length=MAX_STATIONS,
    )
    site = serializers.IntegerField(min_value=1, required=False)

    def validate(self, attrs):
        if ("stations" in attrs) == ("site" in attrs):
            raise serializers.ValidationError(
                {"stations": [_("Give either a list of stations or a site.")]}
            )
        return attrs


class BulkCommandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    """Bulk commands of the user's organizations, each with its result per station."""

    queryset = BulkCommand.objects.select_related("requested_by", "api_key").prefetch_related(
        Prefetch(
            "results",
            queryset=BulkCommandResult.objects.select_related("station").order_by(
                "station__ocpp_id", "id"
            ),
        )
    )
    serializer_class = BulkCommandSerializer
    ordering_fields = ["created"]
    ordering = ["-created"]
    # POST on the flat list too: the organization is the caller's only one (an API key's).
    create_at_top_level = True
    required_role = {
        "list": Role.VIEWER,
        "retrieve": Role.VIEWER,
        # Each command requires its own role on top (its spec's min_role): 403 below it.
        "create": Role.OPERATOR,
    }

    def creating_organization(self) -> Organization:
        """The URL's organization, else the caller's only one where they may run commands."""
        if self.kwargs.get("organization_pk") is not None:
            return self.get_organization()
        candidates = organizations_with_role(self.request, Role.OPERATOR)
        if not candidates:
            raise PermissionDenied(_("Requires role Operator."))
        if len(candidates) > 1:
            raise ValidationError(
                {
                    "organization": [
                        _(
                            "You are in several organizations: "
                            "POST to /organizations/{id}/bulk-commands/."
                        )
                    ]
                }
            )
        return Organization.objects.get(pk=candidates[0])

    def chosen_stations(self, organization, data) -> tuple[list[ChargingStation], Site | None]:
        """The stations named, all of the organization; another organization's id is a 400."""
        stations = ChargingStation.objects.for_org(organization).order_by("ocpp_id")
        if "site" in data:
            site = Site.objects.for_org(organization).filter(pk=data["site"]).first()
            if site is None:
                raise ValidationError({"site": [_("Unknown site.")]})
            return list(stations.filter(site=site)), site
        wanted = set(data["stations"])
        found = list(stations.filter(pk__in=wanted))
        missing = sorted(wanted - {station.pk for station in found})
        if missing:
            raise ValidationError(
                {
                    "stations": [
                        _("Unknown stations: %(ids)s.") % {"ids": ", ".join(map(str, missing))}
                    ]
                }
            )
        return found, None

    @extend_schema(request=BulkCommandRequestSerializer, responses={201: BulkCommandSerializer})
    def create(self, request, *args, **kwargs):
        """Send a command to stations: 201 with the bulk command, its results filling in."""
        organization = self.creating_organization()
        serializer = BulkCommandRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stations, site = self.chosen_stations(organization, data)
        actor = Actor(
            user=request.user,
            role=organization_roles(request).get(organization.pk),
            via=requested_via(request),
        )
        try:
            bulk = create_bulk_command(
                organization, data["command"], data["params"], stations, actor, site=site
            )
        except CommandForbidden as error:
            raise PermissionDenied(error.reason) from None
        except InvalidBulkParameters as error:
            raise ValidationError({"params": error.errors}) from None
        except InvalidCommandParameters as error:
            raise ValidationError(error.errors) from None
        start_bulk_command(bulk, actor)
        bulk = self.get_queryset().get(pk=bulk.pk)
        body = self.get_serializer(bulk).data
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": body["url"]})
