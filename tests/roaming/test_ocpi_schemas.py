"""The OCPI 2.2.1 object schemas: what they accept, what they refuse, and how they say where."""

from decimal import Decimal

import pytest
from jsonschema import Draft202012Validator

from roaming.ocpi.status import INVALID_PARAMETERS, OcpiError
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.schemas import check, errors

WHEN = "2024-05-14T09:30:00Z"


# --- realistic objects, one per schema ---------------------------------------------------------


def display_text(text="Eingang über die Schranke, dann links."):
    return {"language": "de", "text": text}


def image(category="CHARGER"):
    return {
        "url": "https://cdn.stadtwerke.example/img/ladepark.jpg",
        "thumbnail": "https://cdn.stadtwerke.example/img/ladepark_thumb.jpg",
        "category": category,
        "type": "jpeg",
        "width": 1024,
        "height": 768,
    }


def business_details():
    return {
        "name": "Stadtwerke Ladenetz GmbH",
        "website": "https://www.stadtwerke.example",
        "logo": image("OPERATOR"),
    }


def energy_mix():
    return {
        "is_green_energy": False,
        "energy_sources": [
            {"source": "GENERAL_GREEN", "percentage": 62.5},
            {"source": "GAS", "percentage": 27.5},
            {"source": "NUCLEAR", "percentage": 10},
        ],
        "environ_impact": [
            {"category": "NUCLEAR_WASTE", "amount": 0.0004},
            {"category": "CARBON_DIOXIDE", "amount": 198},
        ],
        "supplier_name": "Stadtwerke Energie",
        "energy_product_name": "Regiostrom Mix",
    }


def hours():
    return {
        "twentyfourseven": False,
        "regular_hours": [
            {"weekday": day, "period_begin": "07:00", "period_end": "21:30"} for day in range(1, 6)
        ],
        "exceptional_openings": [
            {"period_begin": "2024-06-15T08:00:00Z", "period_end": "2024-06-15T14:00:00Z"}
        ],
        "exceptional_closings": [
            {"period_begin": "2024-12-25T00:00:00Z", "period_end": "2024-12-26T00:00:00Z"}
        ],
    }


def connector(connector_id="1"):
    return {
        "id": connector_id,
        "standard": "IEC_62196_T2",
        "format": "SOCKET",
        "power_type": "AC_3_PHASE",
        "max_voltage": 230,
        "max_amperage": 32,
        "max_electric_power": 22000,
        "tariff_ids": ["AC-STANDARD", "AC-CHEAP"],
        "terms_and_conditions": "https://www.stadtwerke.example/agb",
        "last_updated": WHEN,
    }


def evse(uid="4711-1"):
    return {
        "uid": uid,
        "evse_id": "DE*CPO*E4711*1",
        "status": "AVAILABLE",
        "status_schedule": [
            {
                "period_begin": "2024-07-01T06:00:00Z",
                "period_end": "2024-07-01T12:00:00Z",
                "status": "INOPERATIVE",
            }
        ],
        "capabilities": ["RFID_READER", "REMOTE_START_STOP_CAPABLE", "RESERVABLE"],
        "connectors": [connector("1"), connector("2")],
        "floor_level": "-1",
        "coordinates": {"latitude": "52.5200066", "longitude": "13.404954"},
        "physical_reference": "Säule 3",
        "directions": [display_text()],
        "parking_restrictions": ["EV_ONLY", "CUSTOMERS"],
        "images": [image()],
        "last_updated": WHEN,
    }


def location():
    return {
        "country_code": "DE",
        "party_id": "CPO",
        "id": "4711",
        "publish": False,
        "publish_allowed_to": [
            {"uid": "04A1B2C3D4", "type": "RFID"},
            {"visual_number": "NL-MSP-000123-4", "issuer": "Mobility NL"},
            {"group_id": "FLEET-7"},
        ],
        "name": "Ladepark Rathaus",
        "address": "Rathausplatz 1",
        "city": "Musterstadt",
        "postal_code": "12345",
        "state": "Berlin",
        "country": "DEU",
        "coordinates": {"latitude": "52.520006", "longitude": "13.404954"},
        "related_locations": [
            {"latitude": "52.52031", "longitude": "13.40511", "name": display_text("Einfahrt")}
        ],
        "parking_type": "PARKING_GARAGE",
        "evses": [evse("4711-1"), evse("4711-2")],
        "directions": [display_text()],
        "operator": business_details(),
        "suboperator": {"name": "Ladeservice Nord"},
        "owner": {"name": "Stadt Musterstadt", "website": "https://www.musterstadt.example"},
        "facilities": ["PARKING_LOT", "CAFE", "WIFI"],
        "time_zone": "Europe/Berlin",
        "opening_times": hours(),
        "charging_when_closed": True,
        "images": [image("LOCATION")],
        "energy_mix": energy_mix(),
        "last_updated": WHEN,
    }


