"""A session's progress for its page: cost so far, power, state of charge, departure, curves."""

from datetime import datetime, tzinfo

from sessions_app.choices import SessionState
from sessions_app.curves import curve_charts, session_curves
from sessions_app.estimates import cost_so_far
from stations.models import EVChargingNeeds

# How often a running session's panel is fetched again: meter values raise no live event
# (a busy station sends several a minute; the page polls only while the session runs).
REFRESH_SECONDS = 30


def ev_needs(session) -> EVChargingNeeds | None:
    """The EV's latest charging needs (ISO 15118, OCPP 2.0.1) reported during the session."""
    evse = session.connector.evse if session.connector_id else None
    if evse is None:
        return None
    needs = EVChargingNeeds.objects.for_org(session.organization_id).filter(
        station_id=session.station_id, evse_number=evse.evse_number, reported_at__gte=session.start
    )
    if session.stop:
        needs = needs.filter(reported_at__lte=session.stop)
    return needs.order_by("-reported_at", "-pk").first()


def session_progress(session, zone: tzinfo, now: datetime) -> dict:
    """What the session's progress panel shows, as of `now`."""
    running = session.state == SessionState.ACTIVE
    curves = session_curves(session)
    needs = ev_needs(session)
    departure = needs.departure_time if needs else None
    return {
        "running": running,
        "cost": cost_so_far(session, now) if running else None,
        "power_kw": None if session.last_power_w is None else session.last_power_w / 1000,
        "soc": curves.soc.last,
        "energy_asked_wh": needs.energy_amount if needs else None,
        "departure": departure,
        "remaining": departure - now if running and departure and departure > now else None,
        "charts": curve_charts(session, curves, zone, now) if curves else [],
        "updated": now,
        "refresh_seconds": REFRESH_SECONDS,
    }
