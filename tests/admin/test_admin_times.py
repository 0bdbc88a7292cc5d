"""Times in the Django admin: a row's datetimes in its organization's zone, with the zone named."""

from datetime import UTC, datetime

import pytest

from billing.models import Invoice
from core.timezones import format_in_zone, zone_named
from stations.models import StatusEvent
from tests.admin.helpers import admin_url, changeform_data
from tests.factories import ChargingSessionFactory, ChargingStationFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

# 12:05:09 UTC on a winter day: 13:05 in Berlin (CET), 07:05 in New York (EST).
MOMENT = datetime(2026, 12, 7, 12, 5, 9, tzinfo=UTC)
BERLIN = "2026-12-07 13:05:09 CET (Europe/Berlin)"
NEW_YORK = "2026-12-07 07:05:09 EST (America/New_York)"


@pytest.fixture
def berlin(db):
    return OrganizationFactory(name="Berlin GmbH", timezone="Europe/Berlin")


@pytest.fixture
def new_york(db):
    return OrganizationFactory(name="New York Inc", timezone="America/New_York")


def station_of(org, **fields):
    return ChargingStationFactory(organization=org, connectors=1, **fields)


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_format_in_zone_names_the_abbreviation_and_the_zone():
    assert format_in_zone(MOMENT, zone_named("Europe/Berlin")) == BERLIN
    assert format_in_zone(MOMENT, zone_named("America/New_York")) == NEW_YORK
    assert format_in_zone(MOMENT, UTC) == "2026-12-07 12:05:09 UTC"


def test_the_session_list_shows_each_rows_time_in_its_organizations_zone(
    superuser_client, berlin, new_york
):
    ChargingSessionFactory(station=station_of(berlin), start=MOMENT)
    ChargingSessionFactory(station=station_of(new_york), start=MOMENT)
    html = page(superuser_client, admin_url(ChargingSessionFactory._meta.model, "changelist"))
    assert BERLIN in html
    assert NEW_YORK in html


def test_a_sessions_read_only_start_is_shown_in_its_organizations_zone(superuser_client, berlin):
    session = ChargingSessionFactory(station=station_of(berlin), start=MOMENT)
    assert BERLIN in page(superuser_client, admin_url(session, "change"))


def test_a_stations_last_seen_is_shown_in_its_organizations_zone(superuser_client, new_york):
    station = station_of(new_york, last_seen=MOMENT)
    assert NEW_YORK in page(superuser_client, admin_url(station, "changelist"))
    assert NEW_YORK in page(superuser_client, admin_url(station, "change"))


def test_status_events_reach_their_zone_through_the_station(superuser_client, berlin):
    event = StatusEvent.objects.create(
        station=station_of(berlin), connector_number=0, status="Available", timestamp=MOMENT
    )
    assert BERLIN in page(superuser_client, admin_url(event, "changelist"))
    assert BERLIN in page(superuser_client, admin_url(event, "change"))


def test_an_invoices_issue_time_is_shown_in_its_organizations_zone(superuser_client, berlin):
    invoice = Invoice.objects.create(
        organization=berlin,
        number="INV-1",
        sequence=1,
        period_start=datetime(2026, 11, 1, tzinfo=UTC),
        period_end=datetime(2026, 12, 1, tzinfo=UTC),
        currency="EUR",
    )
    Invoice.objects.filter(pk=invoice.pk).update(issued_at=MOMENT)  # save() stamps "now"
    assert BERLIN in page(superuser_client, admin_url(invoice, "changelist"))
    # InvoiceAdmin overrides get_readonly_fields without super(): converted all the same.
    assert BERLIN in page(superuser_client, admin_url(invoice, "change"))


def test_an_organization_with_an_unknown_zone_shows_utc(superuser_client):
    org = OrganizationFactory(timezone="Nowhere/Special")
    session = ChargingSessionFactory(station=station_of(org), start=MOMENT)
    html = page(superuser_client, admin_url(session, "changelist"))
    assert "2026-12-07 12:05:09 UTC" in html


def test_the_converted_column_still_sorts(superuser_client, berlin):
    early = ChargingSessionFactory(
        station=station_of(berlin), start=datetime(2026, 1, 1, tzinfo=UTC)
    )
    late = ChargingSessionFactory(station=station_of(berlin), start=MOMENT)
    url = admin_url(early, "changelist")
    headers = superuser_client.get(url).context["cl"]
    column = next(
        index
        for index, name in enumerate(headers.list_display)
        if getattr(name, "__name__", name) == "start"
    )
    for order, expected in ((f"{column}", [early, late]), (f"-{column}", [late, early])):
        response = superuser_client.get(url, {"o": order})
        assert list(response.context["cl"].result_list) == expected


def test_the_session_change_form_still_saves_its_editable_fields(superuser_client, berlin):
    # The converted read-only times must not leak into the form: it still validates and saves.
    session = ChargingSessionFactory(station=station_of(berlin), start=MOMENT)
    url = admin_url(session, "change")
    data = changeform_data(superuser_client.get(url))
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors


def test_a_moment_no_local_calendar_holds_is_shown_in_utc():
    assert format_in_zone(datetime(1, 1, 1, tzinfo=UTC), zone_named("America/New_York")) == (
        "0001-01-01 00:00:00 UTC"
    )
    assert format_in_zone(
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC), zone_named("Europe/Berlin")
    ) == ("9999-12-31 23:59:00 UTC")