def cdr_token():
    return {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": "04A1B2C3D4",
        "type": "RFID",
        "contract_id": "NL-MSP-C00012345-6",
    }


def charging_period(start="2024-05-14T09:30:00Z"):
    return {
        "start_date_time": start,
        "dimensions": [
            {"type": "ENERGY", "volume": 7.6312},
            {"type": "TIME", "volume": 0.5},
            {"type": "MAX_POWER", "volume": 11.04},
        ],
        "tariff_id": "AC-STANDARD",
    }


def session():
    return {
        "country_code": "DE",
        "party_id": "CPO",
        "id": "101",
        "start_date_time": "2024-05-14T09:30:00Z",
        "end_date_time": "2024-05-14T10:45:12.5Z",
        "kwh": 15.284,
        "cdr_token": cdr_token(),
        "auth_method": "AUTH_REQUEST",
        "authorization_reference": "AUTH-9f1c",
        "location_id": "4711",
        "evse_uid": "4711-1",
        "connector_id": "1",
        "meter_id": "1ESY1161229886",
        "currency": "EUR",
        "charging_periods": [
            charging_period(),
            {
                "start_date_time": "2024-05-14T10:00:00Z",
                "dimensions": [
                    {"type": "ENERGY", "volume": 7.6528},
                    {"type": "STATE_OF_CHARGE", "volume": 80},
                ],
            },
        ],
        "total_cost": {"excl_vat": 5.35, "incl_vat": 6.37},
        "status": "COMPLETED",
        "last_updated": "2024-05-14T10:45:13Z",
    }


def tariff():
    return {
        "country_code": "DE",
        "party_id": "CPO",
        "id": "AC-STANDARD",
        "currency": "EUR",
        "type": "REGULAR",
        "tariff_alt_text": [display_text("0,35 € je kWh, ab 4 h 0,05 € je Minute Standgebühr.")],
        "tariff_alt_url": "https://www.stadtwerke.example/tarife/ac",
        "min_price": {"excl_vat": 1.0, "incl_vat": 1.19},
        "max_price": {"excl_vat": 50},
        "elements": [
            {
                "price_components": [{"type": "FLAT", "price": 0.5, "vat": 19.0, "step_size": 1}],
            },
            {
                "price_components": [
                    {"type": "ENERGY", "price": 0.2941, "vat": 19.0, "step_size": 1}
                ],
                "restrictions": {
                    "start_time": "07:00",
                    "end_time": "22:00",
                    "start_date": "2024-01-01",
                    "end_date": "2025-01-01",
                    "min_kwh": 0,
                    "max_kwh": 100.5,
                    "min_current": 6,
                    "max_current": 32,
                    "min_power": 3.7,
                    "max_power": 22,
                    "min_duration": 0,
                    "max_duration": 14400,
                    "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
                },
            },
            {
                # No vat: no VAT applies (which is not the same as 0 %).
                "price_components": [{"type": "PARKING_TIME", "price": 3.0, "step_size": 300}],
                "restrictions": {"min_duration": 14400},
            },
            {
                "price_components": [
                    {"type": "FLAT", "price": 2.0, "vat": 19.0, "step_size": 0},
                    {"type": "TIME", "price": 1.5, "vat": 19.0, "step_size": 60},
                ],
                "restrictions": {"reservation": "RESERVATION"},
            },
        ],
        "start_date_time": "2024-01-01T00:00:00Z",
        "end_date_time": "2025-01-01T00:00:00Z",
        "energy_mix": {"is_green_energy": True, "supplier_name": "Stadtwerke Energie"},
        "last_updated": WHEN,
    }


