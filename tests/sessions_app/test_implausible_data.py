"""Implausible stored times and meter registers: pages keep working, billing waits for a person."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import engine
from billing.models import ChargeDetailRecord, TariffAssignment
from billing.services import rate_session
from organizations.choices import Role
from sessions_app.models import ChargingSession
from sessions_app.services import stop_session
from tests.apiclients import client_as
from tests.factories import (
    ChargingSessionFactory,
    IdTokenFactory,
    MeterValueFactory,
    SiteFactory,
    TariffFactory,
    energy_elements,
)
from tests.portalclients import org_url, portal_client

pytestmark = pytest.mark.django_db

FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
FAR_PAST = datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC)
HOUR_AGO = timezone.now() - timedelta(hours=1)


@pytest.fixture
def tariff(org):
    tariff = TariffFactory(organization=org, elements=energy_elements("0.4641"), tax_rate="0")
    TariffAssignment.objects.create(organization=org, tariff=tariff, scope="organization")
    return tariff


def finished(station, **fields):
    """A completed session on `station` (an hour long unless told)."""
    fields.setdefault("start", HOUR_AGO)
    if "stop" not in fields:
        fields["stop"] = fields["start"] + timedelta(hours=1)
    return ChargingSessionFactory(station=station, state="completed", **fields)


def test_far_future_and_far_past_rows_break_no_page_api_csv_admin_or_pricing(
    org, station, superuser_client, settings
):
    # East of UTC, 9999-12-31T23:59Z is year 10000; west of it, 0001-01-01 is year 0.
    settings.TIME_ZONE = "Europe/Berlin"  # the admin's zone
    org.timezone = "America/New_York"
    org.save()
    site = SiteFactory(organization=org)
    station.site = site
    station.save()
    connector = station.connectors.order_by("connector_id").first()
    connector.status_at = FAR_FUTURE
    connector.save()
    card = IdTokenFactory(organization=org)
    future = finished(station, start=FAR_FUTURE, stop=FAR_FUTURE, id_token=card, energy_wh=5)
    past = finished(station, start=FAR_PAST, stop=FAR_FUTURE, id_token=card, meter_stop=5)
    MeterValueFactory(session=future, timestamp=FAR_PAST)
    MeterValueFactory(session=past, timestamp=FAR_FUTURE)
    portal, api = portal_client(org, Role.ADMIN), client_as(org, Role.ADMIN)
    pages = [
        "sessions/", "sessions/table/", "sessions/export.csv", f"sessions/{future.pk}/",
        f"sessions/{past.pk}/", "analytics/", f"sites/{site.pk}/sessions/",
        f"sites/{site.pk}/analytics/", f"sites/{site.pk}/", f"sites/{site.pk}/sheet/", "sites/",
        "cards/", f"cards/{card.pk}/", f"stations/{station.pk}/", "stations/", "",
        "running-sessions/", "billing/cdrs/", "billing/invoices/",
    ]  # fmt: skip
    answers = {}
    for page in pages:
        response = portal.get(org_url(org, page))
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        answers[page] = response.status_code
    for path in [
        "/api/v1/sessions/", f"/api/v1/sessions/{future.pk}/", f"/api/v1/sessions/{past.pk}/",
        "/api/v1/sessions/?format=csv", f"/api/v1/sessions/{future.pk}/meter-values/",
        "/api/v1/analytics/", "/api/v1/charge-detail-records/",
    ]:  # fmt: skip
        answers[path] = api.get(path).status_code
    for path in [
        "/admin/sessions_app/chargingsession/",
        f"/admin/sessions_app/chargingsession/{future.pk}/change/",
        f"/admin/sessions_app/chargingsession/{past.pk}/change/",
        "/admin/sessions_app/metervalue/",
    ]:
        answers[path] = superuser_client.get(path).status_code

    assert {path: status for path, status in answers.items() if status != 200} == {}
    assert (rate_session(future.pk), rate_session(past.pk)) == (None, None)
    assert ChargingSession.objects.filter(needs_review=True).count() == 2


def test_negative_and_decreasing_registers_hold_the_session_unbilled(org, station, tariff):
    session = ChargingSessionFactory(station=station, start=HOUR_AGO, meter_start=-1_000_000_000)

    stop_session(
        station,
        transaction_id=session.transaction_id,
        stopped_at=HOUR_AGO + timedelta(minutes=30),
        meter_stop=0,
        reason="Local",
    )

    session.refresh_from_db()
    assert session.needs_review
    assert "meter start is negative" in session.review_reason
    assert rate_session(session.pk) is None
    assert not ChargeDetailRecord.objects.exists()
    assert ChargingSession.objects.ratable().count() == 0


def test_a_stored_1970_to_2099_session_is_held_for_review_instead_of_crashing_pricing(
    org, station, tariff
):
    session = finished(
        station,
        start=datetime(1970, 1, 1, tzinfo=UTC),
        stop=datetime(2099, 12, 31, tzinfo=UTC),
        meter_stop=10_000,
        energy_wh=10_000,
    )

    assert rate_session(session.pk) is None

    session.refresh_from_db()
    assert (session.needs_review, "more than plausible" in session.review_reason) == (True, True)


def test_a_released_1970_to_2099_session_is_priced_or_held_but_never_raises(org, station, tariff):
    session = finished(
        station,
        start=datetime(1970, 1, 1, tzinfo=UTC),
        stop=datetime(2099, 12, 31, tzinfo=UTC),
        meter_stop=10_000,
        energy_wh=10_000,
        review_outcome="released",
    )

    cdr = rate_session(session.pk)

    session.refresh_from_db()
    # 4.1 billion seconds fit SQLite's integers (priced) but not PostgreSQL's (held).
    if cdr is None:
        assert session.needs_review and session.review_reason.startswith("Pricing failed")
    else:
        assert (cdr.total_incl_tax, session.needs_review) == (Decimal("4.64"), False)


def test_a_pricing_failure_is_recorded_as_needs_review_not_raised(
    org, station, tariff, monkeypatch
):
    session = finished(station, meter_stop=10_000, energy_wh=10_000)

    def broken(*args, **kwargs):
        raise ArithmeticError("boom")

    monkeypatch.setattr("billing.services.price_session", broken)

    assert rate_session(session.pk) is None
    session.refresh_from_db()
    assert (session.needs_review, session.review_reason) == (True, "Pricing failed: boom")


def test_release_rates_the_held_session_as_recorded_and_keeps_who_and_when(
    org, station, tariff, eager_celery, django_capture_on_commit_callbacks
):
    session = finished(station, meter_stop=10_000, energy_wh=10_000, needs_review=True)
    operator = client_as(org, Role.OPERATOR)

    with django_capture_on_commit_callbacks(execute=True):
        answer = operator.post(f"/api/v1/sessions/{session.pk}/release/")

    assert answer.status_code == 200, answer.data
    assert (answer.data["needs_review"], answer.data["review_outcome"]) == (False, "released")
    assert answer.data["reviewed_by"] and answer.data["reviewed_at"]
    cdr = ChargeDetailRecord.objects.get(session=session)
    assert cdr.total_incl_tax == Decimal("4.64")


def test_correct_sets_the_registers_keeps_the_old_ones_and_rates_the_corrected_energy(
    org, station, tariff, eager_celery, django_capture_on_commit_callbacks
):
    session = finished(
        station, meter_start=-1_000_000_000, meter_stop=0, energy_wh=1_000_000_000,
        needs_review=True,
    )  # fmt: skip
    operator = client_as(org, Role.OPERATOR)

    with django_capture_on_commit_callbacks(execute=True):
        answer = operator.post(
            f"/api/v1/sessions/{session.pk}/correct/",
            {"meter_start": 0, "meter_stop": 20_000},
            format="json",
        )

    assert answer.status_code == 200, answer.data
    assert (answer.data["energy_wh"], answer.data["review_outcome"]) == (20_000, "corrected")
    was = {c["field"]: c["was"] for c in answer.data["corrections"]}
    assert was == {"meter_start": -1_000_000_000, "meter_stop": 0}
    assert ChargeDetailRecord.objects.get(session=session).total_incl_tax == Decimal("9.28")


def test_a_viewer_may_not_release_and_an_outsider_sees_no_session(org, other_org, station):
    session = finished(station, needs_review=True)

    viewer = client_as(org, Role.VIEWER).post(f"/api/v1/sessions/{session.pk}/release/")
    outsider = client_as(other_org, Role.OWNER)
    released = outsider.post(f"/api/v1/sessions/{session.pk}/release/")
    corrected = outsider.post(
        f"/api/v1/sessions/{session.pk}/correct/", {"meter_start": 0, "meter_stop": 1}
    )
    portal = portal_client(other_org, Role.OWNER).post(
        org_url(other_org, f"sessions/{session.pk}/review/"), {"action": "release"}
    )

    assert (viewer.status_code, released.status_code, corrected.status_code) == (403, 404, 404)
    assert portal.status_code == 404
    session.refresh_from_db()
    assert (session.needs_review, session.review_outcome) == (True, "")


def test_releasing_a_session_not_held_is_a_conflict(org, station):
    session = finished(station)

    answer = client_as(org, Role.OPERATOR).post(f"/api/v1/sessions/{session.pk}/release/")

    assert answer.status_code == 409


def test_the_portal_shows_the_flag_and_its_release_button_releases(
    org, station, tariff, eager_celery, django_capture_on_commit_callbacks
):
    session = finished(
        station, meter_stop=10_000, energy_wh=10_000, needs_review=True, review_reason="odd"
    )
    operator = portal_client(org, Role.OPERATOR)

    page = operator.get(org_url(org, f"sessions/{session.pk}/"))
    listed = operator.get(org_url(org, "sessions/"))
    with django_capture_on_commit_callbacks(execute=True):
        operator.post(org_url(org, f"sessions/{session.pk}/review/"), {"action": "release"})

    assert b"Held for review" in page.content and b"Release for billing" in page.content
    assert b"Needs review" in listed.content
    session.refresh_from_db()
    assert (session.needs_review, session.review_outcome) == (False, "released")
    assert ChargeDetailRecord.objects.filter(session=session).exists()


def test_the_admin_release_action_releases_held_sessions(org, station, superuser_client):
    session = finished(station, needs_review=True)

    superuser_client.post(
        "/admin/sessions_app/chargingsession/",
        {"action": "release_for_billing", "_selected_action": [session.pk]},
    )

    session.refresh_from_db()
    assert (session.needs_review, session.review_outcome) == (False, "released")


def test_ratable_leaves_out_running_and_held_sessions(org, station):
    ready = finished(station)
    finished(station, needs_review=True)
    ChargingSessionFactory(station=station, state="active")

    assert list(ChargingSession.objects.ratable()) == [ready]


def test_an_element_without_clock_restrictions_prices_a_century_without_walking_its_days():
    usage = engine.Usage(
        start=datetime(1970, 1, 1, tzinfo=UTC),
        stop=datetime(2099, 12, 31, tzinfo=UTC),
        meter_start_wh=0,
        meter_stop_wh=1000,
        readings=(),
        time_zone="Europe/Berlin",
    )
    tariff = engine.TariffDefinition(
        currency="EUR", tax_rate=Decimal(0), elements=engine.parse_elements(energy_elements("1"))
    )

    assert engine.price_session(tariff, usage).total_incl_tax == Decimal("1.00")
