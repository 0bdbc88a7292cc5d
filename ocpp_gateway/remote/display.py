"""Display message commands (set, get, clear) and the station page's "Display messages" part."""

import secrets

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from ocpp_gateway import intents, versions
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.display_messages import (
    MAX_MESSAGE_ID,
    MessageCriteria,
    next_message_id,
    record_clear_answer,
    record_none_match,
    record_set_answer,
)
from ocpp_gateway.models import (
    CommandLog,
    DisplayMessage,
    MessageFormat,
    MessagePriority,
    MessageState,
)
from ocpp_gateway.remote.charging import send
from ocpp_gateway.remote.registry import CommandContext, CommandSpec, register
from organizations.choices import Role
from sessions_app.models import ChargingSession
from stations.pages import register_station_part

# OCPP caps a message's content at 512 characters and its language code at 8.
MAX_CONTENT, MAX_LANGUAGE = 512, 8
# The messages the page lists besides those on the station: the latest cleared or refused.
RECENT_PAST_MESSAGES = 20
# A requestId is an OCPP integer; 32 bits are what every station stores.
MAX_REQUEST_ID = 2**31 - 1


def needs(intent_type: type, feature):
    """A rule: the station's OCPP version must have a call for `intent_type`."""

    def rule(ctx: CommandContext):
        try:
            version = versions.for_station(ctx.station)
        except versions.UnsupportedVersion as error:
            return str(error)
        if not version.calls.supports(intent_type):
            return _("%(feature)s need OCPP 2.0.1 or later; the station speaks %(version)s.") % {
                "feature": feature,
                "version": version.subprotocol,
            }
        return None

    return rule


def answer_of(log: CommandLog) -> str | None:
    """The station's status word, when it answered (None: no answer, or a CallError)."""
    # Every display and certificate answer of 2.0.1 and 2.1 carries its outcome as `status`.
    if log.status not in (CommandStatus.ACCEPTED, CommandStatus.REJECTED):
        return None
    response = log.response if isinstance(log.response, dict) else {}
    return response.get("status")


# --- parameters ----------------------------------------------------------------------------------


class SetDisplayMessageParameters(serializers.Serializer):
    """A message for the station's display; an id the station already shows replaces it."""

    content = serializers.CharField(label=_("Text"), max_length=MAX_CONTENT, trim_whitespace=False)
    priority = serializers.ChoiceField(
        label=_("Priority"), choices=MessagePriority.choices, default=MessagePriority.NORMAL_CYCLE
    )
    message_format = serializers.ChoiceField(
        label=_("Format"), choices=MessageFormat.choices, default=MessageFormat.UTF8
    )
    language = serializers.CharField(
        label=_("Language"),
        max_length=MAX_LANGUAGE,
        required=False,
        allow_blank=True,
        help_text=_("An RFC 5646 code such as en or de-CH."),
    )
    message_id = serializers.IntegerField(
        label=_("Message id"),
        min_value=0,
        max_value=MAX_MESSAGE_ID,
        required=False,
        help_text=_("Empty: a new message. The id of a message on the station replaces it."),
    )
    state = serializers.ChoiceField(
        label=_("Only while the station is"), choices=MessageState.choices, required=False
    )
    start_time = serializers.DateTimeField(label=_("Shown from"), required=False)
    end_time = serializers.DateTimeField(label=_("Shown until"), required=False)
    transaction_id = serializers.CharField(
        label=_("Only during transaction"),
        max_length=36,
        required=False,
        allow_blank=True,
        help_text=_("The station removes the message when the transaction ends."),
    )

    def validate(self, attrs):
        if attrs.get("message_format") == MessageFormat.ASCII and not attrs["content"].isascii():
            raise serializers.ValidationError(
                {"content": [_("ASCII text cannot hold these characters: choose UTF-8.")]}
            )
        start, end = attrs.get("start_time"), attrs.get("end_time")
        if end is not None and end <= timezone.now():
            raise serializers.ValidationError({"end_time": [_("The time must be in the future.")]})
        if start is not None and end is not None and end <= start:
            raise serializers.ValidationError({"end_time": [_("The end comes after the start.")]})
        return attrs


class GetDisplayMessagesParameters(serializers.Serializer):
    """The messages to report: those matching every criterion given, or all."""

    message_ids = serializers.ListField(
        label=_("Message ids"),
        child=serializers.IntegerField(min_value=0, max_value=MAX_MESSAGE_ID),
        required=False,
        allow_empty=True,
        help_text=_("Comma-separated; empty: any."),
    )
    priority = serializers.ChoiceField(
        label=_("Priority"), choices=MessagePriority.choices, required=False
    )
    state = serializers.ChoiceField(label=_("State"), choices=MessageState.choices, required=False)


class ClearDisplayMessageParameters(serializers.Serializer):
    """The id of the message to remove."""

    message_id = serializers.IntegerField(
        label=_("Message id"), min_value=0, max_value=MAX_MESSAGE_ID
    )