def cdr():
    return {
        "country_code": "DE",
        "party_id": "CPO",
        "id": "CDR-000101",
        "start_date_time": "2024-05-14T09:30:00Z",
        "end_date_time": "2024-05-14T10:45:12Z",
        "session_id": "101",
        "cdr_token": cdr_token(),
        "auth_method": "WHITELIST",
        "authorization_reference": "AUTH-9f1c",
        "cdr_location": {
            "id": "4711",
            "name": "Ladepark Rathaus",
            "address": "Rathausplatz 1",
            "city": "Musterstadt",
            "postal_code": "12345",
            "state": "Berlin",
            "country": "DEU",
            "coordinates": {"latitude": "52.520006", "longitude": "13.404954"},
            "evse_uid": "4711-1",
            "evse_id": "DE*CPO*E4711*1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "meter_id": "1ESY1161229886",
        "currency": "EUR",
        "tariffs": [tariff()],
        "charging_periods": [charging_period()],
        "signed_data": {
            "encoding_method": "OCMF",
            "encoding_method_version": 1,
            "public_key": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
            "signed_values": [
                {"nature": "Start", "plain_data": "OCMF|{...}", "signed_data": "MEUCIQD..."},
                {"nature": "End", "plain_data": "OCMF|{...}", "signed_data": "MEQCIF..."},
            ],
            "url": "https://transparenz.stadtwerke.example/check/CDR-000101",
        },
        "total_cost": {"excl_vat": 5.0947, "incl_vat": 6.0627},
        "total_fixed_cost": {"excl_vat": 0.5, "incl_vat": 0.595},
        "total_energy": 15.284,
        "total_energy_cost": {"excl_vat": 4.5947, "incl_vat": 5.4677},
        "total_time": 1.2533,
        "total_time_cost": {"excl_vat": 0},
        "total_parking_time": 0.1,
        "total_parking_cost": {"excl_vat": 0},
        "total_reservation_cost": {"excl_vat": 0},
        "remark": "Session stopped by EV",
        "invoice_reference_id": "INV-2024-05",
        "credit": False,
        "home_charging_compensation": False,
        "last_updated": "2024-05-14T10:46:00Z",
    }


def token():
    return {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": "04A1B2C3D4",
        "type": "RFID",
        "contract_id": "NL-MSP-C00012345-6",
        "visual_number": "NL-MSP-000123-4",
        "issuer": "Mobility NL B.V.",
        "group_id": "FLEET-7",
        "valid": True,
        "whitelist": "ALLOWED",
        "language": "nl",
        "default_profile_type": "GREEN",
        "energy_contract": {"supplier_name": "Groene Stroom NL", "contract_id": "GS-88812"},
        "last_updated": WHEN,
    }


def app_token():
    return {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": "app-7d3f2a",
        "type": "APP_USER",
        "contract_id": "NL-MSP-C00099999-1",
        "issuer": "Mobility NL B.V.",
        "valid": True,
        "whitelist": "NEVER",
        "last_updated": WHEN,
    }


def credentials():
    return {
        "token": "b3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "url": "https://ocpi.stadtwerke.example/ocpi/stadtwerke-cpo/versions",
        "roles": [
            {
                "role": "CPO",
                "business_details": business_details(),
                "party_id": "CPO",
                "country_code": "DE",
            },
            {
                "role": "EMSP",
                "business_details": {"name": "Stadtwerke Mobil"},
                "party_id": "SWM",
                "country_code": "DE",
            },
        ],
    }


RESPONSE_URL = "https://ocpi.mobility.example/ocpi/mobility-nl/2.2.1/emsp/commands/START/42"

EXAMPLES = {
    "Location": location,
    "EVSE": evse,
    "Connector": connector,
    "GeoLocation": lambda: {"latitude": "-33.8567844", "longitude": "151.213108"},
    "AdditionalGeoLocation": lambda: {"latitude": "52.52031", "longitude": "13.40511"},
    "BusinessDetails": business_details,
    "Image": image,
    "Hours": hours,
    "RegularHours": lambda: {"weekday": 7, "period_begin": "00:00", "period_end": "23:59"},
    "ExceptionalPeriod": lambda: {
        "period_begin": "2024-12-24T12:00:00Z",
        "period_end": "2024-12-27T06:00:00Z",
    },
    "EnergyMix": energy_mix,
    "EnergySource": lambda: {"source": "WIND", "percentage": 100},
    "EnvironmentalImpact": lambda: {"category": "CARBON_DIOXIDE", "amount": 0},
    "PublishTokenType": lambda: {"visual_number": "NL-MSP-000123-4", "issuer": "Mobility NL"},
    "StatusSchedule": lambda: {"period_begin": WHEN, "status": "PLANNED"},
    "DisplayText": display_text,
    "Price": lambda: {"excl_vat": 12.3456, "incl_vat": 14.6913},
    "Session": session,
    "ChargingPreferences": lambda: {
        "profile_type": "CHEAP",
        "departure_time": "2024-05-14T17:00:00Z",
        "energy_need": 32.5,
        "discharge_allowed": False,
    },
    "CdrToken": cdr_token,
    "CdrDimension": lambda: {"type": "PARKING_TIME", "volume": 0.25},
    "ChargingPeriod": charging_period,
    "CDR": cdr,
    "CdrLocation": lambda: cdr()["cdr_location"],
    "SignedData": lambda: cdr()["signed_data"],
    "SignedValue": lambda: cdr()["signed_data"]["signed_values"][0],
    "Tariff": tariff,
    "TariffElement": lambda: tariff()["elements"][1],
    "PriceComponent": lambda: {"type": "ENERGY", "price": 0.39, "vat": 7.7, "step_size": 100},
    "TariffRestrictions": lambda: {"reservation": "RESERVATION_EXPIRES"},
    "Token": token,
    "EnergyContract": lambda: {"supplier_name": "Groene Stroom NL"},
    "AuthorizationInfo": lambda: {
        "allowed": "ALLOWED",
        "token": token(),
        "location": {"location_id": "4711", "evse_uids": ["4711-1", "4711-2"]},
        "authorization_reference": "AUTH-9f1c",
        "info": display_text("Willkommen!"),
    },
    "LocationReferences": lambda: {"location_id": "4711", "evse_uids": ["4711-1"]},
    "Credentials": credentials,
    "CredentialsRole": lambda: credentials()["roles"][0],
    "CommandResponse": lambda: {
        "result": "ACCEPTED",
        "timeout": 30,
        "message": [display_text("Befehl angenommen")],
    },
    "CommandResult": lambda: {"result": "EVSE_OCCUPIED", "message": [display_text("Belegt")]},
    "StartSession": lambda: {
        "response_url": RESPONSE_URL,
        "token": app_token(),
        "location_id": "4711",
        "evse_uid": "4711-1",
        "connector_id": "1",
        "authorization_reference": "AUTH-9f1d",
    },
    "StopSession": lambda: {"response_url": RESPONSE_URL, "session_id": "101"},
    "ReserveNow": lambda: {
        "response_url": RESPONSE_URL,
        "token": app_token(),
        "expiry_date": "2024-05-14T10:00:00Z",
        "reservation_id": "RES-17",
        "location_id": "4711",
        "evse_uid": "4711-2",
        "authorization_reference": "AUTH-9f1e",
    },
    "CancelReservation": lambda: {"response_url": RESPONSE_URL, "reservation_id": "RES-17"},
    "UnlockConnector": lambda: {
        "response_url": RESPONSE_URL,
        "location_id": "4711",
        "evse_uid": "4711-1",
        "connector_id": "2",
    },
}

BRIEFED_NAMES = {
    "Location", "EVSE", "Connector", "Session", "CDR", "Tariff", "Token", "Credentials",
    "CommandResponse", "CommandResult", "StartSession", "StopSession", "ReserveNow",
    "CancelReservation", "UnlockConnector", "AuthorizationInfo", "LocationReferences",
    "ChargingPeriod", "CdrToken",
}  # fmt: skip


# --- every schema, every example ---------------------------------------------------------------


def test_the_names_the_roaming_modules_code_against_all_have_a_schema():
    assert set(schemas.SCHEMAS) >= BRIEFED_NAMES


def test_these_tests_hold_an_example_of_every_schema():
    assert set(EXAMPLES) == set(schemas.SCHEMAS)


@pytest.mark.parametrize("name", sorted(schemas.SCHEMAS))
def test_every_schema_is_a_valid_draft_2020_12_schema(name):
    Draft202012Validator.check_schema(schemas.SCHEMAS[name])


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_realistic_object_of_every_kind_is_valid(name):
    assert errors(name, EXAMPLES[name]()) == []


def test_a_minimal_location_open_around_the_clock_is_valid():
    minimal = {
        "country_code": "de",
        "party_id": "cpo",
        "id": "1",
        "publish": True,
        "address": "Hauptstraße 5",
        "city": "Musterstadt",
        "country": "DEU",
        "coordinates": {"latitude": "52.52000", "longitude": "13.40495"},
        "time_zone": "Europe/Berlin",
        "opening_times": {"twentyfourseven": True},
        "last_updated": WHEN,
    }
    assert errors("Location", minimal) == []


def test_check_returns_a_valid_object_unchanged():
    data = session()
    assert check("Session", data) is data


# --- types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "moment",
    [
        "2015-06-29T20:39:09Z",
        "2015-06-29T20:39:09",
        "2016-12-29T17:45:09.2Z",
        "2016-12-29T17:45:09.2",
        "2018-01-01T01:08:01.123Z",
        "2018-01-01T01:08:01.123456789",
        "2018-01-01T01:08:01+01:00",
        "2018-01-01T01:08:01.5-05:30",
        "2024-02-29T23:59:59z",
    ],
)
def test_a_datetime_with_z_an_offset_or_no_designator_and_any_fraction_is_accepted(moment):
    assert errors("StatusSchedule", {"period_begin": moment, "status": "PLANNED"}) == []


