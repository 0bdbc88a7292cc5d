"""Applying a configuration baseline through the API: POST /configuration-baselines/{id}/apply/.

The baselines app serves the baselines themselves; sending is the gateway's, so the action sits
here, on the same path (like the stations' /commands/).
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from baselines import services
from baselines.api.serializers import BaselineRunSerializer
from baselines.choices import RunTrigger
from baselines.models import ConfigurationBaseline
from ocpp_gateway.api.views import requested_via
from ocpp_gateway.remote.baselines import apply_in_background
from ocpp_gateway.remote.registry import Actor
from organizations.api.fields import TenantRelatedField
from organizations.api.viewsets import TenantViewSet
from organizations.choices import Role
from organizations.roles import organization_roles
from stations.models import ChargingStation

# Stations one request may name.
MAX_STATIONS = 1000


class ApplyRequestSerializer(serializers.Serializer):
    """Which stations: those listed, or every station drifting from the baseline now."""

    stations = TenantRelatedField(
        queryset=ChargingStation.objects.all(),
        many=True,
        required=False,
        help_text="Stations of the baseline's organization and its vendor (and model).",
    )
    drifting = serializers.BooleanField(
        default=False, help_text="Every station that differs from the baseline now."
    )

    def validate_stations(self, value):
        if len(value) > MAX_STATIONS:
            raise serializers.ValidationError(
                _("At most %(n)d stations at once.") % {"n": MAX_STATIONS}
            )
        baseline = self.context["baseline"]
        others = [s.ocpp_id for s in value if not services.applies_to(baseline, s)]
        if others:
            raise serializers.ValidationError(
                _("Not of the baseline's vendor and model: %(stations)s.")
                % {"stations": ", ".join(others)}
            )
        return value

    def validate(self, attrs):
        if not attrs.get("stations") and not attrs.get("drifting"):
            raise serializers.ValidationError(
                {"stations": [_("Name stations, or ask for every drifting one.")]}
            )
        if attrs.get("stations") and attrs.get("drifting"):
            raise serializers.ValidationError(
                {"drifting": [_("Either stations or drifting, not both.")]}
            )
        return attrs


class ApplyResponseSerializer(serializers.Serializer):
    """The runs started, one per station; they finish in the background."""

    runs = BaselineRunSerializer(many=True)


class BaselineApplyViewSet(TenantViewSet):
    """Send a baseline's settings to stations (operators)."""

    queryset = ConfigurationBaseline.objects.all()
    required_role = {"apply": Role.OPERATOR}

    @extend_schema(
        request=ApplyRequestSerializer, responses={202: ApplyResponseSerializer}, description=(
            "Apply the baseline: 1.6 stations get a ChangeConfiguration per key, 2.0.1 stations "
            "SetVariables; the answers are kept per setting. Runs go on in the background: "
            "follow them at /baseline-runs/?baseline={id}."
        )
    )  # fmt: skip
    @action(detail=True, methods=["post"], filter_backends=[])
    def apply(self, request, pk=None):
        """Apply the baseline to the stations named, or to every drifting one."""
        baseline = self.get_object()
        params = ApplyRequestSerializer(
            data=request.data, context={**self.get_serializer_context(), "baseline": baseline}
        )
        params.is_valid(raise_exception=True)
        if params.validated_data.get("drifting"):
            stations = list(services.drifting_stations(baseline))
            trigger = RunTrigger.BULK
        else:
            stations = params.validated_data["stations"]
            trigger = RunTrigger.BULK if len(stations) > 1 else RunTrigger.MANUAL
        role = organization_roles(request).get(baseline.organization_id)
        actor = Actor(user=request.user, role=role, via=requested_via(request))
        runs = apply_in_background(baseline, stations, actor, trigger=trigger)
        fresh = (
            baseline.runs.filter(pk__in=[run.pk for run in runs])
            .select_related("station")
            .prefetch_related("results")
        )
        return Response(
            {"runs": BaselineRunSerializer(fresh, many=True).data}, status=status.HTTP_202_ACCEPTED
        )
