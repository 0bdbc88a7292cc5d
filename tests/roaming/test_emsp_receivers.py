"""OCPI 2.2.1 receivers of our eMSP role: locations, sessions, CDRs, tariffs pushed by CPOs.

Through Django's test client with the partner's token: validation, idempotency, isolation.
"""

import json
from decimal import Decimal

import pytest

from roaming.models import PartnerCdr, PartnerLocation, PartnerSession, PartnerTariff
from roaming.ocpi.v221 import schemas
from tests.factories import IdTokenFactory, OrganizationFactory
from tests.roaming.emsp_objects import (
    auth,
    cdr,
    cdr_token,
    charging_period,
    connector,
    cpo_partner,
    emsp_profile,
    evse,
    fresh_cache,  # noqa: F401
    location,
    session,
    tariff,
    url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

LATER = "2026-03-02T12:00:00Z"


@pytest.fixture
def emsp(org):
    emsp_profile(org)
    return org


@pytest.fixture
def partner(emsp):
    return cpo_partner(emsp)


def send(client, method, organization, path, body=None, token=None):
    kwargs = auth(token) if token else auth()
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method.lower())(url(organization, path), **kwargs)


def ocpi(response) -> tuple[int, int]:
    """(HTTP status, OCPI status code) of an answer."""
    return response.status_code, response.json()["status_code"]


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("Location", location),
        ("EVSE", evse),
        ("Connector", connector),
        ("Session", session),
        ("CDR", cdr),
        ("Tariff", tariff),
    ],
)
def test_the_objects_these_tests_send_are_valid_ocpi(name, build):
    assert schemas.errors(name, build()) == []


# --- locations ------------------------------------------------------------------------------


def test_a_pushed_location_is_stored_with_its_columns_and_answered_201(client, emsp, partner):
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    assert ocpi(response) == (201, 1000)
    stored = PartnerLocation.objects.get()
    assert (stored.organization, stored.partner) == (emsp, partner)
    assert (stored.country_code, stored.party_id, stored.ocpi_id) == ("DE", "CPO", "LOC1")
    assert (stored.name, stored.city, stored.country) == ("Marktplatz", "Köln", "DEU")
    assert len(stored.data["evses"]) == 2