@pytest.mark.parametrize(
    "moment",
    [
        "2015-06-29",
        "2015-06-29 20:39:09",
        "29-06-2015T20:39:09Z",
        "2015-13-01T00:00:00Z",
        "2023-02-29T10:00:00Z",
        "2015-06-29T24:00:00Z",
        "2015-06-29T20:39:09+0100",
        "2015-06-29T20:39:09.Z",
        "1970-1-1T00:00:00Z",
    ],
)
def test_a_malformed_or_impossible_datetime_is_refused(moment):
    found = errors("StatusSchedule", {"period_begin": moment, "status": "PLANNED"})
    assert found == [
        f"period_begin: {moment!r} is not an OCPI DateTime (like 2024-05-01T12:00:00Z)"
    ]


@pytest.mark.parametrize(
    "volume", [7, 7.5, 12.345678901234567, 0.000000001, -3.25, Decimal("15.28400000000001")]
)
def test_numbers_are_accepted_as_integers_floats_or_decimals_of_any_precision(volume):
    assert errors("CdrDimension", {"type": "ENERGY", "volume": volume}) == []


def test_a_number_sent_as_a_string_is_refused():
    data = session()
    data["kwh"] = "15.284"
    assert errors("Session", data) == ["kwh: '15.284' is not of type 'number'"]


