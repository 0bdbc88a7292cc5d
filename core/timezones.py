"""Time-zone helpers: local days and wall-clock arithmetic that survive DST changes."""

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_of(organization) -> tzinfo:
    """The organization's time zone; UTC when its setting names no zone this server knows."""
    try:
        return ZoneInfo(organization.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def day_start(day: date, zone: tzinfo) -> datetime:
    """The first moment of a calendar day in a time zone."""
    return datetime.combine(day, time.min, tzinfo=zone)


def local_days_before(moment: datetime, days: int, zone: tzinfo) -> datetime:
    """The same wall-clock time `days` days earlier, so a DST change shifts no day boundary."""
    local = moment.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
    return local.replace(tzinfo=zone)
