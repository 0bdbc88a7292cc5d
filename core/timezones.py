"""Time-zone helpers: local days and wall-clock arithmetic that survive DST changes."""

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_named(name: str | None) -> tzinfo:
    """The time zone of an IANA name; UTC when the name is empty or no zone this server knows."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def zone_of(organization) -> tzinfo:
    """The organization's time zone; UTC when its setting names no zone this server knows."""
    return zone_named(organization.timezone)


def format_in_zone(moment: datetime, zone: tzinfo) -> str:
    """A moment as wall-clock time in `zone`, named: "2026-12-07 13:05:09 CET (Europe/Berlin)"."""
    try:
        local = moment.astimezone(zone)
    except (OverflowError, ValueError):
        # A stored 0001-01-01 or 9999-12-31 has no local time west or east of UTC: show UTC.
        local, zone = moment.astimezone(UTC), UTC
    # The abbreviation alone is ambiguous (CST is three zones): the IANA name says which.
    name = getattr(zone, "key", None) or "UTC"
    abbreviation = local.tzname() or name
    text = f"{local.replace(tzinfo=None).isoformat(sep=' ', timespec='seconds')} {abbreviation}"
    return text if abbreviation == name else f"{text} ({name})"


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first moment of a calendar day in a time zone."""
    return datetime.combine(day, time.min, tzinfo=zone)


def local_days_before(moment: datetime, days: int, zone: tzinfo) -> datetime:
    """The same wall-clock time `days` days earlier, so a DST change shifts no day boundary."""
    local = moment.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=zone)