def test_a_boolean_is_not_an_integer():
    data = connector()
    data["max_voltage"] = True
    assert errors("Connector", data) == ["max_voltage: True is not of type 'integer'"]


def test_a_cistring_takes_printable_ascii_only():
    data = token()
    data["uid"] = "04A1B2\tC3"
    assert errors("Token", data) == [
        "uid: '04A1B2\\tC3' contains characters other than printable ASCII"
    ]


def test_a_coordinate_keeps_to_the_spec_regex():
    data = location()
    data["coordinates"]["latitude"] = "52.52"
    data["evses"][1]["coordinates"]["longitude"] = "13,404954"
    assert errors("Location", data) == [
        "coordinates.latitude: '52.52' is not a latitude like 50.770774",
        "evses[1].coordinates.longitude: '13,404954' is not a longitude like -126.104965",
    ]


def test_a_url_must_be_absolute():
    data = EXAMPLES["StopSession"]()
    data["response_url"] = "/emsp/commands/STOP_SESSION/1"
    assert errors("StopSession", data) == [
        "response_url: '/emsp/commands/STOP_SESSION/1' is not an absolute URL"
    ]


def test_codes_keep_to_their_iso_form():
    data = session()
    data["currency"] = "Euro"
    data["cdr_token"]["country_code"] = "NLD"
    data["party_id"] = "CP"
    assert errors("Session", data) == [
        "party_id: 'CP' is not a 3-character party id (ISO 15118)",
        "cdr_token.country_code: 'NLD' is not an ISO 3166-1 alpha-2 country code",
        "currency: 'Euro' is not an ISO 4217 currency code",
    ]


