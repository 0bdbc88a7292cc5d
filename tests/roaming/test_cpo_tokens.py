"""OCPI 2.2.1 Tokens of our CPO role: eMSP partners push their tokens, or we pull them."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.core.cache import cache

from cards.models import IdToken
from roaming import tasks
from roaming.choices import InterfaceRole, Module
from roaming.models import RoamingToken
from roaming.ocpi import tokens
from roaming.ocpi.client import PartnerError
from roaming.ocpi.v221.cpo.tokens import pull_tokens
from tests.factories import IdTokenFactory
from tests.roaming.conftest import connected_partner, make_profile
from tests.roaming.fake_partner import FakePartner, Reply, ocpi_reply

URL = "/ocpi/{org}/2.2.1/cpo/tokens/{cc}/{pid}/{uid}"
SENDER = "/ocpi/emsp/2.2.1/tokens/"


def a_token(uid="012345678", **fields) -> dict:
    """The spec's token_put_example, of the partner's party NL*MSP."""
    return {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": uid,
        "type": "RFID",
        "contract_id": "NL8ACC12E46L89",
        "visual_number": "DF000-2001-8999-1",
        "issuer": "TheNewMotion",
        "group_id": "DF000-2001-8999",
        "valid": True,
        "whitelist": "ALWAYS",
        "last_updated": "2015-06-29T22:39:09Z",
        **fields,
    }


def call(client, partner, method, uid="012345678", body=None, cc="NL", pid="MSP", **params):
    url = URL.format(org=partner.organization.slug, cc=cc, pid=pid, uid=uid)
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    handler = getattr(client, method.lower())
    kwargs = {"HTTP_AUTHORIZATION": f"Token {tokens.encode(partner.token)}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return handler(url, **kwargs)


@pytest.fixture
def partner(org):
    make_profile(org, "DE", "CPO")
    return connected_partner(org)


# --- receiver: PUT, PATCH, GET -----------------------------------------------------------------


def test_a_pushed_token_is_stored_and_read_back_as_sent(client, partner):
    answer = call(client, partner, "PUT", body=a_token(uid="04a1b2c3"), uid="04a1b2c3")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status_code"] == 1000
    stored = RoamingToken.objects.get(partner=partner)
    # Upper-cased like an OCPP id tag, so the station's reading finds it.
    assert (stored.uid, stored.organization_id, stored.whitelist) == (
        "04A1B2C3",
        partner.organization_id,
        "ALWAYS",
    )
    read = call(client, partner, "GET", uid="04a1b2c3").json()
    assert read["data"] == a_token(uid="04a1b2c3")


def test_a_token_pushed_again_updates_the_one_stored(client, partner):
    call(client, partner, "PUT", body=a_token())
    again = a_token(valid=False, last_updated="2016-01-01T00:00:00Z")
    assert call(client, partner, "PUT", body=again).json()["status_code"] == 1000
    [stored] = RoamingToken.objects.filter(partner=partner)
    assert stored.valid is False
    assert stored.last_updated == datetime(2016, 1, 1, tzinfo=UTC)


def test_an_older_copy_of_a_token_changes_nothing(client, partner):
    call(client, partner, "PUT", body=a_token(last_updated="2020-01-01T00:00:00Z"))
    call(client, partner, "PUT", body=a_token(valid=False, last_updated="2019-01-01T00:00:00Z"))
    assert RoamingToken.objects.get(partner=partner).valid is True


def test_a_patch_invalidates_the_token(client, partner):
    call(client, partner, "PUT", body=a_token())
    patch = {"valid": False, "last_updated": "2019-06-19T02:11:11Z"}
    assert call(client, partner, "PATCH", body=patch).json()["status_code"] == 1000
    stored = RoamingToken.objects.get(partner=partner)
    assert (stored.valid, stored.contract_id) == (False, "NL8ACC12E46L89")
    assert stored.data["valid"] is False


def test_a_patch_without_last_updated_is_refused_with_2001(client, partner):
    call(client, partner, "PUT", body=a_token())
    answer = call(client, partner, "PATCH", body={"valid": False})
    assert answer.json()["status_code"] == 2001
    assert RoamingToken.objects.get(partner=partner).valid is True


def test_an_unknown_token_is_2004_with_http_404(client, partner):
    answer = call(client, partner, "GET", uid="NOPE")
    assert (answer.status_code, answer.json()["status_code"]) == (404, 2004)
    patch = {"valid": False, "last_updated": "2019-06-19T02:11:11Z"}
    assert call(client, partner, "PATCH", uid="NOPE", body=patch).status_code == 404


def test_the_type_parameter_tells_tokens_with_the_same_uid_apart(client, partner):
    call(client, partner, "PUT", body=a_token())
    app_user = a_token(type="APP_USER", whitelist="NEVER")
    call(client, partner, "PUT", body=app_user, type="APP_USER")
    assert RoamingToken.objects.filter(partner=partner).count() == 2
    assert call(client, partner, "GET", type="APP_USER").json()["data"]["whitelist"] == "NEVER"
    assert call(client, partner, "GET").json()["data"]["whitelist"] == "ALWAYS"


def test_a_whole_token_pushed_without_the_type_parameter_keeps_its_own_type(client, partner):
    call(client, partner, "PUT", body=a_token(type="APP_USER"))
    assert RoamingToken.objects.get(partner=partner).type == "APP_USER"


def test_a_token_whose_type_differs_from_the_type_parameter_is_refused(client, partner):
    answer = call(client, partner, "PUT", body=a_token(type="APP_USER"), type="RFID")
    assert answer.json()["status_code"] == 2001


def test_a_token_that_breaks_the_ocpi_shape_is_refused_with_2001(client, partner):
    answer = call(client, partner, "PUT", body=a_token(whitelist="SOMETIMES"))
    assert answer.json()["status_code"] == 2001
    assert not RoamingToken.objects.exists()


def test_a_token_whose_uid_differs_from_the_url_is_refused(client, partner):
    answer = call(client, partner, "PUT", uid="OTHER", body=a_token())
    assert answer.json()["status_code"] == 2001
    assert not RoamingToken.objects.exists()


def test_a_partner_cannot_push_a_token_of_another_party(client, partner):
    body = a_token(country_code="BE", party_id="XYZ")
    answer = call(client, partner, "PUT", cc="BE", pid="XYZ", body=body)
    assert answer.status_code == 403
    assert not RoamingToken.objects.exists()


def test_a_partner_never_reads_another_partners_token(client, partner, org):
    call(client, partner, "PUT", body=a_token())
    rival = connected_partner(org, "BE", "XYZ")
    assert call(client, rival, "GET", cc="NL", pid="MSP").status_code == 403


def test_a_partner_of_another_organization_reaches_nothing_here(client, partner, other_org):
    call(client, partner, "PUT", body=a_token())
    make_profile(other_org, "FR", "OTH")
    outsider = connected_partner(other_org)
    # Its token is unknown at our organization's URL...
    url = URL.format(org=partner.organization.slug, cc="NL", pid="MSP", uid="012345678")
    auth = f"Token {tokens.encode(outsider.token)}"
    assert client.get(url, HTTP_AUTHORIZATION=auth).status_code == 401
    # ...and at its own, our partner's token is not there.
    assert call(client, outsider, "GET").status_code == 404


def test_a_token_is_pushed_by_the_emsp_over_http(ocpi_pair, live_server):
    token = ocpi_pair.cpo_at_emsp.credentials_token
    url = f"{live_server.url}/ocpi/stadtwerke-cpo/2.2.1/cpo/tokens/NL/MSP/0A0B0C0D"
    answer = requests.put(
        url,
        json=a_token(uid="0A0B0C0D"),
        headers={"Authorization": f"Token {tokens.encode(token)}"},
        timeout=10,
    )
    assert (answer.status_code, answer.json()["status_code"]) == (200, 1000)
    stored = RoamingToken.objects.get(uid="0A0B0C0D")
    assert (stored.organization, stored.partner) == (ocpi_pair.cpo, ocpi_pair.emsp_at_cpo)


# --- pull from the partner's sender ------------------------------------------------------------


@pytest.fixture
def fake_emsp(settings):
    settings.OCPI_ALLOW_PRIVATE_ADDRESSES = True
    # The start of the last pull is remembered in the cache; each test starts without one.
    cache.clear()
    server = FakePartner().start()
    yield server
    server.stop()


@pytest.fixture
def pulling_partner(org, fake_emsp):
    make_profile(org, "DE", "CPO")
    endpoints = [
        {"identifier": Module.TOKENS, "role": InterfaceRole.SENDER, "url": fake_emsp.url + SENDER}
    ]
    return connected_partner(org, endpoints=endpoints, credentials_token="theirs")


def paged(fake, pages: list[list[dict]]):
    """Serve the tokens list in pages linked by Link headers (offset in the query)."""

    def serve(request):
        offset = int(request.query.get("offset", 0))
        headers = {"X-Total-Count": str(len(pages))}
        if offset + 1 < len(pages):
            headers["Link"] = f'<{fake.url}{SENDER}?offset={offset + 1}>; rel="next"'
        return ocpi_reply(pages[offset], headers=headers)

    fake.routes[("GET", SENDER)] = serve


def test_pull_reads_every_page_and_stores_each_token_once(pulling_partner, fake_emsp):
    paged(fake_emsp, [[a_token("AA01"), a_token("AA02")], [a_token("AA03"), a_token("AA01")]])
    pulled = pull_tokens(pulling_partner)
    assert (pulled.received, pulled.stored, pulled.refused) == (4, 4, 0)
    assert sorted(RoamingToken.objects.values_list("uid", flat=True)) == ["AA01", "AA02", "AA03"]
    assert len(fake_emsp.requests_to(SENDER)) == 2


def test_the_next_pull_asks_only_for_what_changed_since_the_last(pulling_partner, fake_emsp):
    paged(fake_emsp, [[a_token("AA01")]])
    before = datetime.now(UTC) - timedelta(seconds=1)
    pull_tokens(pulling_partner)
    pull_tokens(pulling_partner)
    first, second = fake_emsp.requests_to(SENDER)
    assert "date_from" not in first.query
    since = datetime.fromisoformat(second.query["date_from"].replace("Z", "+00:00"))
    assert since >= before.replace(microsecond=0)


def test_pull_refuses_tokens_of_parties_the_partner_does_not_speak_for(pulling_partner, fake_emsp):
    paged(fake_emsp, [[a_token("AA01"), a_token("AA02", country_code="BE", party_id="XYZ")]])
    pulled = pull_tokens(pulling_partner)
    assert (pulled.stored, pulled.refused) == (1, 1)
    assert list(RoamingToken.objects.values_list("uid", flat=True)) == ["AA01"]


def test_a_failed_pull_is_reported_and_stores_nothing(pulling_partner, fake_emsp):
    fake_emsp.routes[("GET", SENDER)] = Reply(500, {"status_code": 3000})
    with pytest.raises(PartnerError):
        pull_tokens(pulling_partner)
    assert tasks.pull_tokens(pulling_partner.pk)["error"].startswith("HTTP 500")
    assert not RoamingToken.objects.exists()


def test_the_hourly_pull_reads_active_partners_with_a_tokens_sender(
    pulling_partner, fake_emsp, org
):
    paged(fake_emsp, [[a_token("AA01")]])
    connected_partner(org, "BE", "XYZ")  # no tokens sender: not pulled
    assert tasks.pull_tokens_from_emsp_partners() == 1
    assert RoamingToken.objects.get().partner == pulling_partner


def test_pull_over_http_reads_the_roaming_cards_of_the_emsp(ocpi_pair):
    card = IdTokenFactory(organization=ocpi_pair.emsp, uid="0E0F0A0B", roaming=True)
    IdTokenFactory(organization=ocpi_pair.emsp, uid="0E0F0A0C", roaming=False)
    # What a push may have brought already is forgotten: the pull alone must bring it.
    RoamingToken.objects.all().delete()
    pulled = pull_tokens(ocpi_pair.refresh().emsp_at_cpo)
    assert pulled.refused == 0
    stored = RoamingToken.objects.get(organization=ocpi_pair.cpo)
    assert (stored.uid, stored.valid) == (card.uid, True)
    assert not IdToken.objects.filter(organization=ocpi_pair.cpo).exists()
