"""OCPP 2.0.1 display messages: the station's reports, and SetDisplayMessage, Get and Clear."""

from collections.abc import Callable

from ocpp_gateway import intents
from ocpp_gateway.display_messages import (
    MAX_MESSAGE_ID,
    MessageCriteria,
    record_report,
)
from ocpp_gateway.exceptions import PropertyConstraintViolation
from ocpp_gateway.intents import Call
from ocpp_gateway.models import CommandLog
from ocpp_gateway.v201.formats import format_datetime, parse_datetime
from stations.models import ChargingStation

# The command whose CommandLog holds a GetDisplayMessages request (remote/display.py).
GET_DISPLAY_MESSAGES = "get_display_messages"
_INT32 = (-(2**31), 2**31 - 1)


def _message_id(value: int) -> int:
    if not 0 <= value <= MAX_MESSAGE_ID:
        raise PropertyConstraintViolation(
            f"A display message id is an integer from 0 to {MAX_MESSAGE_ID}, got {value}.",
            {"id": value},
        )
    return value


def message_fields(info: dict) -> dict:
    """A MessageInfoType object as the DisplayMessage field values it describes."""
    content = info["message"]
    return {
        "priority": info["priority"],
        "state": info.get("state", ""),
        "start_time": parse_datetime(info["startDateTime"]) if "startDateTime" in info else None,
        "end_time": parse_datetime(info["endDateTime"]) if "endDateTime" in info else None,
        "transaction_id": info.get("transactionId", ""),
        "content": content["content"],
        "message_format": content["format"],
        "language": content.get("language", ""),
        "display": info.get("display"),
    }


def request_criteria(station: ChargingStation, request_id: int) -> MessageCriteria | None:
    """The criteria of our GetDisplayMessages with this requestId, or None if we sent none."""
    log = (
        CommandLog.objects.filter(
            station=station, command=GET_DISPLAY_MESSAGES, payload__requestId=request_id
        )
        .order_by("-created", "-id")
        .first()
    )
    if log is None:
        return None
    return criteria_of(log.payload, log.created)


def criteria_of(payload: dict, asked_at=None) -> MessageCriteria:
    """The neutral criteria of a GetDisplayMessagesRequest payload."""
    return MessageCriteria(
        message_ids=tuple(payload.get("id", ())),
        priority=payload.get("priority", ""),
        state=payload.get("state", ""),
        asked_at=asked_at,
    )


def on_notify_display_messages(station: ChargingStation, payload: dict) -> dict:
    """NotifyDisplayMessages: keep the messages the station holds, one part of a report."""
    request_id = payload["requestId"]
    if not _INT32[0] <= request_id <= _INT32[1]:
        raise PropertyConstraintViolation(
            f"requestId {request_id} is out of range.", {"requestId": request_id}
        )
    messages = {
        _message_id(info["id"]): message_fields(info) for info in payload.get("messageInfo", ())
    }
    final = not payload.get("tbc", False)
    # Only a report's last part tells which messages it left out, and only for our own requests.
    criteria = request_criteria(station, request_id) if final else None
    record_report(station, request_id, messages, final=final, criteria=criteria)
    return {}


HANDLERS: dict[str, Callable[[ChargingStation, dict], dict]] = {
    "NotifyDisplayMessages": on_notify_display_messages,
}


# --- CSMS → station ------------------------------------------------------------------------------


def _set_display_message(intent: intents.SetDisplayMessage, station=None) -> Call:
    content = {"format": intent.format, "content": intent.content}
    if intent.language:
        content["language"] = intent.language
    message = {"id": intent.message_id, "priority": intent.priority}
    if intent.state:
        message["state"] = intent.state
    if intent.start is not None:
        message["startDateTime"] = format_datetime(intent.start)
    if intent.end is not None:
        message["endDateTime"] = format_datetime(intent.end)
    if intent.transaction_id:
        message["transactionId"] = intent.transaction_id
    message["message"] = content
    return Call("SetDisplayMessage", {"message": message})


def _get_display_messages(intent: intents.GetDisplayMessages, station=None) -> Call:
    payload: dict = {"requestId": intent.request_id}
    if intent.message_ids:
        payload["id"] = list(intent.message_ids)
    if intent.priority:
        payload["priority"] = intent.priority
    if intent.state:
        payload["state"] = intent.state
    return Call("GetDisplayMessages", payload)


def _clear_display_message(intent: intents.ClearDisplayMessage, station=None) -> Call:
    return Call("ClearDisplayMessage", {"id": intent.message_id})


# intent type → builder(intent, station) -> intents.Call
BUILDERS: dict[type, Callable[..., Call]] = {
    intents.SetDisplayMessage: _set_display_message,
    intents.GetDisplayMessages: _get_display_messages,
    intents.ClearDisplayMessage: _clear_display_message,
}
