"""OCPI 2.2.1 versions and credentials between two instances of our roaming module, over HTTP."""

import base64
import json as jsonlib

import pytest
import requests
from django.urls import resolve

from roaming.choices import Direction, Module, PartnerStatus
from roaming.models import OcpiExchange
from roaming.ocpi import registration, tokens
from tests.roaming.conftest import make_partner, make_profile


def call(url, token, *, method="GET", encode=True, json=None):
    value = base64.b64encode(token.encode()).decode() if encode else token
    return requests.request(
        method, url, headers={"Authorization": f"Token {value}"}, json=json, timeout=10
    )


def response_status(response) -> int:
    return jsonlib.loads(response.content)["status_code"]


def test_registration_exchanges_tokens_and_endpoints_both_ways(ocpi_pair):
    cpo_side, emsp_side = ocpi_pair.emsp_at_cpo, ocpi_pair.cpo_at_emsp
    # Each side calls the other with the token the other issued: ours are stored as hashes.
    assert tokens.token_hash(emsp_side.credentials_token) == cpo_side.incoming_token_hash
    assert tokens.token_hash(cpo_side.credentials_token) == emsp_side.incoming_token_hash
    assert cpo_side.version == emsp_side.version == "2.2.1"
    assert cpo_side.endpoint(Module.TOKENS, "SENDER").endswith(
        "/ocpi/mobility-nl/2.2.1/emsp/tokens/"
    )
    assert emsp_side.endpoint(Module.LOCATIONS, "SENDER").endswith(
        "/ocpi/stadtwerke-cpo/2.2.1/cpo/locations/"
    )
    assert [r["role"] for r in cpo_side.roles] == ["CPO", "EMSP"]


def test_version_details_list_the_modules_of_both_roles(ocpi_pair, live_server):
    token = ocpi_pair.cpo_at_emsp.credentials_token
    answer = call(f"{live_server.url}/ocpi/stadtwerke-cpo/2.2.1/", token).json()
    assert answer["status_code"] == 1000
    listed = {(e["identifier"], e["role"]) for e in answer["data"]["endpoints"]}
    assert ("locations", "SENDER") in listed
    assert ("tokens", "RECEIVER") in listed
    assert ("cdrs", "RECEIVER") in listed


def test_a_token_is_accepted_base64_encoded_and_plain(ocpi_pair, live_server):
    token = ocpi_pair.cpo_at_emsp.credentials_token
    url = f"{live_server.url}/ocpi/stadtwerke-cpo/versions"
    assert call(url, token, encode=True).status_code == 200
    assert call(url, token, encode=False).status_code == 200


def test_an_unknown_token_is_answered_401_with_an_ocpi_body(ocpi_pair, live_server):
    answer = call(f"{live_server.url}/ocpi/stadtwerke-cpo/versions", "not-a-token")
    assert answer.status_code == 401
    assert answer.json()["status_code"] == 2000


def test_a_token_of_one_organization_opens_nothing_of_another(ocpi_pair, live_server):
    token = ocpi_pair.cpo_at_emsp.credentials_token
    # The eMSP's token at the CPO, presented at the eMSP organization's own URL.
    assert call(f"{live_server.url}/ocpi/mobility-nl/versions", token).status_code == 401


def test_get_credentials_returns_the_token_the_partner_holds(ocpi_pair, live_server):
    token = ocpi_pair.cpo_at_emsp.credentials_token
    data = call(f"{live_server.url}/ocpi/stadtwerke-cpo/2.2.1/credentials/", token).json()["data"]
    assert data["token"] == token
    assert data["url"] == f"{live_server.url}/ocpi/stadtwerke-cpo/versions"
    assert {r["party_id"] for r in data["roles"]} == {"CPO"}


def test_rotation_replaces_both_tokens_and_the_old_one_stops_working(ocpi_pair, live_server):
    old = ocpi_pair.cpo_at_emsp.credentials_token
    registration.rotate(ocpi_pair.emsp_at_cpo)
    pair = ocpi_pair.refresh()
    assert pair.cpo_at_emsp.credentials_token != old
    url = f"{live_server.url}/ocpi/stadtwerke-cpo/versions"
    assert call(url, old).status_code == 401
    assert call(url, pair.cpo_at_emsp.credentials_token).status_code == 200
    assert pair.emsp_at_cpo.status == pair.cpo_at_emsp.status == PartnerStatus.ACTIVE


