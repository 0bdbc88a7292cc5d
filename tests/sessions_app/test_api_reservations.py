"""GET /api/v1/reservations/ and POST .../cancel/: fields, filters, cancelling at the station."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from ocpp_gateway.models import CommandLog
from organizations.choices import Role
from sessions_app.models import Reservation
from tests.api.conftest import in_thread
from tests.apiclients import client_as
from tests.factories import ChargingStationFactory, IdTokenFactory, ReservationFactory
from tests.ocpp_gateway.conftest import Station, connected_station

LIST = "/api/v1/reservations/"
EXPIRY = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def viewer(org):
    return client_as(org)


@pytest.fixture
def operator(org):
    return client_as(org, Role.OPERATOR)


def ids(response):
    assert response.status_code == 200, response.data
    return [row["id"] for row in response.data["results"]]


def cancel_url(reservation):
    return f"{LIST}{reservation.pk}/cancel/"


@pytest.mark.django_db
def test_a_reservation_is_shown_with_its_station_connector_card_and_who_made_it(
    viewer, org, station, admin_user
):
    card = IdTokenFactory(organization=org, uid="04AABB", label="Erika")
    reservation = ReservationFactory(
        station=station,
        connector=station.connectors.get(connector_id=2),
        id_token=card,
        id_tag="04AABB",
        parent_id_tag="FLEET",
        expiry=EXPIRY,
        status="active",
        created_by=admin_user,
    )

    data = viewer.get(f"{LIST}{reservation.pk}/").data

    assert {k: v for k, v in data.items() if k not in ("created", "updated")} == {
        "id": reservation.pk,
        "station": station.pk,
        "ocpp_id": "CS-DEMO-1",
        "connector_id": 2,
        "id_tag": "04AABB",
        "id_token": {"id": card.pk, "uid": "04AABB", "label": "Erika"},
        "parent_id_tag": "FLEET",
        "expiry": "2030-01-01T00:00:00Z",
        "status": "active",
        "created_by": "org-admin",
    }


@pytest.mark.django_db
def test_a_reservation_of_any_connector_has_no_connector_id(viewer, station):
    reservation = ReservationFactory(station=station, connector=None)
    assert viewer.get(f"{LIST}{reservation.pk}/").data["connector_id"] is None


@pytest.mark.django_db
def test_reservations_are_filtered_by_station_status_id_tag_and_expiry(viewer, org, station):
    other = ChargingStationFactory(organization=org, ocpp_id="CS-OTHER")
    card = IdTokenFactory(organization=org)
    soon = ReservationFactory(
        station=station, id_tag="04AA", expiry=EXPIRY, status="active", id_token=card
    )
    later = ReservationFactory(station=other, id_tag="04BB", expiry=EXPIRY + timedelta(days=1))

    assert ids(viewer.get(LIST, {"station": other.pk})) == [later.pk]
    assert ids(viewer.get(LIST, {"ocpp_id": "CS-DEMO-1"})) == [soon.pk]
    assert ids(viewer.get(LIST, {"status": "pending"})) == [later.pk]
    assert ids(viewer.get(LIST, {"id_tag": "04aa"})) == [soon.pk]
    assert ids(viewer.get(LIST, {"id_token": card.pk})) == [soon.pk]
    # Half-open: expiry_before leaves out the reservation expiring at that very moment.
    assert ids(
        viewer.get(
            LIST, {"expiry_after": "2030-01-01T00:00:00Z", "expiry_before": "2030-01-02T00:00:00Z"}
        )
    ) == [soon.pk]


@pytest.mark.django_db
def test_bad_filters_are_a_400(viewer, other_org):
    foreign = ChargingStationFactory(organization=other_org)
    for name, value in (("status", "maybe"), ("station", foreign.pk), ("expiry_after", "soon")):
        response = viewer.get(LIST, {name: value})
        assert (response.status_code, list(response.data)) == (400, [name])


@pytest.mark.django_db
def test_newest_reservations_come_first_and_expiry_orders_on_request(viewer, station):
    first = ReservationFactory(station=station, expiry=EXPIRY + timedelta(days=1))
    second = ReservationFactory(station=station, expiry=EXPIRY)
    assert ids(viewer.get(LIST)) == [second.pk, first.pk]
    assert ids(viewer.get(LIST, {"ordering": "expiry"})) == [second.pk, first.pk]
    assert ids(viewer.get(LIST, {"ordering": "-expiry"})) == [first.pk, second.pk]


@pytest.mark.django_db
def test_reservations_are_made_with_the_station_command_not_posted_here(operator):
    response = operator.post(LIST, {"id_tag": "04AA"}, format="json")
    assert response.status_code == 405


@pytest.mark.django_db
def test_an_outsider_neither_sees_nor_cancels_a_reservation(station, other_org):
    reservation = ReservationFactory(station=station, status="active")
    outsider = client_as(other_org, Role.OWNER)
    assert ids(outsider.get(LIST)) == []
    assert outsider.get(f"{LIST}{reservation.pk}/").status_code == 404
    assert outsider.post(cancel_url(reservation)).status_code == 404


# --- cancel ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "word"),
    [("pending", "pending"), ("used", "used"), ("cancelled", "cancelled"), ("expired", "expired")],
)
def test_cancelling_a_reservation_that_is_not_active_is_a_409(operator, station, status, word):
    reservation = ReservationFactory(station=station, status=status)
    response = operator.post(cancel_url(reservation))
    assert (response.status_code, response.data) == (
        409,
        {"detail": f"Only an active reservation can be cancelled; this one is {word}."},
    )
    assert not CommandLog.objects.exists()


@pytest.mark.django_db
def test_an_active_reservation_past_its_expiry_is_not_cancelled(operator, station):
    reservation = ReservationFactory(
        station=station, status="active", expiry=timezone.now() - timedelta(minutes=1)
    )
    response = operator.post(cancel_url(reservation))
    assert response.status_code == 409
    assert "expired" in response.data["detail"]


@pytest.mark.django_db
def test_a_viewer_may_not_cancel(viewer, station):
    reservation = ReservationFactory(station=station, status="active")
    assert viewer.post(cancel_url(reservation)).status_code == 403
    reservation.refresh_from_db()
    assert reservation.status == "active"


@pytest.mark.django_db(transaction=True)
def test_cancelling_on_an_offline_station_is_a_409_and_the_reservation_stays(operator, station):
    reservation = ReservationFactory(station=station, status="active")
    response = operator.post(cancel_url(reservation))
    assert (response.status_code, response.data) == (409, {"detail": "The station is offline."})
    reservation.refresh_from_db()
    assert reservation.status == "active"


class CancellingStation(Station):
    """A 1.6 station that answers CancelReservation as told and notes what it received."""

    answer = "Accepted"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = []

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id, **_):
        self.received.append(("CancelReservation", reservation_id))
        return call_result.CancelReservation(status=self.answer)


class RefusingStation(CancellingStation):
    answer = "Rejected"


def two_active_reservations(org):
    """The station holds two active reservations; the second one is to be cancelled."""
    station = ChargingStationFactory(organization=org, ocpp_id="CS-RES")
    ReservationFactory(station=station, status="active", expiry=EXPIRY)
    meant = ReservationFactory(station=station, status="active", expiry=EXPIRY)
    return meant, client_as(org, Role.OPERATOR)


async def test_cancel_sends_cancel_reservation_and_marks_it_cancelled(ocpp_server, org, db_call):
    reservation, operator = await db_call(two_active_reservations, org)
    async with connected_station(ocpp_server, "CS-RES", cls=CancellingStation) as cp:
        response = await in_thread(operator, "post", cancel_url(reservation))

    assert response.status_code == 200, response.data
    assert cp.received == [("CancelReservation", reservation.pk)]
    assert (response.data["command"], response.data["status"]) == ("cancel_reservation", "accepted")
    statuses = await db_call(
        lambda: dict(Reservation.objects.values_list("pk", "status").order_by("pk"))
    )
    assert statuses[reservation.pk] == "cancelled"
    assert sorted(statuses.values()) == ["active", "cancelled"]


async def test_a_cancel_the_station_rejects_is_200_rejected_and_keeps_the_reservation(
    ocpp_server, org, db_call
):
    reservation, operator = await db_call(two_active_reservations, org)
    async with connected_station(ocpp_server, "CS-RES", cls=RefusingStation):
        response = await in_thread(operator, "post", cancel_url(reservation))

    assert (response.status_code, response.data["status"]) == (200, "rejected")
    status = await db_call(lambda: Reservation.objects.get(pk=reservation.pk).status)
    assert status == "active"
