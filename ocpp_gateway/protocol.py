"""OCPP-J framing: parse frames into calls, results and errors; build the answers."""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ocpp_gateway.exceptions import (
    FormationViolation,
    MessageTypeNotSupported,
    OcppError,
    PropertyConstraintViolation,
    ProtocolError,
)

CALL, CALLRESULT, CALLERROR = 2, 3, 4
# The unique id to answer with when a frame is too broken to carry one (OCPP 2.0.1 RPC rules).
UNKNOWN_UNIQUE_ID = "-1"
MAX_UNIQUE_ID_LENGTH = 36
# The deepest OCPP payload (a charging profile's schedule periods) nests about 6 levels; the
# schema validator gives up with a recursion error at a few hundred.
MAX_DEPTH = 32
# Lone UTF-16 surrogates: JSON's \u escapes can spell them, no database can store them.
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    if (
        not isinstance(unique_id, str)
        or not unique_id
        or len(unique_id) > MAX_UNIQUE_ID_LENGTH
        or not unique_id.isprintable()
    ):
        raise FrameError(ProtocolError("uniqueId must be a string of 1 to 36 characters"))
    # Only a \u escape or a non-ASCII character can bring a NUL or a lone surrogate, and only
    # a frame with more brackets than MAX_DEPTH can nest deeper: most frames skip the walk.
    if "\\u" in text or not text.isascii() or text.count("[") + text.count("{") > MAX_DEPTH:
        problem = _hostile_content(message)
        if problem is not None:
            raise FrameError(problem, unique_id)
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
    raise FrameError(MessageTypeNotSupported(f"Unknown message type id {type_id!r}"), unique_id)


def _hostile_content(message: list) -> OcppError | None:
    """The error for nesting deeper than MAX_DEPTH or a string no database can store, if any."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "") for value in message[2:]]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            return FormationViolation(
                f"{where or 'payload'}: nested deeper than {MAX_DEPTH} levels"
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if not storable(key):
                    return PropertyConstraintViolation(
                        f"{where or 'payload'}: a key holds a NUL or a lone surrogate"
                    )
                stack.append((item, depth + 1, f"{where}/{key}" if where else key))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, f"{where}/{i}") for i, item in enumerate(value))
        elif isinstance(value, str) and not storable(value):
            # PostgreSQL refuses both in text and jsonb: refused here, they never reach a write.
            return PropertyConstraintViolation(
                f"{where or 'action'}: NUL characters and lone surrogates are not allowed"
            )
    return None


def storable(text: str) -> bool:
    """Whether a string holds neither NUL nor a lone surrogate (what databases refuse)."""
    return "\x00" not in text and (text.isascii() or _SURROGATE.search(text) is None)


def loggable(text: str, limit: int = 100) -> str:
    """Remote-supplied text made safe for one log line: non-printables escaped, cut short."""
    if not text.isprintable():
        # repr escapes CR, LF, NUL, ESC and lone surrogates, so no one can forge log lines.
        text = repr(text)[1:-1]
    return _cut(text, limit)


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
    spelling: Mapping[str, str] = MappingProxyType({}),
) -> str:
    """Text of a CALLERROR, with the error code spelled as the station's version spells it."""
    code = spelling.get(code, code)
    return dumps([CALLERROR, unique_id, code, description[:255], details or {}])


def call(unique_id: str, action: str, payload: dict) -> str:
    """Text of a CALL."""
    return dumps([CALL, unique_id, action, payload])


def describe(value: Any, limit: int = 200) -> str:
    """Short printable form of a value for logs."""
    return _cut(repr(value), limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