# --- runners -------------------------------------------------------------------------------------


def set_display_message(ctx: CommandContext) -> CommandLog:
    """SetDisplayMessage; what the station answered is kept with the message."""
    params = ctx.params
    message_id = params.get("message_id")
    if message_id is None:
        message_id = next_message_id(ctx.station)
    intent = intents.SetDisplayMessage(
        message_id=message_id,
        priority=params["priority"],
        content=params["content"],
        format=params["message_format"],
        language=params.get("language", ""),
        state=params.get("state", ""),
        start=params.get("start_time"),
        end=params.get("end_time"),
        transaction_id=params.get("transaction_id", ""),
    )
    log = send(ctx, "set_display_message", intent)
    answer = answer_of(log)
    if answer:
        fields = {
            "priority": intent.priority,
            "state": intent.state,
            "start_time": intent.start,
            "end_time": intent.end,
            "transaction_id": intent.transaction_id,
            "content": intent.content,
            "message_format": intent.format,
            "language": intent.language,
        }
        record_set_answer(ctx.station, message_id, fields, answer)
    return log


def get_display_messages(ctx: CommandContext) -> CommandLog:
    """GetDisplayMessages; the station reports them in NotifyDisplayMessages."""
    params = ctx.params
    criteria = MessageCriteria(
        message_ids=tuple(params.get("message_ids") or ()),
        priority=params.get("priority", ""),
        state=params.get("state", ""),
    )
    intent = intents.GetDisplayMessages(
        # NotifyDisplayMessages names the request it answers: an id unlikely to repeat among
        # the station's requests (nothing of ours numbers them).
        request_id=secrets.randbelow(MAX_REQUEST_ID) + 1,
        message_ids=criteria.message_ids,
        priority=criteria.priority,
        state=criteria.state,
    )
    log = send(ctx, "get_display_messages", intent)
    if answer_of(log) == "Unknown":
        # The station holds no message that matches.
        record_none_match(
            ctx.station,
            MessageCriteria(
                criteria.message_ids, criteria.priority, criteria.state, asked_at=log.created
            ),
        )
    return log


def clear_display_message(ctx: CommandContext) -> CommandLog:
    """ClearDisplayMessage; Unknown means the station does not hold the message."""
    message_id = ctx.params["message_id"]
    log = send(ctx, "clear_display_message", intents.ClearDisplayMessage(message_id))
    answer = answer_of(log)
    if answer:
        record_clear_answer(ctx.station, message_id, answer)
    return log


DISPLAY_MESSAGES = _("Display messages")

register(
    CommandSpec(
        name="set_display_message",
        label=_("Set display message"),
        run=set_display_message,
        params=SetDisplayMessageParameters,
        rule=needs(intents.SetDisplayMessage, DISPLAY_MESSAGES),
        min_role=Role.OPERATOR,
        description=_(
            "Show a message on the station's display, now or from a time, until a time, in one "
            "state or during one transaction. A message id the station shows is replaced."
        ),
    )
)
register(
    CommandSpec(
        name="get_display_messages",
        label=_("Get display messages"),
        run=get_display_messages,
        params=GetDisplayMessagesParameters,
        rule=needs(intents.GetDisplayMessages, DISPLAY_MESSAGES),
        min_role=Role.OPERATOR,
        description=_(
            "The station reports the messages it holds (all, or those matching the criteria)."
        ),
    )
)
register(
    CommandSpec(
        name="clear_display_message",
        label=_("Clear display message"),
        run=clear_display_message,
        params=ClearDisplayMessageParameters,
        rule=needs(intents.ClearDisplayMessage, DISPLAY_MESSAGES),
        min_role=Role.OPERATOR,
        description=_("Remove one message from the station's display."),
    )
)


# --- the station page ----------------------------------------------------------------------------


def station_display_messages(station, organization) -> dict:
    """The messages on the station's display, then the latest ones no longer there."""
    messages = DisplayMessage.objects.for_org(organization).filter(station=station)
    current = list(messages.on_station().order_by("message_id"))
    past = list(
        messages.exclude(status__in=DisplayMessage.ON_STATION).order_by("-updated", "-id")[
            :RECENT_PAST_MESSAGES
        ]
    )
    now = timezone.now()
    running = set()
    if any(message.transaction_id for message in current):
        running = set(
            ChargingSession.objects.active()
            .filter(station=station)
            .values_list("transaction_id", flat=True)
        )
    for message in current:
        # What the station does by itself: it drops a message after its end time or when its
        # transaction has ended, without telling us.
        message.expired = (message.end_time is not None and message.end_time <= now) or bool(
            message.transaction_id and message.transaction_id not in running
        )
        message.waiting = message.start_time is not None and message.start_time > now
    return {"display_messages": current, "past_display_messages": past}


register_station_part(
    "display-messages", "stations/_station_display_messages.html", station_display_messages
)