def test_a_clock_time_in_opening_hours_needs_24h_with_leading_zeros():
    data = location()
    data["opening_times"]["regular_hours"][0]["period_end"] = "9:30"
    assert errors("Location", data) == [
        "opening_times.regular_hours[0].period_end: '9:30' is not a time of day like 08:30 "
        "(24h, leading zeros)"
    ]


def test_the_errata_lengths_of_address_state_and_plain_data_apply():
    data = location()
    data["address"] = "A" * 255
    data["state"] = "S" * 45
    assert errors("Location", data) == []
    data["address"] = "A" * 256
    assert errors("Location", data) == [
        f"address: {'A' * 256!r:.57}... is longer than 255 characters"
    ]
    value = cdr()
    value["signed_data"]["signed_values"][0]["plain_data"] = "p" * 5000
    assert errors("CDR", value) == []


# --- readable errors with a path ---------------------------------------------------------------


def test_a_missing_required_field_deep_inside_is_named_with_its_path():
    data = location()
    del data["evses"][0]["connectors"][1]["standard"]
    assert errors("Location", data) == [
        "evses[0].connectors[1].standard: required field is missing"
    ]


def test_a_wrong_enum_value_lists_the_allowed_ones():
    data = location()
    data["evses"][1]["connectors"][0]["standard"] = "XYZ"
    (found,) = errors("Location", data)
    assert found.startswith("evses[1].connectors[0].standard: 'XYZ' is not one of ['CHADEMO', ")
    assert "'IEC_62196_T2_COMBO'" in found


def test_a_too_long_string_says_how_long_it_may_be():
    data = location()
    data["id"] = "L" * 37
    assert errors("Location", data) == [f"id: {'L' * 37!r} is longer than 36 characters"]


def test_a_bad_date_in_a_nested_list_is_named_with_its_path():
    data = cdr()
    data["charging_periods"][0]["start_date_time"] = "yesterday"
    assert errors("CDR", data) == [
        "charging_periods[0].start_date_time: 'yesterday' is not an OCPI DateTime "
        "(like 2024-05-01T12:00:00Z)"
    ]


def test_every_error_is_reported_at_once():
    data = token()
    del data["issuer"]
    data["type"] = "KEYFOB"
    data["whitelist"] = "SOMETIMES"
    assert errors("Token", data) == [
        "type: 'KEYFOB' is not one of ['AD_HOC_USER', 'APP_USER', 'OTHER', 'RFID']",
        "whitelist: 'SOMETIMES' is not one of ['ALWAYS', 'ALLOWED', 'ALLOWED_OFFLINE', 'NEVER']",
        "issuer: required field is missing",
    ]


def test_a_body_that_is_not_an_object_is_refused_at_the_root():
    assert errors("Location", ["4711"]) == ["(root): ['4711'] is not of type 'object'"]
    (found,) = errors("Location", [location()])
    assert found.startswith("(root): [{'country_code': 'DE'")
    assert found.endswith("... is not of type 'object'")


def test_an_empty_list_where_the_spec_demands_one_or_more_is_refused():
    data = cdr()
    data["charging_periods"] = []
    data["tariffs"][0]["elements"][0]["price_components"] = []
    assert errors("CDR", data) == [
        "tariffs[0].elements[0].price_components: needs at least 1 item",
        "charging_periods: needs at least 1 item",
    ]


def test_an_evse_without_connectors_is_refused():
    data = evse()
    data["connectors"] = []
    assert errors("EVSE", data) == ["connectors: needs at least 1 item"]


def test_check_refuses_with_ocpi_status_2001_and_the_paths():
    data = tariff()
    data["elements"][1]["price_components"][0]["type"] = "KWH"
    with pytest.raises(OcpiError) as refused:
        check("Tariff", data)
    assert refused.value.status_code == INVALID_PARAMETERS
    assert refused.value.http_status == 400
    assert refused.value.message.startswith(
        "Invalid Tariff: elements[1].price_components[0].type: 'KWH' is not one of ["
    )


