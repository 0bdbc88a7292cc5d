"""Commands about running transactions that only OCPP 2.0.1 has: their status and their cost."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

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
from ocpp_gateway.v201.transactions import session_cost
from organizations.choices import Role
from sessions_app.models import ChargingSession

# A 2.0.1 transactionId is an identifierString of up to 36 characters.
TRANSACTION_ID_MAX_LENGTH = 36


class TransactionStatusParameters(serializers.Serializer):
    """Which transaction: by id, or the one running on a connector; neither asks about the queue."""

    connector_id = ConnectorField(source="connector", required=False)
    transaction_id = serializers.CharField(max_length=TRANSACTION_ID_MAX_LENGTH, required=False)


class PushCostParameters(serializers.Serializer):
    """Optionally the connector whose session is meant and the cost to show (else the tariff's)."""

    connector_id = ConnectorField(source="connector", required=False)
    total_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False
    )


def get_transaction_status(ctx: CommandContext) -> CommandLog:
    """GetTransactionStatus: whether a transaction still runs and messages of it are queued."""
    transaction_id = ctx.params.get("transaction_id")
    session = None
    if transaction_id is not None:
        session = ChargingSession.objects.filter(
            station=ctx.station, transaction_id=transaction_id
        ).first()
    elif ctx.connector is not None:
        session = ctx.active_session()
        if session is None:
            raise CommandNotAllowed(
                _("No session is running on connector %(number)s.")
                % {"number": ctx.connector.connector_id}
            )
        transaction_id = session.transaction_id
    log = send(ctx, "get_transaction_status", intents.GetTransactionStatus(transaction_id))
    return link_session(log, session) if session is not None else log


def push_cost(ctx: CommandContext) -> CommandLog:
    """CostUpdated: show the driver what the running session has cost so far."""
    session = ctx.active_session()
    if session is None:
        raise CommandNotAllowed(_("No session is running."))
    total = ctx.params.get("total_cost")
    if total is None:
        total = session_cost(session)
        if total is None:
            raise CommandNotAllowed(_("No tariff prices this session: give the total cost."))
    intent = intents.CostUpdated(total_cost=total, transaction_id=session.transaction_id)
    return link_session(send(ctx, "push_cost", intent), session)


register(
    CommandSpec(
        name="get_transaction_status",
        label=_("Transaction status"),
        run=get_transaction_status,
        params=TransactionStatusParameters,
        min_role=Role.OPERATOR,
        intents=(intents.GetTransactionStatus,),
        description=_(
            "Sends GetTransactionStatus: whether a transaction still runs and whether the "
            "station still holds messages of it."
        ),
    )
)
register(
    CommandSpec(
        name="push_cost",
        label=_("Push cost"),
        run=push_cost,
        params=PushCostParameters,
        rule=running_session_rule,
        min_role=Role.OPERATOR,
        intents=(intents.CostUpdated,),
        description=_(
            "Sends CostUpdated: the running session's cost so far by its tariff, or the total "
            "given, for the station to show the driver."
        ),
    )
)
