"""Our eMSP role against our own CPO role over real HTTP (the `ocpi_pair` live server).

The CPO organization pushes a location (through its own outbox), a session and a CDR to the
eMSP organization; the eMSP pulls the CPO's locations; the eMSP's roaming card reaches the
CPO's token receiver.
"""

import base64
from decimal import Decimal

import pytest
import requests

from roaming.choices import Module
from roaming.models import PartnerCdr, PartnerLocation, PartnerSession, RoamingToken
from roaming.ocpi import push, registration
from roaming.ocpi.v221.receiving import pull_partner_data
from tests.factories import ChargingStationFactory, IdTokenFactory, SiteFactory
from tests.roaming.emsp_objects import cdr, fresh_cache, session  # noqa: F401

pytestmark = pytest.mark.usefixtures("fresh_cache")


def roaming_site(organization):
    """A site of the CPO with roaming on, coordinates and a station: published as a location."""
    site = SiteFactory(
        organization=organization,
        name="Rheinufer",
        roaming_enabled=True,
        latitude=Decimal("50.937531"),
        longitude=Decimal("6.960279"),
        street="Rheinufer 1",
        postal_code="50667",
        city="Köln",
        country="DE",
    )
    ChargingStationFactory(organization=organization, site=site)
    return site


def as_cpo(pair, method, path, body):
    """A request of the CPO organization to the eMSP organization's OCPI URL, with its token."""
    token = base64.b64encode(pair.emsp_at_cpo.credentials_token.encode()).decode()
    return requests.request(
        method,
        registration.version_url(pair.emsp, "2.2.1") + path,
        json=body,
        headers={"Authorization": f"Token {token}"},
        timeout=10,
    )


def test_what_the_cpo_pushes_over_http_is_stored_at_the_emsp(ocpi_pair):
    card = IdTokenFactory(organization=ocpi_pair.emsp, uid="04A1B2C3D4E5F6", roaming=True)
    site = roaming_site(ocpi_pair.cpo)
    # The CPO's own outbox and builder send the location to the eMSP's receiver.
    push.plan(ocpi_pair.emsp_at_cpo, Module.LOCATIONS, site.pk)
    location = PartnerLocation.objects.get(partner=ocpi_pair.cpo_at_emsp)
    assert (location.ocpi_id, location.name, location.city) == (str(site.pk), "Rheinufer", "Köln")

    answer = as_cpo(ocpi_pair, "PUT", "emsp/sessions/DE/CPO/S1", session())
    assert (answer.status_code, answer.json()["status_code"]) == (201, 1000)
    assert PartnerSession.objects.get().id_token == card

    posted = as_cpo(ocpi_pair, "POST", "emsp/cdrs/", cdr())
    assert (posted.status_code, posted.json()["status_code"]) == (201, 1000)
    again = as_cpo(ocpi_pair, "POST", "emsp/cdrs/", cdr())
    assert again.status_code == 200
    token = base64.b64encode(ocpi_pair.emsp_at_cpo.credentials_token.encode()).decode()
    fetched = requests.get(
        posted.headers["Location"], headers={"Authorization": f"Token {token}"}, timeout=10
    )
    assert fetched.json()["data"]["id"] == "CDR1"
    stored = PartnerCdr.objects.get()
    assert (stored.id_token, stored.total_cost_incl_vat) == (card, Decimal("6.25"))


def test_the_emsp_pulls_the_cpos_locations_over_http(ocpi_pair):
    site = roaming_site(ocpi_pair.cpo)
    PartnerLocation.objects.all().delete()
    results = {r.module: r for r in pull_partner_data(ocpi_pair.cpo_at_emsp)}
    assert results["locations"].error == ""
    assert results["locations"].stored == 1
    location = PartnerLocation.objects.get(partner=ocpi_pair.cpo_at_emsp)
    assert location.ocpi_id == str(site.pk)
    assert location.data["evses"]


def test_a_card_flagged_for_roaming_reaches_the_cpos_token_receiver(ocpi_pair):
    card = IdTokenFactory(organization=ocpi_pair.emsp, uid="04CAFE01")
    card.roaming = True
    card.save()
    token = RoamingToken.objects.get(organization=ocpi_pair.cpo, uid="04CAFE01")
    assert (token.country_code, token.party_id, token.valid, token.whitelist) == (
        "NL",
        "MSP",
        True,
        "ALLOWED",
    )
    card.status = "Blocked"
    card.save()
    token.refresh_from_db()
    assert token.valid is False
