"""Small helpers shared by the OCPP handlers of every version: timestamps on the wire."""

import re
from datetime import UTC, datetime, timedelta, timezone

from ocpp_gateway.exceptions import FormationViolation, PropertyConstraintViolation

# RFC 3339 / ISO 8601 as stations really send it: fractions of any length (some send
# nanoseconds), "Z", "+hh:mm", "+hhmm", or no offset at all (then the spec says UTC).
_OCPP_DATETIME = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt ]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?"
    r"(?P<offset>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_ocpp_datetime(value: str) -> datetime:
    """Parse an OCPP dateTime into an aware UTC datetime; a bad value raises an OcppError."""
    if not isinstance(value, str):
        raise FormationViolation(f"Expected a date-time string, got {type(value).__name__}.")
    match = _OCPP_DATETIME.match(value.strip())
    if match is None:
        raise FormationViolation(f"Not an ISO 8601 date-time: {value[:40]!r}.")
    parts = match.groupdict()
    # Python keeps microseconds: shorter fractions are right-padded, longer ones truncated.
    microsecond = int((parts["fraction"] or "0")[:6].ljust(6, "0"))
    try:
        parsed = datetime(
            int(parts["year"]),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"]),
            microsecond,
            tzinfo=_parse_offset(parts["offset"]),
        )
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        # Well-formed but impossible (month 13, 25 o'clock, offset beyond a day).
        raise PropertyConstraintViolation(f"Invalid date-time {value[:40]!r}: {exc}.") from None


def _parse_offset(offset: str | None) -> timezone:
    """The tzinfo of an offset suffix; none at all means UTC, as OCPP timestamps are UTC."""
    if not offset or offset in "Zz":
        return UTC
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if minutes >= 60:
        raise ValueError("offset minutes out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def format_ocpp_datetime(value: datetime) -> str:
    """Format an aware datetime as OCPP expects it: UTC with milliseconds and a Z."""
    if value.tzinfo is None:
        raise ValueError("format_ocpp_datetime needs an aware datetime.")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