def test_a_location_pushed_again_updates_the_same_row_and_answers_200(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    again = send(
        client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location(name="Dom", last_updated=LATER)
    )
    assert ocpi(again) == (200, 1000)
    assert list(PartnerLocation.objects.values_list("name", flat=True)) == ["Dom"]


def test_an_evse_put_replaces_that_evse_in_the_location_and_stamps_the_location(
    client, emsp, partner
):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    changed = evse("EVSE-2", status="OUTOFORDER", last_updated=LATER)
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-2", changed)
    assert ocpi(response) == (200, 1000)
    stored = PartnerLocation.objects.get()
    assert [e["status"] for e in stored.data["evses"]] == ["AVAILABLE", "OUTOFORDER"]
    assert stored.data["last_updated"] == LATER
    assert stored.last_updated.isoformat() == "2026-03-02T12:00:00+00:00"


def test_an_evse_put_of_a_new_evse_adds_it_and_answers_201(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-3", evse("EVSE-3"))
    assert ocpi(response) == (201, 1000)
    uids = [e["uid"] for e in PartnerLocation.objects.get().data["evses"]]
    assert uids == ["EVSE-1", "EVSE-2", "EVSE-3"]


def test_an_evse_put_for_a_location_we_do_not_have_is_unknown_location(client, emsp, partner):
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/NOPE/EVSE-1", evse("EVSE-1"))
    assert ocpi(response) == (404, 2003)
    assert not PartnerLocation.objects.exists()


def test_an_evse_whose_uid_differs_from_the_url_is_invalid(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-2", evse("EVSE-9"))
    assert ocpi(response) == (400, 2001)


def test_a_connector_put_replaces_it_and_stamps_its_evse_and_location(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    changed = connector(max_electric_power=11000, last_updated=LATER)
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-1/1", changed)
    assert ocpi(response) == (200, 1000)
    data = PartnerLocation.objects.get().data
    first = data["evses"][0]
    assert first["connectors"][0]["max_electric_power"] == 11000
    assert first["last_updated"] == data["last_updated"] == LATER
    assert data["evses"][1]["last_updated"] != LATER


def test_a_connector_put_on_an_unknown_evse_is_unknown_location(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-9/1", connector())
    assert ocpi(response) == (404, 2003)


def test_a_patch_without_last_updated_is_refused_with_2001(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    response = send(
        client, "PATCH", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-1", {"status": "CHARGING"}
    )
    assert ocpi(response) == (400, 2001)
    assert PartnerLocation.objects.get().data["evses"][0]["status"] == "AVAILABLE"


def test_an_evse_patch_merges_its_fields_and_keeps_the_rest(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    patch = {"status": "CHARGING", "last_updated": LATER}
    response = send(client, "PATCH", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-1", patch)
    assert ocpi(response) == (200, 1000)
    stored = PartnerLocation.objects.get()
    first = stored.data["evses"][0]
    assert (first["status"], first["evse_id"], len(first["connectors"])) == (
        "CHARGING",
        "DE*CPO*E1",
        1,
    )
    assert stored.data["last_updated"] == LATER


def test_a_location_patch_naming_one_evse_keeps_the_others(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    patch = {"name": "Neumarkt", "evses": [{"uid": "EVSE-2", "status": "BLOCKED"}]}
    patch["last_updated"] = LATER
    response = send(client, "PATCH", emsp, "emsp/locations/DE/CPO/LOC1", patch)
    assert ocpi(response) == (200, 1000)
    stored = PartnerLocation.objects.get()
    assert stored.name == "Neumarkt"
    assert [(e["uid"], e["status"]) for e in stored.data["evses"]] == [
        ("EVSE-1", "AVAILABLE"),
        ("EVSE-2", "BLOCKED"),
    ]


def test_a_patch_of_a_location_we_do_not_have_is_unknown_location(client, emsp, partner):
    patch = {"name": "Neumarkt", "last_updated": LATER}
    response = send(client, "PATCH", emsp, "emsp/locations/DE/CPO/NOPE", patch)
    assert ocpi(response) == (404, 2003)


def test_a_patch_that_breaks_the_location_is_refused_and_nothing_changes(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    patch = {"status": "SLEEPING", "last_updated": LATER}
    response = send(client, "PATCH", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-1", patch)
    assert ocpi(response) == (400, 2001)
    assert PartnerLocation.objects.get().data["evses"][0]["status"] == "AVAILABLE"


def test_get_returns_the_location_an_evse_or_a_connector(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    whole = send(client, "GET", emsp, "emsp/locations/DE/CPO/LOC1").json()["data"]
    one = send(client, "GET", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-2").json()["data"]
    plug = send(client, "GET", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-2/1").json()["data"]
    assert (whole["id"], one["uid"], plug["id"]) == ("LOC1", "EVSE-2", "1")
    missing = send(client, "GET", emsp, "emsp/locations/DE/CPO/LOC1/EVSE-2/7")
    assert ocpi(missing) == (404, 2003)


def test_a_location_whose_id_differs_from_the_url_is_invalid(client, emsp, partner):
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC2", location("LOC1"))
    assert ocpi(response) == (400, 2001)
    assert not PartnerLocation.objects.exists()


def test_a_location_owned_by_another_party_than_the_url_is_invalid(client, emsp, partner):
    body = location(party=("DE", "XYZ"))
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", body)
    assert ocpi(response) == (400, 2001)


def test_an_invalid_location_is_refused_with_2001(client, emsp, partner):
    body = location(coordinates={"latitude": "north", "longitude": "6.9"})
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", body)
    assert ocpi(response) == (400, 2001)
    assert not PartnerLocation.objects.exists()


def test_a_partner_cannot_push_for_a_party_it_does_not_speak_for(client, emsp, partner):
    body = location(party=("FR", "TTT"))
    response = send(client, "PUT", emsp, "emsp/locations/FR/TTT/LOC1", body)
    assert response.status_code == 403
    assert not PartnerLocation.objects.exists()


def test_a_partner_cannot_read_another_partners_location(client, emsp, partner):
    cpo_partner(emsp, token="second-cpo-token-0123456789", party=("FR", "TTT"))
    send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    other = auth("second-cpo-token-0123456789")
    response = client.get(url(emsp, "emsp/locations/DE/CPO/LOC1"), **other)
    assert response.status_code == 403
    assert "Marktplatz" not in response.content.decode()


def test_the_receivers_are_closed_while_we_do_not_play_the_emsp_role(client, emsp, partner):
    emsp.roaming_profile.emsp_enabled = False
    emsp.roaming_profile.save()
    response = send(client, "PUT", emsp, "emsp/locations/DE/CPO/LOC1", location())
    assert ocpi(response) == (404, 2000)
    assert not PartnerLocation.objects.exists()


def test_a_partner_token_opens_nothing_of_another_organization(client, emsp, partner):
    outsider = OrganizationFactory(slug="outsider-msp")
    response = send(client, "PUT", outsider, "emsp/locations/DE/CPO/LOC1", location())
    assert response.status_code == 401
    assert not PartnerLocation.objects.exists()


# --- sessions -------------------------------------------------------------------------------


def test_a_pushed_session_is_stored_and_linked_to_our_card(client, emsp, partner):
    card = IdTokenFactory(organization=emsp, uid="04A1B2C3D4E5F6", roaming=True)
    response = send(client, "PUT", emsp, "emsp/sessions/DE/CPO/S1", session())
    assert ocpi(response) == (201, 1000)
    stored = PartnerSession.objects.get()
    assert (stored.id_token, stored.token_uid, stored.status) == (card, "04A1B2C3D4E5F6", "ACTIVE")
    assert (stored.kwh, stored.total_cost_incl_vat) == (Decimal("5"), Decimal("1.79"))
    assert (stored.location_id, stored.currency) == ("LOC1", "EUR")


def test_a_session_pushed_again_updates_it_and_its_periods_are_replaced(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/sessions/DE/CPO/S1", session())
    again = session(
        kwh=9.0,
        status="COMPLETED",
        end_date_time=LATER,
        charging_periods=[charging_period(start="2026-03-02T11:00:00Z", kwh=9.0)],
        last_updated=LATER,
    )
    response = send(client, "PUT", emsp, "emsp/sessions/DE/CPO/S1", again)
    assert ocpi(response) == (200, 1000)
    stored = PartnerSession.objects.get()
    assert (stored.kwh, stored.status, stored.end.isoformat()) == (
        Decimal("9"),
        "COMPLETED",
        "2026-03-02T12:00:00+00:00",
    )
    starts = [p["start_date_time"] for p in stored.data["charging_periods"]]
    assert starts == ["2026-03-02T11:00:00Z"]


def test_a_session_patch_adds_its_charging_periods_to_the_stored_ones(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/sessions/DE/CPO/S1", session())
    patch = {
        "kwh": 8.0,
        "charging_periods": [charging_period(start="2026-03-02T10:30:00Z", kwh=3.0)],
        "last_updated": LATER,
    }
    response = send(client, "PATCH", emsp, "emsp/sessions/DE/CPO/S1", patch)
    assert ocpi(response) == (200, 1000)
    # The same PATCH again (an answer lost on the way back) adds nothing twice.
    send(client, "PATCH", emsp, "emsp/sessions/DE/CPO/S1", patch)
    stored = PartnerSession.objects.get()
    starts = [p["start_date_time"] for p in stored.data["charging_periods"]]
    assert starts == ["2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"]
    assert stored.kwh == Decimal("8")
    assert stored.data["cdr_token"]["uid"] == "04A1B2C3D4E5F6"


def test_a_session_patch_without_periods_keeps_them(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/sessions/DE/CPO/S1", session())
    patch = {"status": "COMPLETED", "charging_periods": [], "last_updated": LATER}
    send(client, "PATCH", emsp, "emsp/sessions/DE/CPO/S1", patch)
    stored = PartnerSession.objects.get()
    assert stored.status == "COMPLETED"
    assert len(stored.data["charging_periods"]) == 1


def test_a_session_patch_without_last_updated_is_refused(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/sessions/DE/CPO/S1", session())
    response = send(client, "PATCH", emsp, "emsp/sessions/DE/CPO/S1", {"kwh": 8.0})
    assert ocpi(response) == (400, 2001)
    assert PartnerSession.objects.get().kwh == Decimal("5")


def test_a_patch_of_a_session_we_do_not_have_is_404(client, emsp, partner):
    patch = {"kwh": 8.0, "last_updated": LATER}
    response = send(client, "PATCH", emsp, "emsp/sessions/DE/CPO/NOPE", patch)
    assert response.status_code == 404
    assert not PartnerSession.objects.exists()


def test_a_card_of_another_organization_is_never_linked(client, emsp, partner, other_org):
    IdTokenFactory(organization=other_org, uid="04A1B2C3D4E5F6", roaming=True)
    send(client, "PUT", emsp, "emsp/sessions/DE/CPO/S1", session())
    stored = PartnerSession.objects.get()
    assert (stored.id_token, stored.token_uid) == (None, "04A1B2C3D4E5F6")


def test_a_token_another_emsp_issued_is_not_taken_for_our_card(client, emsp, partner):
    IdTokenFactory(organization=emsp, uid="04A1B2C3D4E5F6", roaming=True)
    body = session(cdr_token=cdr_token(party=("BE", "OTH")))
    send(client, "PUT", emsp, "emsp/sessions/DE/CPO/S1", body)
    assert PartnerSession.objects.get().id_token is None


def test_get_returns_a_stored_session_and_404_for_another(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/sessions/DE/CPO/S1", session())
    found = send(client, "GET", emsp, "emsp/sessions/DE/CPO/S1")
    assert found.json()["data"]["id"] == "S1"
    assert send(client, "GET", emsp, "emsp/sessions/DE/CPO/S2").status_code == 404


def test_a_session_whose_id_differs_from_the_url_is_invalid(client, emsp, partner):
    response = send(client, "PUT", emsp, "emsp/sessions/DE/CPO/S2", session("S1"))
    assert ocpi(response) == (400, 2001)


# --- CDRs -----------------------------------------------------------------------------------


def test_a_posted_cdr_is_stored_and_answered_201_with_where_to_get_it(client, emsp, partner):
    card = IdTokenFactory(organization=emsp, uid="04A1B2C3D4E5F6", roaming=True)
    response = send(client, "POST", emsp, "emsp/cdrs/", cdr())
    assert ocpi(response) == (201, 1000)
    stored = PartnerCdr.objects.get()
    assert (stored.id_token, stored.session_id, stored.location_name) == (card, "S1", "Marktplatz")
    assert (stored.kwh, stored.total_cost_excl_vat, stored.total_cost_incl_vat) == (
        Decimal("12.5"),
        Decimal("5.25"),
        Decimal("6.25"),
    )
    location_header = response["Location"]
    assert location_header.endswith("/ocpi/stadtwerke-demo/2.2.1/emsp/cdrs/DE/CPO/CDR1")
    path = location_header[location_header.index("/ocpi/") :]
    fetched = client.get(path, **auth())
    assert fetched.json()["data"]["id"] == "CDR1"


def test_a_cdr_posted_again_changes_nothing_and_answers_success(client, emsp, partner):
    send(client, "POST", emsp, "emsp/cdrs/", cdr())
    changed = cdr(total_cost={"excl_vat": 99.0, "incl_vat": 117.81}, last_updated=LATER)
    response = send(client, "POST", emsp, "emsp/cdrs/", changed)
    assert ocpi(response) == (200, 1000)
    stored = PartnerCdr.objects.get()
    assert stored.total_cost_incl_vat == Decimal("6.25")
    assert response["Location"].endswith("/emsp/cdrs/DE/CPO/CDR1")


def test_a_cdr_of_a_party_the_partner_does_not_speak_for_is_refused(client, emsp, partner):
    response = send(client, "POST", emsp, "emsp/cdrs/", cdr(party=("FR", "TTT")))
    assert response.status_code == 403
    assert not PartnerCdr.objects.exists()


def test_an_invalid_cdr_is_refused_with_2001(client, emsp, partner):
    body = cdr()
    del body["total_cost"]
    response = send(client, "POST", emsp, "emsp/cdrs/", body)
    assert ocpi(response) == (400, 2001)
    assert not PartnerCdr.objects.exists()


def test_a_partner_cannot_get_another_partners_cdr(client, emsp, partner):
    cpo_partner(emsp, token="second-cpo-token-0123456789", party=("FR", "TTT"))
    send(client, "POST", emsp, "emsp/cdrs/", cdr())
    other = auth("second-cpo-token-0123456789")
    assert client.get(url(emsp, "emsp/cdrs/DE/CPO/CDR1"), **other).status_code == 403
    assert client.get(url(emsp, "emsp/cdrs/FR/TTT/CDR1"), **other).status_code == 404


def test_a_body_that_is_not_json_is_refused_with_2001(client, emsp, partner):
    response = client.post(
        url(emsp, "emsp/cdrs/"), data="{not json", content_type="application/json", **auth()
    )
    assert ocpi(response) == (400, 2001)


# --- tariffs --------------------------------------------------------------------------------


def test_a_tariff_is_stored_updated_read_and_deleted(client, emsp, partner):
    assert ocpi(send(client, "PUT", emsp, "emsp/tariffs/DE/CPO/T1", tariff())) == (201, 1000)
    changed = tariff(currency="CHF", last_updated=LATER)
    assert ocpi(send(client, "PUT", emsp, "emsp/tariffs/DE/CPO/T1", changed)) == (200, 1000)
    assert PartnerTariff.objects.get().currency == "CHF"
    read = send(client, "GET", emsp, "emsp/tariffs/DE/CPO/T1").json()["data"]
    assert read["currency"] == "CHF"
    assert ocpi(send(client, "DELETE", emsp, "emsp/tariffs/DE/CPO/T1")) == (200, 1000)
    assert not PartnerTariff.objects.exists()
    assert send(client, "DELETE", emsp, "emsp/tariffs/DE/CPO/T1").status_code == 404


def test_a_tariff_whose_id_differs_from_the_url_is_invalid(client, emsp, partner):
    response = send(client, "PUT", emsp, "emsp/tariffs/DE/CPO/T2", tariff("T1"))
    assert ocpi(response) == (400, 2001)
    assert not PartnerTariff.objects.exists()


def test_tariffs_have_no_patch_in_2_2_1(client, emsp, partner):
    send(client, "PUT", emsp, "emsp/tariffs/DE/CPO/T1", tariff())
    response = send(
        client, "PATCH", emsp, "emsp/tariffs/DE/CPO/T1", {"currency": "CHF", "last_updated": LATER}
    )
    assert response.status_code == 405
    assert PartnerTariff.objects.get().currency == "EUR"
