"""session_implausible: a session held for review opens an alert; a settled review resolves it."""

import pytest
from django.utils import timezone

from alerts.choices import RuleKind
from alerts.models import Alert
from core.events import emit
from sessions_app.events import SESSION_HELD_FOR_REVIEW
from sessions_app.services import correct_session, release_session, start_session, stop_session

IMPLAUSIBLE = RuleKind.SESSION_IMPLAUSIBLE


@pytest.fixture
def held_session(committed, station):
    """A session stopped with its meter below its start: held for review."""

    def hold():
        with committed():
            session = start_session(
                station, connector_number=1, id_tag="04A1B2C3", started_at=timezone.now(),
                meter_start=5_000,
            ).session  # fmt: skip
            stop_session(
                station,
                transaction_id=session.transaction_id,
                stopped_at=timezone.now(),
                meter_stop=1_000,
                reason="Local",
            )
        session.refresh_from_db()
        assert session.needs_review
        return session

    return hold


def test_a_session_held_for_review_opens_an_alert(
    org, station, make_rule, held_session, live_alerts
):
    rule = make_rule(org, IMPLAUSIBLE)
    session = held_session()
    [alert] = live_alerts(IMPLAUSIBLE, org)
    assert (alert.session, alert.station, alert.rule) == (session, station, rule)
    assert "below meter start" in alert.details["reason"]


def test_holding_the_same_session_again_counts_on_its_alert(
    org, make_rule, held_session, committed, live_alerts
):
    make_rule(org, IMPLAUSIBLE)
    session = held_session()
    with committed():
        # What billing announces when rating finds the session implausible as well.
        emit(
            SESSION_HELD_FOR_REVIEW,
            organization_id=org.pk,
            station_id=session.station_id,
            session_id=session.pk,
            reason="pricing failed",
        )
    [alert] = live_alerts(IMPLAUSIBLE, org)
    assert alert.occurrences == 2
    assert alert.details["reason"] == "pricing failed"


def test_releasing_the_session_resolves_its_alert(
    org, make_rule, held_session, admin_user, committed, live_alerts
):
    make_rule(org, IMPLAUSIBLE)
    session = held_session()
    with committed():
        release_session(session, user=admin_user)
    assert live_alerts(IMPLAUSIBLE) == []
    assert Alert.objects.get().resolved_at is not None


def test_correcting_the_session_resolves_its_alert(
    org, make_rule, held_session, admin_user, committed, live_alerts
):
    make_rule(org, IMPLAUSIBLE)
    session = held_session()
    with committed():
        correct_session(session, user=admin_user, meter_start=1_000, meter_stop=5_000)
    assert live_alerts(IMPLAUSIBLE) == []