def test_check_names_at_most_twenty_errors_and_counts_the_rest():
    data = {"elements": [{"price_components": [{"type": f"X{n}"} for n in range(25)]}]}
    with pytest.raises(OcpiError) as refused:
        check("Tariff", data)
    assert refused.value.message.count(";") == 19
    assert refused.value.message.endswith(f"(and {len(errors('Tariff', data)) - 20} more)")


def test_an_unknown_schema_name_is_a_programming_error():
    with pytest.raises(ValueError, match=r"No OCPI 2\.2\.1 schema named 'Tarif'"):
        errors("Tarif", {})


# --- leniency: unknown fields and nulls --------------------------------------------------------


def test_unknown_fields_are_ignored_as_ocpi_asks():
    data = location()
    data["x_vendor_rating"] = 4.5
    data["evses"][0]["connectors"][0]["x_cable_length_m"] = 5
    assert errors("Location", data) == []


def test_an_optional_field_may_be_null():
    data = location()
    data.update(name=None, parking_type=None, operator=None, evses=None, opening_times=None)
    data["coordinates"]["name"] = None
    assert errors("Location", data) == []


def test_a_required_field_may_not_be_null():
    data = location()
    data["address"] = None
    data["evses"][0]["status"] = None
    assert errors("Location", data) == [
        "address: None is not of type 'string'",
        "evses[0].status: None is not one of ['AVAILABLE', 'BLOCKED', 'CHARGING', 'INOPERATIVE', "
        "'OUTOFORDER', 'PLANNED', 'REMOVED', 'RESERVED', 'UNKNOWN']",
    ]


def test_not_available_is_accepted_where_the_spec_allows_it():
    data = session()
    data.update(evse_uid="#NA", connector_id="#NA", status="RESERVATION")
    assert errors("Session", data) == []


# --- rules across fields -----------------------------------------------------------------------


def test_opening_hours_that_are_not_around_the_clock_need_regular_hours():
    data = location()
    del data["opening_times"]["regular_hours"]
    assert errors("Location", data) == ["opening_times.regular_hours: required field is missing"]
    data["opening_times"]["regular_hours"] = []
    assert errors("Location", data) == ["opening_times.regular_hours: needs at least 1 item"]


def test_a_publish_token_needs_something_to_identify_a_token():
    data = location()
    data["publish_allowed_to"] = [{"issuer": "Mobility NL"}]
    assert errors("Location", data) == [
        "publish_allowed_to[0]: needs at least one of uid, visual_number or group_id"
    ]


def test_a_publish_token_uid_needs_its_type_and_a_visual_number_its_issuer():
    data = location()
    data["publish_allowed_to"] = [{"uid": "04A1B2C3D4"}, {"visual_number": "NL-MSP-000123-4"}]
    assert errors("Location", data) == [
        "publish_allowed_to[0].type: required when uid is set",
        "publish_allowed_to[1].issuer: required when visual_number is set",
    ]


def test_a_credit_cdr_must_name_the_cdr_it_credits():
    data = cdr()
    data.update(id="CDR-000101-C", credit=True)
    assert errors("CDR", data) == ["credit_reference_id: required field is missing"]
    data["credit_reference_id"] = "CDR-000101"
    assert errors("CDR", data) == []


def test_start_session_with_a_connector_needs_the_evse():
    data = EXAMPLES["StartSession"]()
    del data["evse_uid"]
    assert errors("StartSession", data) == ["evse_uid: required when connector_id is set"]


def test_a_start_session_token_is_checked_as_a_full_token():
    data = EXAMPLES["StartSession"]()
    del data["token"]["whitelist"]
    assert errors("StartSession", data) == ["token.whitelist: required field is missing"]


def test_credentials_token_is_printable_ascii_without_whitespace_of_at_most_64():
    data = credentials()
    data["token"] = "abc def"
    assert errors("Credentials", data) == ["token: 'abc def' is not a token of printable ASCII"]
    data["token"] = "t" * 65
    (found,) = errors("Credentials", data)
    assert found.startswith("token: 'tttt")
    assert found.endswith("... is longer than 64 characters")


