"""Commands that push the organization's tariffs to OCPP 2.1 stations (and read them back)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from billing.models import Tariff
from billing.services import tariff_for
from ocpp_gateway import intents
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.charging import link_session, running_session_rule, send
from ocpp_gateway.remote.registry import (
    CommandContext,
    CommandNotAllowed,
    CommandSpec,
    ConnectorField,
    register,
)
from organizations.choices import Role


class TariffField(serializers.IntegerField):
    """The id of a tariff of the station's organization, validated to the Tariff."""

    def to_internal_value(self, data):
        pk = super().to_internal_value(data)
        station = self.context["station"]
        # Another organization's tariff is answered exactly like one that does not exist.
        tariff = Tariff.objects.for_org(station.organization_id).filter(pk=pk).first()
        if tariff is None:
            raise serializers.ValidationError(_("No tariff with this id in this organization."))
        return tariff


class SetDefaultTariffParameters(serializers.Serializer):
    """Which tariff, and optionally the connector whose EVSE it is for (none: every EVSE)."""

    tariff = TariffField()
    connector_id = ConnectorField(source="connector", required=False)


class GetTariffsParameters(serializers.Serializer):
    """Optionally the connector whose EVSE is meant (none: every EVSE)."""

    connector_id = ConnectorField(source="connector", required=False)


class ClearTariffsParameters(serializers.Serializer):
    """The tariffs to remove (none: all), optionally of one connector's EVSE only."""

    tariff_ids = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, allow_empty=False
    )
    connector_id = ConnectorField(source="connector", required=False)


class ChangeTransactionTariffParameters(serializers.Serializer):
    """The tariff the running session moves to, optionally which connector's session."""

    tariff = TariffField()
    connector_id = ConnectorField(source="connector", required=False)


def _tariff_intent_fields(tariff: Tariff) -> dict:
    # The platform's id names the tariff on the station, so GetTariffs answers can be matched.
    return {
        "tariff_id": str(tariff.pk),
        "definition": tariff.definition(),
        "description": tariff.name,
    }


def _connector_number(ctx: CommandContext) -> int | None:
    return ctx.connector.connector_id if ctx.connector is not None else None


def set_default_tariff(ctx: CommandContext) -> CommandLog:
    """SetDefaultTariff: the station shows and applies this tariff from now on."""
    intent = intents.SetDefaultTariff(
        connector=_connector_number(ctx), **_tariff_intent_fields(ctx.params["tariff"])
    )
    return send(ctx, "set_default_tariff", intent)


def get_tariffs(ctx: CommandContext) -> CommandLog:
    """GetTariffs: which tariffs the station holds, on which EVSEs."""
    return send(ctx, "get_tariffs", intents.GetTariffs(connector=_connector_number(ctx)))


def clear_tariffs(ctx: CommandContext) -> CommandLog:
    """ClearTariffs: remove the tariffs named (or all) from the station."""
    intent = intents.ClearTariffs(
        tariff_ids=tuple(ctx.params.get("tariff_ids", ())), connector=_connector_number(ctx)
    )
    return send(ctx, "clear_tariffs", intent)


def change_transaction_tariff(ctx: CommandContext) -> CommandLog:
    """ChangeTransactionTariff: the running session is priced by another tariff on the station."""
    session = ctx.active_session()
    if session is None:
        raise CommandNotAllowed(_("No session is running."))
    tariff = ctx.params["tariff"]
    current = tariff_for(session)
    if current is not None and current.currency != tariff.currency:
        # 2.1 forbids a currency change within a transaction.
        raise CommandNotAllowed(_("The new tariff must be in the session's currency."))
    intent = intents.ChangeTransactionTariff(
        transaction_id=session.transaction_id, **_tariff_intent_fields(tariff)
    )
    return link_session(send(ctx, "change_transaction_tariff", intent), session)


register(
    CommandSpec(
        name="set_default_tariff",
        label=_("Set default tariff"),
        run=set_default_tariff,
        params=SetDefaultTariffParameters,
        min_role=Role.ADMIN,
        intents=(intents.SetDefaultTariff,),
        description=_(
            "Sends SetDefaultTariff: one of the organization's tariffs, for the station to show "
            "drivers and price with."
        ),
    )
)
register(
    CommandSpec(
        name="get_tariffs",
        label=_("Get tariffs"),
        run=get_tariffs,
        params=GetTariffsParameters,
        min_role=Role.OPERATOR,
        intents=(intents.GetTariffs,),
        description=_("Sends GetTariffs: which tariffs the station holds, on which EVSEs."),
    )
)
register(
    CommandSpec(
        name="clear_tariffs",
        label=_("Clear tariffs"),
        run=clear_tariffs,
        params=ClearTariffsParameters,
        min_role=Role.ADMIN,
        intents=(intents.ClearTariffs,),
        description=_("Sends ClearTariffs: removes the tariffs named, or all of them."),
    )
)
register(
    CommandSpec(
        name="change_transaction_tariff",
        label=_("Change transaction tariff"),
        run=change_transaction_tariff,
        params=ChangeTransactionTariffParameters,
        rule=running_session_rule,
        min_role=Role.ADMIN,
        intents=(intents.ChangeTransactionTariff,),
        description=_(
            "Sends ChangeTransactionTariff: the running session is priced by another of the "
            "organization's tariffs on the station (same currency)."
        ),
    )
)
