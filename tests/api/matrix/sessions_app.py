"""Matrix rows of the sessions API: sessions, reservations and analytics."""

from datetime import timedelta

from billing.models import ChargeDetailRecord
from organizations.choices import Role
from sessions_app.choices import SessionState
from tests.api.matrix import WHEN, Endpoint
from tests.factories import (
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    ReservationFactory,
)

# March 2026, which holds the world's session; grouped by station, its station is our row.
ANALYTICS = (
    "/api/v1/analytics/?group_by=station"
    "&start_after=2026-03-01T00:00:00Z&start_before=2026-04-01T00:00:00Z"
)


def more_sessions(world, n):
    for number in range(n):
        card = IdTokenFactory(organization=world.org)
        session = ChargingSessionFactory(
            station=world.station,
            id_token=card,
            id_tag=card.uid,
            start=WHEN - timedelta(days=number + 1),
            stop=WHEN - timedelta(days=number + 1) + timedelta(hours=1),
            state=SessionState.COMPLETED,
        )
        ChargeDetailRecord.objects.create(
            organization=world.org,
            session=session,
            currency="EUR",
            total_incl_tax="1.0000",
            accounted_at=session.stop,
        )


def more_reservations(world, n):
    for _ in range(n):
        card = IdTokenFactory(organization=world.org)
        ReservationFactory(station=world.station, id_token=card, id_tag=card.uid)


def more_stations_with_sessions(world, n):
    for _ in range(n):
        station = ChargingStationFactory(organization=world.org, site=world.site)
        ChargingSessionFactory(
            station=station,
            start=WHEN,
            stop=WHEN + timedelta(hours=1),
            energy_wh=1000,
            state=SessionState.COMPLETED,
        )


ENDPOINTS = [
    Endpoint(
        "session-list",
        "get",
        lambda w: "/api/v1/sessions/",
        Role.VIEWER,
        ours=lambda w: w.session.pk,
        more=more_sessions,
    ),
    Endpoint("session-detail", "get", lambda w: f"/api/v1/sessions/{w.session.pk}/", Role.VIEWER),
    Endpoint(
        "session-meter-values",
        "get",
        lambda w: f"/api/v1/sessions/{w.session.pk}/meter-values/",
        Role.VIEWER,
    ),
    # The world's session is completed and priced: stopping its billing writes a credit. There
    # is nothing to stop remotely (the station is offline besides).
    Endpoint(
        "session-stop-billing",
        "post",
        lambda w: f"/api/v1/sessions/{w.session.pk}/stop-billing/",
        Role.OPERATOR,
        body=lambda w: {"reason": "Meter fault"},
    ),
    # The world's session is not held for review: releasing or correcting it is refused.
    Endpoint(
        "session-release",
        "post",
        lambda w: f"/api/v1/sessions/{w.session.pk}/release/",
        Role.OPERATOR,
        ok=(409,),
    ),
    Endpoint(
        "session-correct",
        "post",
        lambda w: f"/api/v1/sessions/{w.session.pk}/correct/",
        Role.OPERATOR,
        body=lambda w: {"meter_start": 0, "meter_stop": 1000},
        ok=(409,),
    ),
    Endpoint(
        "session-stop",
        "post",
        lambda w: f"/api/v1/sessions/{w.session.pk}/stop/",
        Role.OPERATOR,
        ok=(409,),
        transactional=True,
    ),
    Endpoint(
        "reservation-list",
        "get",
        lambda w: "/api/v1/reservations/",
        Role.VIEWER,
        ours=lambda w: w.reservation.pk,
        more=more_reservations,
    ),
    Endpoint(
        "reservation-detail",
        "get",
        lambda w: f"/api/v1/reservations/{w.reservation.pk}/",
        Role.VIEWER,
    ),
    # The world's reservation is pending (ReserveNow unanswered): not cancellable.
    Endpoint(
        "reservation-cancel",
        "post",
        lambda w: f"/api/v1/reservations/{w.reservation.pk}/cancel/",
        Role.OPERATOR,
        ok=(409,),
        transactional=True,
    ),
    Endpoint(
        "analytics-list",
        "get",
        lambda w: ANALYTICS,
        Role.VIEWER,
        key="station",
        ours=lambda w: w.station.pk,
        more=more_stations_with_sessions,
    ),
]
