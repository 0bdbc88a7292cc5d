"""What the platform knows of the messages on stations' displays, kept from the stations' answers.

Version-neutral: a version's handlers and the remote commands hand over a message as the
model's field values and the station's answer as its word.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ocpp_gateway.models import DisplayMessage, DisplayMessageStatus
from stations.models import ChargingStation

# The fields of a DisplayMessage that describe the message itself.
MESSAGE_FIELDS = (
    "priority",
    "state",
    "start_time",
    "end_time",
    "transaction_id",
    "content",
    "message_format",
    "language",
    "display",
)
ACCEPTED = "Accepted"
# ClearDisplayMessage's answer when the station has no message with the id.
UNKNOWN = "Unknown"
# OCPP ids are integers the station stores; the database column holds 32 bits.
MAX_MESSAGE_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class MessageCriteria:
    """The criteria of a GetDisplayMessages request: a message matches every one given."""

    message_ids: tuple[int, ...] = ()
    priority: str = ""
    state: str = ""
    # When it was asked: a message set since then may be missing from its report.
    asked_at: datetime | None = None

    def matching(self, messages):
        """The messages of a queryset that match the criteria."""
        if self.message_ids:
            messages = messages.filter(message_id__in=self.message_ids)
        if self.priority:
            messages = messages.filter(priority=self.priority)
        if self.state:
            messages = messages.filter(state=self.state)
        if self.asked_at is not None:
            messages = messages.filter(updated__lt=self.asked_at)
        return messages


def next_message_id(station: ChargingStation) -> int:
    """An id no message of the station has had yet."""
    highest = DisplayMessage.objects.filter(station=station).aggregate(Max("message_id"))
    return (highest["message_id__max"] or 0) + 1


@transaction.atomic
def record_set_answer(
    station: ChargingStation, message_id: int, fields: dict, answer: str
) -> DisplayMessage:
    """Keep what the station answered to SetDisplayMessage with these field values."""
    message = (
        DisplayMessage.objects.select_for_update()
        .filter(station=station, message_id=message_id)
        .first()
    )
    if message is None:
        message = DisplayMessage(station=station, message_id=message_id)
    elif answer != ACCEPTED and message.on_station:
        # Refused: the station still shows what it had under this id.
        message.answer = answer
        message.save(update_fields=["answer", "updated"])
        return message
    for name in MESSAGE_FIELDS:
        setattr(message, name, fields.get(name, DisplayMessage._meta.get_field(name).get_default()))
    message.status = (
        DisplayMessageStatus.ACCEPTED if answer == ACCEPTED else DisplayMessageStatus.REJECTED
    )
    message.answer = answer
    message.save()
    return message


def record_clear_answer(station: ChargingStation, message_id: int, answer: str) -> int:
    """Keep what the station answered to ClearDisplayMessage; how many messages it concerned."""
    # Unknown: the station does not hold it (any more), whatever we thought.
    status = DisplayMessageStatus.CLEARED if answer == ACCEPTED else DisplayMessageStatus.GONE
    return DisplayMessage.objects.filter(station=station, message_id=message_id).update(
        status=status, answer=answer, updated=timezone.now()
    )


@transaction.atomic
def record_report(
    station: ChargingStation,
    request_id: int,
    messages: dict[int, dict],
    *,
    final: bool,
    criteria: MessageCriteria | None,
) -> None:
    """Keep the messages a station reported for a request (id → fields), one part of it."""
    now = timezone.now()
    held = {
        message.message_id: message
        for message in DisplayMessage.objects.select_for_update().filter(
            station=station, message_id__in=list(messages)
        )
    }
    for message_id, fields in messages.items():
        message = held.get(message_id) or DisplayMessage(station=station, message_id=message_id)
        for name in MESSAGE_FIELDS:
            default = DisplayMessage._meta.get_field(name).get_default()
            setattr(message, name, fields.get(name, default))
        message.status = DisplayMessageStatus.REPORTED
        message.reported_at = now
        message.report_request_id = request_id
        message.save()
    if final and criteria is not None:
        # A report lists every message that matches its request: one it left out is gone.
        missing = criteria.matching(
            DisplayMessage.objects.on_station().filter(station=station)
        ).exclude(report_request_id=request_id)
        missing.update(status=DisplayMessageStatus.GONE, updated=now)


def record_none_match(station: ChargingStation, criteria: MessageCriteria) -> int:
    """The station holds no message matching the criteria (GetDisplayMessages: Unknown)."""
    matching = criteria.matching(DisplayMessage.objects.on_station().filter(station=station))
    return matching.update(status=DisplayMessageStatus.GONE, updated=timezone.now())
