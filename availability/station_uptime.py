"""Stations' uptime for the sessions analytics' usage table (sessions_app.usage's seam)."""

from datetime import date, tzinfo

from django.db.models import QuerySet

from availability.choices import Group, Period
from availability.selectors import availability_report


def station_uptimes(stations: QuerySet, first: date, last: date, zone: tzinfo) -> dict:
    """Each station's uptime (0 to 1; None: nothing measured) over the days, as the report's."""
    report = availability_report(stations, period=Period.DAY, first=first, last=last, zone=zone)
    return {line.station_id: line.total.tally.uptime for line in report.lines(Group.STATION)}
