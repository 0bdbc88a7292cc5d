"""A hub speaks for several parties: what we send for one of them is addressed to it."""

from types import SimpleNamespace

import pytest

from roaming.choices import PartnerRole
from roaming.ocpi import client as ocpi_client
from roaming.ocpi.client import OcpiClient
from roaming.ocpi.push import token_party
from tests.roaming.conftest import connected_partner


@pytest.fixture
def sent(monkeypatch):
    """The headers of every request the client sends; each answered with an OCPI success."""
    calls = []

    def answer(method, url, **kwargs):
        calls.append(kwargs["headers"])
        return SimpleNamespace(
            status_code=200,
            url=url,
            text='{"status_code": 1000}',
            reason="OK",
            headers={},
            json=lambda: {"status_code": 1000, "data": None},
        )

    monkeypatch.setattr(ocpi_client.requests, "request", answer)
    monkeypatch.setattr(ocpi_client.net, "refused_address", lambda url, allow_private: "")
    return calls


@pytest.fixture
def hub(org):
    partner = connected_partner(org, "DE", "HUB", role=PartnerRole.HUB, credentials_token="t")
    partner.roles = [
        {"role": "HUB", "country_code": "DE", "party_id": "HUB"},
        {"role": "EMSP", "country_code": "NL", "party_id": "MSP"},
    ]
    partner.save()
    return partner


def test_a_drivers_session_goes_to_the_party_owning_its_token(hub, sent):
    body = {"cdr_token": {"country_code": "NL", "party_id": "MSP", "uid": "04A1"}}
    OcpiClient(hub, our_party=("DE", "CPO")).request(
        "PUT", "https://hub.example/sessions/DE/CPO/1", body=body, to_party=token_party(body)
    )
    [headers] = sent
    assert (headers["OCPI-to-country-code"], headers["OCPI-to-party-id"]) == ("NL", "MSP")
    assert (headers["OCPI-from-country-code"], headers["OCPI-from-party-id"]) == ("DE", "CPO")


def test_what_is_for_every_party_goes_to_the_hub_itself(hub, sent):
    OcpiClient(hub, our_party=("DE", "CPO")).request("PUT", "https://hub.example/locations/1")
    [headers] = sent
    assert (headers["OCPI-to-country-code"], headers["OCPI-to-party-id"]) == ("DE", "HUB")


def test_a_hub_may_send_objects_of_each_party_it_speaks_for_only(hub):
    assert hub.is_hub
    assert hub.parties() == {("DE", "HUB"), ("NL", "MSP")}