def test_credentials_need_at_least_one_role_with_a_known_role_type():
    data = credentials()
    data["roles"][1]["role"] = "MSP"
    assert errors("Credentials", data) == [
        "roles[1].role: 'MSP' is not one of ['CPO', 'EMSP', 'HUB', 'NAP', 'NSP', 'OTHER', 'SCSP']"
    ]
    data["roles"] = []
    assert errors("Credentials", data) == ["roles: needs at least 1 item"]


def test_tariff_types_include_ad_hoc_payment_and_the_profiles():
    data = tariff()
    for kind in ("AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN", "REGULAR"):
        data["type"] = kind
        assert errors("Tariff", data) == []
    data["type"] = "PROFILE_SLOW"
    (found,) = errors("Tariff", data)
    assert found.startswith("type: 'PROFILE_SLOW' is not one of ['AD_HOC_PAYMENT', ")


def test_a_negative_step_size_is_refused():
    data = tariff()
    data["elements"][2]["price_components"][0]["step_size"] = -300
    assert errors("Tariff", data) == [
        "elements[2].price_components[0].step_size: -300 is less than the minimum of 0"
    ]


def test_a_reservation_restriction_keeps_to_its_enum():
    data = tariff()
    data["elements"][3]["restrictions"]["reservation"] = "EXPIRED"
    assert errors("Tariff", data) == [
        "elements[3].restrictions.reservation: 'EXPIRED' is not one of "
        "['RESERVATION', 'RESERVATION_EXPIRES']"
    ]


def test_an_energy_source_percentage_stays_between_0_and_100():
    data = location()
    data["energy_mix"]["energy_sources"][0]["percentage"] = 162.5
    assert errors("Location", data) == [
        "energy_mix.energy_sources[0].percentage: 162.5 is greater than the maximum of 100"
    ]


def test_a_command_response_needs_its_timeout():
    assert errors("CommandResponse", {"result": "ACCEPTED"}) == [
        "timeout: required field is missing"
    ]


def test_a_command_result_keeps_to_its_enum():
    (found,) = errors("CommandResult", {"result": "OK"})
    assert found.startswith("result: 'OK' is not one of ['ACCEPTED', 'CANCELED_RESERVATION', ")


# --- partial objects (PATCH) -------------------------------------------------------------------


def test_a_patch_needs_only_the_fields_it_changes():
    assert errors("Location", {"name": "Ladepark Rathaus Nord", "last_updated": WHEN}, True) == []
    assert errors("EVSE", {"status": "CHARGING", "last_updated": WHEN}, partial=True) == []
    assert errors("Tariff", {"currency": "CHF"}, partial=True) == []


def test_a_patch_of_a_location_session_or_token_must_carry_last_updated():
    for name, patch in [
        ("Location", {"publish": True}),
        ("Connector", {"max_amperage": 16}),
        ("Session", {"kwh": 3.5}),
        ("Token", {"valid": False}),
    ]:
        assert errors(name, patch, partial=True) == ["last_updated: required field is missing"]


def test_a_patch_still_checks_the_fields_it_carries():
    patch = {"publish": "yes", "last_updated": "now"}
    assert errors("Location", patch, partial=True) == [
        "publish: 'yes' is not of type 'boolean'",
        "last_updated: 'now' is not an OCPI DateTime (like 2024-05-01T12:00:00Z)",
    ]


def test_objects_inside_a_patch_are_complete_objects():
    patch = {"evses": [{"uid": "4711-3", "status": "PLANNED"}], "last_updated": WHEN}
    assert errors("Location", patch, partial=True) == [
        "evses[0].connectors: required field is missing",
        "evses[0].last_updated: required field is missing",
    ]


def test_a_patch_may_clear_an_optional_field_with_null():
    patch = {"end_date_time": None, "total_cost": None, "last_updated": WHEN}
    assert errors("Session", patch, partial=True) == []


def test_a_patch_of_a_credit_cdr_flag_needs_no_reference_in_the_same_body():
    assert errors("CDR", {"credit": True}, partial=True) == []


def test_check_accepts_a_valid_patch():
    patch = {"status": "ACTIVE", "last_updated": WHEN}
    assert check("Session", patch, partial=True) is patch


# --- compiled once -----------------------------------------------------------------------------


def test_the_compiled_validator_is_reused_for_each_name_and_mode():
    assert schemas._validator("Location", False) is schemas._validator("Location", False)
    assert schemas._validator("Location", True) is not schemas._validator("Location", False)