def test_unregistering_ends_the_partnership_on_both_sides(ocpi_pair, live_server):
    token = ocpi_pair.cpo_at_emsp.credentials_token
    registration.unregister(ocpi_pair.cpo_at_emsp)
    pair = ocpi_pair.refresh()
    assert pair.cpo_at_emsp.status == PartnerStatus.PENDING
    assert pair.emsp_at_cpo.status == PartnerStatus.PENDING
    assert call(f"{live_server.url}/ocpi/stadtwerke-cpo/versions", token).status_code == 401


def test_token_a_reaches_versions_and_credentials_only(ocpi_settings, org, live_server):
    make_profile(org, "DE", "ABC")
    partner = make_partner(org, "NL", "XYZ")
    token_a = registration.issue_token_a(partner)
    base = f"{live_server.url}/ocpi/{org.slug}"
    assert call(f"{base}/versions", token_a).status_code == 200
    assert call(f"{base}/2.2.1/credentials/", token_a).status_code == 405  # GET: not registered yet


def test_credentials_for_another_party_are_refused(ocpi_settings, org, live_server):
    make_profile(org, "DE", "ABC")
    partner = make_partner(org, "NL", "XYZ")
    token_a = registration.issue_token_a(partner)
    credentials = {
        "token": "their-token",
        "url": "http://127.0.0.1:9/versions",
        "roles": [
            {
                "role": "EMSP",
                "party_id": "EVL",
                "country_code": "FR",
                "business_details": {"name": "x"},
            }
        ],
    }
    answer = call(
        f"{live_server.url}/ocpi/{org.slug}/2.2.1/credentials/",
        token_a,
        method="POST",
        json=credentials,
    )
    assert answer.status_code == 403
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.PENDING


def test_malformed_credentials_get_2001_and_change_nothing(ocpi_settings, org, live_server):
    make_profile(org, "DE", "ABC")
    partner = make_partner(org, "NL", "XYZ")
    token_a = registration.issue_token_a(partner)
    answer = call(
        f"{live_server.url}/ocpi/{org.slug}/2.2.1/credentials/",
        token_a,
        method="POST",
        json={"token": 5},
    )
    assert answer.status_code == 400
    assert answer.json()["status_code"] == 2001
    assert "url" in answer.json()["status_message"]
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.PENDING


def test_every_exchange_is_logged_for_support(ocpi_pair):
    logged = OcpiExchange.objects.filter(partner=ocpi_pair.emsp_at_cpo)
    assert logged.filter(direction=Direction.INCOMING, method="POST", http_status=200).exists()
    assert logged.filter(direction=Direction.OUTGOING, method="GET").exists()
    # The token never reaches the log.
    for exchange in OcpiExchange.objects.all():
        assert ocpi_pair.cpo_at_emsp.credentials_token not in exchange.request_body + exchange.url


def test_a_partner_over_its_rate_limit_gets_429(ocpi_pair, live_server, settings):
    partner = ocpi_pair.emsp_at_cpo
    partner.rate_limit_per_minute = 2
    partner.save()
    token = ocpi_pair.cpo_at_emsp.credentials_token
    url = f"{live_server.url}/ocpi/stadtwerke-cpo/versions"
    codes = [call(url, token).status_code for _ in range(4)]
    assert codes[-1] == 429
    assert codes.count(200) <= 2


@pytest.mark.parametrize("version", ["2.1.1", "3.0"])
def test_an_unknown_version_answers_3002(ocpi_pair, live_server, version):
    token = ocpi_pair.cpo_at_emsp.credentials_token
    answer = call(f"{live_server.url}/ocpi/stadtwerke-cpo/{version}/", token)
    assert answer.status_code == 404
    assert answer.json()["status_code"] == 3002


def test_an_exchange_is_logged_once_its_answer_has_gone_out(ocpi_pair, rf):
    """The log write may wait for a lock; the partner's answer is complete before it."""
    token = ocpi_pair.cpo_at_emsp.credentials_token
    request = rf.get(
        "/ocpi/stadtwerke-cpo/versions?probe=logged-after", HTTP_AUTHORIZATION=f"Token {token}"
    )
    match = resolve(request.path)
    # Only this request's entries: the pair's own set-up may still be logging its last exchange.
    ours = OcpiExchange.objects.filter(url__endswith="?probe=logged-after")
    before = ours.count()
    response = match.func(request, *match.args, **match.kwargs)
    assert response.status_code == 200
    assert response_status(response) == 1000
    assert ours.count() == before
    response.close()  # what the server does once the body is sent
    assert ours.count() == before + 1
    response.close()
    assert ours.count() == before + 1
