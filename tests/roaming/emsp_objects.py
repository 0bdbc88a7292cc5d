"""OCPI 2.2.1 objects a CPO partner sends our eMSP role, and a partner to send them, for tests.

Every builder returns a complete, valid object (checked against the schemas in
test_emsp_receivers); keyword arguments replace fields.
"""

import base64

import pytest
from django.core.cache import cache

from roaming.choices import PartnerRole, PartnerStatus
from roaming.models import RoamingPartner, RoamingProfile
from roaming.ocpi import tokens

PARTNER_TOKEN = "cpo-partner-token-0123456789"
CPO = ("DE", "CPO")
STAMP = "2026-03-02T10:00:00Z"


@pytest.fixture(autouse=False)
def fresh_cache():
    """Rate-limit counters and pull watermarks of earlier tests do not leak into this one."""
    cache.clear()
    yield
    cache.clear()


def emsp_profile(organization, **fields) -> RoamingProfile:
    """Our organization as the eMSP NL*MSP."""
    fields.setdefault("name", "Mobility NL")
    return RoamingProfile.objects.create(
        organization=organization, country_code="NL", party_id="MSP", **fields
    )


def cpo_partner(organization, token=PARTNER_TOKEN, party=CPO, **fields) -> RoamingPartner:
    """A registered CPO partner that calls us with `token`."""
    country_code, party_id = party
    values = {
        "name": f"CPO {country_code}*{party_id}",
        "role": PartnerRole.CPO,
        "status": PartnerStatus.ACTIVE,
        "incoming_token_hash": tokens.token_hash(token),
        "incoming_token_hint": token[-4:],
        "credentials_token": f"we-call-{party_id}-with-this",
        "roles": [{"role": "CPO", "country_code": country_code, "party_id": party_id}],
        **fields,
    }
    return RoamingPartner.objects.create(
        organization=organization, country_code=country_code, party_id=party_id, **values
    )


def auth(token=PARTNER_TOKEN) -> dict:
    """The test client's Authorization header, base64-encoded as 2.2.1 sends it."""
    return {"HTTP_AUTHORIZATION": "Token " + base64.b64encode(token.encode()).decode()}


def url(organization, path: str) -> str:
    """An OCPI 2.2.1 URL of the organization."""
    return f"/ocpi/{organization.slug}/2.2.1/{path}"


def connector(**fields) -> dict:
    data = {
        "id": "1",
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "max_electric_power": 22000,
        "tariff_ids": ["T1"],
        "last_updated": STAMP,
    }
    return {**data, **fields}


def evse(uid="EVSE-1", **fields) -> dict:
    data = {
        "uid": uid,
        "evse_id": f"DE*CPO*E{uid.split('-')[-1]}",
        "status": "AVAILABLE",
        "connectors": [connector()],
        "last_updated": STAMP,
    }
    return {**data, **fields}


def location(location_id="LOC1", party=CPO, **fields) -> dict:
    data = {
        "country_code": party[0],
        "party_id": party[1],
        "id": location_id,
        "publish": True,
        "name": "Marktplatz",
        "address": "Marktplatz 1",
        "city": "Köln",
        "postal_code": "50667",
        "country": "DEU",
        "coordinates": {"latitude": "50.937531", "longitude": "6.960279"},
        "evses": [evse("EVSE-1"), evse("EVSE-2")],
        "time_zone": "Europe/Berlin",
        "last_updated": STAMP,
    }
    return {**data, **fields}


def cdr_token(uid="04A1B2C3D4E5F6", party=("NL", "MSP"), **fields) -> dict:
    data = {
        "country_code": party[0],
        "party_id": party[1],
        "uid": uid,
        "type": "RFID",
        "contract_id": "NL-MSP-C00000001",
    }
    return {**data, **fields}


def charging_period(start="2026-03-02T10:00:00Z", kwh=5.0, **fields) -> dict:
    data = {
        "start_date_time": start,
        "dimensions": [{"type": "ENERGY", "volume": kwh}],
        "tariff_id": "T1",
    }
    return {**data, **fields}


def session(session_id="S1", party=CPO, **fields) -> dict:
    data = {
        "country_code": party[0],
        "party_id": party[1],
        "id": session_id,
        "start_date_time": "2026-03-02T10:00:00Z",
        "kwh": 5.0,
        "cdr_token": cdr_token(),
        "auth_method": "WHITELIST",
        "location_id": "LOC1",
        "evse_uid": "EVSE-1",
        "connector_id": "1",
        "currency": "EUR",
        "charging_periods": [charging_period()],
        "total_cost": {"excl_vat": 1.5, "incl_vat": 1.79},
        "status": "ACTIVE",
        "last_updated": STAMP,
    }
    return {**data, **fields}


def cdr(cdr_id="CDR1", party=CPO, **fields) -> dict:
    data = {
        "country_code": party[0],
        "party_id": party[1],
        "id": cdr_id,
        "start_date_time": "2026-03-02T10:00:00Z",
        "end_date_time": "2026-03-02T11:00:00Z",
        "session_id": "S1",
        "cdr_token": cdr_token(),
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC1",
            "name": "Marktplatz",
            "address": "Marktplatz 1",
            "city": "Köln",
            "postal_code": "50667",
            "country": "DEU",
            "coordinates": {"latitude": "50.937531", "longitude": "6.960279"},
            "evse_uid": "EVSE-1",
            "evse_id": "DE*CPO*E1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [charging_period(kwh=12.5)],
        "total_cost": {"excl_vat": 5.25, "incl_vat": 6.25},
        "total_energy": 12.5,
        "total_time": 1.0,
        "last_updated": "2026-03-02T11:05:00Z",
    }
    return {**data, **fields}


def tariff(tariff_id="T1", party=CPO, **fields) -> dict:
    data = {
        "country_code": party[0],
        "party_id": party[1],
        "id": tariff_id,
        "currency": "EUR",
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": 0.42, "vat": 19.0, "step_size": 1}]}
        ],
        "last_updated": STAMP,
    }
    return {**data, **fields}
