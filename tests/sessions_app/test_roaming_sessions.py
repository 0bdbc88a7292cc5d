"""Sessions of roaming partners' customers: by a partner's token or its remote start, billable."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from roaming.models import RoamingPartner
from sessions_app.authorization import (
    AuthorizationResult,
    register_authorizer,
    unregister_authorizer,
)
from sessions_app.choices import AuthMethod, AuthorizationStatus, ReservationStatus
from sessions_app.services import (
    TransactionEventReport,
    record_transaction_event,
    request_remote_start,
    reserve_for_partner,
    start_session,
)
from tests.factories import ChargingStationFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
ROAMING_UID = "04DD00112233"


def partner_of(organization, party_id="MSP") -> RoamingPartner:
    return RoamingPartner.objects.create(
        organization=organization, name=party_id, country_code="NL", party_id=party_id
    )


@pytest.fixture
def station(org):
    return ChargingStationFactory(organization=org)


@pytest.fixture
def partner(org):
    return partner_of(org)


@pytest.fixture
def partner_token(partner):
    """An authorizer standing in for roaming's: ROAMING_UID is the partner's customer's."""
    answers = {"status": AuthorizationStatus.ACCEPTED}

    def authorizer(station, uid, *, for_start, connector):
        if uid != ROAMING_UID:
            return None
        return AuthorizationResult(
            status=answers["status"], roaming_partner_id=partner.pk, authorization_reference="R-1"
        )

    register_authorizer(authorizer)
    yield answers
    unregister_authorizer(authorizer)


def start(station, id_tag=ROAMING_UID):
    return start_session(
        station, connector_number=1, id_tag=id_tag, started_at=T0, meter_start=0
    ).session


def test_a_partners_token_makes_a_billable_session_of_its_customer(station, partner, partner_token):
    session = start(station)
    assert (session.roaming_partner, session.auth_method) == (partner, AuthMethod.ROAMING)
    assert (session.billable, session.authorization_reference) == (True, "R-1")


def test_a_partners_remote_start_leads_to_a_billable_roaming_session(
    station, partner, partner_token
):
    remote = request_remote_start(station, id_tag=ROAMING_UID, roaming_partner=partner)
    session = start(station)
    remote.refresh_from_db()
    assert remote.session == session
    assert (session.roaming_partner, session.auth_method) == (partner, AuthMethod.ROAMING)
    assert session.billable is True


def test_a_partners_remote_start_the_token_is_refused_for_is_not_billed(
    station, partner, partner_token
):
    partner_token["status"] = AuthorizationStatus.BLOCKED
    request_remote_start(station, id_tag=ROAMING_UID, roaming_partner=partner)
    session = start(station)
    assert (session.roaming_partner, session.billable) == (partner, False)


def test_an_operators_remote_start_stays_free(station, partner_token):
    request_remote_start(station, id_tag=ROAMING_UID)
    session = start(station)
    assert (session.auth_method, session.billable) == (AuthMethod.REMOTE, False)


def test_a_201_remote_start_named_later_makes_the_transaction_the_partners(
    station, partner, partner_token
):
    remote = request_remote_start(station, id_tag=ROAMING_UID, roaming_partner=partner)
    common = {"transaction_id": "TX-R", "connector_number": 1, "payload": {}}
    # The cable first (no token), then the event that names the remote start and the token.
    record_transaction_event(
        station,
        TransactionEventReport(
            event_type="Started", seq_no=0, timestamp=T0, trigger_reason="CablePluggedIn", **common
        ),
    )
    outcome = record_transaction_event(
        station,
        TransactionEventReport(
            event_type="Updated",
            seq_no=1,
            timestamp=T0 + timedelta(minutes=1),
            trigger_reason="RemoteStart",
            id_tag=ROAMING_UID,
            remote_start_id=remote.pk,
            **common,
        ),
    )
    session = outcome.session
    session.refresh_from_db()
    assert (session.roaming_partner, session.auth_method) == (partner, AuthMethod.ROAMING)
    assert (session.billable, session.authorization_reference) == (True, "R-1")


def test_a_partners_reservation_id_again_replaces_its_reservation(station, partner, org):
    expiry = timezone.now() + timedelta(hours=1)
    first = reserve_for_partner(
        station, roaming_partner=partner, partner_reservation_id="R1", id_tag="a1", expiry=expiry
    )
    again = reserve_for_partner(
        station,
        roaming_partner=partner,
        partner_reservation_id="R1",
        id_tag="a2",
        expiry=expiry + timedelta(hours=1),
    )
    rival = reserve_for_partner(
        station,
        roaming_partner=partner_of(org, "XYZ"),
        partner_reservation_id="R1",
        id_tag="a1",
        expiry=expiry,
    )
    assert first.pk == again.pk != rival.pk
    again.refresh_from_db()
    assert (again.id_tag, again.status) == ("A2", ReservationStatus.PENDING)
