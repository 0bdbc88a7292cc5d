"""OCPP-J framing: parse frames into calls, results and errors; build the answers."""

import json
from dataclasses import dataclass, field
from typing import Any

from ocpp_gateway.exceptions import FormationViolation, OcppError, ProtocolError

CALL, CALLRESULT, CALLERROR = 2, 3, 4
# The unique id to answer with when a frame is too broken to carry one (OCPP 2.0.1 RPC rules).
UNKNOWN_UNIQUE_ID = "-1"
MAX_UNIQUE_ID_LENGTH = 36

# OCPP 1.6 spells this code with one "r"; 2.0.1 corrected it.
_V16_SPELLING = {"OccurrenceConstraintViolation": "OccurenceConstraintViolation"}


@dataclass(slots=True)
class Call:
    """A request: [2, uniqueId, action, payload]."""

    unique_id: str
    action: str
    payload: dict


@dataclass(slots=True)
class CallResult:
    """An answer: [3, uniqueId, payload]."""

    unique_id: str
    payload: dict


@dataclass(slots=True)
class CallError:
    """An error answer: [4, uniqueId, errorCode, errorDescription, errorDetails]."""

    unique_id: str
    code: str
    description: str = ""
    details: dict = field(default_factory=dict)


class FrameError(OcppError):
    """A frame that cannot be answered normally; carries the unique id when one was readable."""

    def __init__(self, error: OcppError, unique_id: str = UNKNOWN_UNIQUE_ID):
        super().__init__(error.description, error.details)
        self.code = error.code
        self.unique_id = unique_id


def parse_frame(text: str) -> Call | CallResult | CallError:
    """Parse one OCPP-J text frame, raising FrameError with the right OCPP error code."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError(FormationViolation("Frame is not valid JSON")) from None
    if not isinstance(message, list) or len(message) < 3:
        raise FrameError(FormationViolation("Frame is not an OCPP-J array"))
    type_id, unique_id = message[0], message[1]
    if not isinstance(unique_id, str) or not unique_id or len(unique_id) > MAX_UNIQUE_ID_LENGTH:
        raise FrameError(ProtocolError("uniqueId must be a string of 1 to 36 characters"))
    if type_id == CALL:
        if len(message) != 4:
            raise FrameError(ProtocolError("A CALL has exactly 4 elements"), unique_id)
        action, payload = message[2], message[3]
        if not isinstance(action, str) or not action:
            raise FrameError(ProtocolError("The action must be a non-empty string"), unique_id)
        if not isinstance(payload, dict):
            raise FrameError(FormationViolation("The payload must be a JSON object"), unique_id)
        return Call(unique_id, action, payload)
    if type_id == CALLRESULT:
        if len(message) != 3 or not isinstance(message[2], dict):
            raise FrameError(FormationViolation("A CALLRESULT is [3, id, {payload}]"), unique_id)
        return CallResult(unique_id, message[2])
    if type_id == CALLERROR:
        if len(message) < 4 or not isinstance(message[2], str):
            raise FrameError(FormationViolation("A CALLERROR is [4, id, code, ...]"), unique_id)
        description = message[3] if isinstance(message[3], str) else ""
        details = message[4] if len(message) > 4 and isinstance(message[4], dict) else {}
        return CallError(unique_id, message[2], description, details)
    raise FrameError(ProtocolError(f"Unknown message type id {type_id!r}"), unique_id)


def dumps(message: list) -> str:
    """Serialize compactly, as stations read it."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def call_result(unique_id: str, payload: dict) -> str:
    """Text of a CALLRESULT."""
    return dumps([CALLRESULT, unique_id, payload])


def call_error(
    unique_id: str,
    code: str,
    description: str = "",
    details: dict | None = None,
    version: str = "ocpp1.6",
) -> str:
    """Text of a CALLERROR, with the error code spelled as the station's version spells it."""
    if version == "ocpp1.6":
        code = _V16_SPELLING.get(code, code)
    return dumps([CALLERROR, unique_id, code, description[:255], details or {}])


def call(unique_id: str, action: str, payload: dict) -> str:
    """Text of a CALL."""
    return dumps([CALL, unique_id, action, payload])


def describe(value: Any, limit: int = 200) -> str:
    """Short printable form of a value for logs."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
