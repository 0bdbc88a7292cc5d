"""JSON Schemas of the OCPI 2.2.1 objects, and the check every received object goes through.

The schemas are Draft 2020-12 dicts built from small type helpers that mirror the spec's
types (CiString(n), string(n), URL, DateTime, number, int, enums). Unknown fields are allowed,
as OCPI tells a receiver to ignore them; an optional field may also be sent as `null`, which
many implementations do for "not set" and which a PATCH uses to clear a field.
"""

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache

from jsonschema import Draft202012Validator, FormatChecker

from roaming.ocpi.status import invalid

# --- the spec's types -------------------------------------------------------------------------

_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
    r"(?:[Zz]|[+-](\d{2}):(\d{2}))?$"
)
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("ocpi-datetime")
def _is_datetime(value) -> bool:
    """RFC 3339 as OCPI writes it: `Z`, an offset or nothing (UTC), optional fractions."""
    if not isinstance(value, str):
        return True
    found = _DATETIME.match(value)
    if not found:
        return False
    year, month, day, hour, minute, second, off_h, off_m = found.groups()
    try:
        # A leap second (:60) is valid RFC 3339, datetime only knows :59.
        datetime(int(year), int(month), int(day), int(hour), int(minute), min(int(second), 59))
    except ValueError:
        return False
    return off_h is None or (int(off_h) <= 23 and int(off_m) <= 59)


def cistring(length: int) -> dict:
    """CiString(n): case-insensitive, printable ASCII only."""
    return {
        "type": "string",
        "maxLength": length,
        "pattern": r"^[\x20-\x7E]*$",
        "x-message": "contains characters other than printable ASCII",
    }


def string(length: int) -> dict:
    """string(n): case-sensitive UTF-8."""
    return {"type": "string", "maxLength": length}


def text_pattern(pattern: str, message: str, length: int | None = None) -> dict:
    """A string with a fixed syntax (codes, clock times, coordinates)."""
    schema = {"type": "string", "pattern": pattern, "x-message": message}
    if length is not None:
        schema["maxLength"] = length
    return schema


def enum(*values: str) -> dict:
    """One of the spec's enum values (case-sensitive)."""
    return {"enum": list(values)}


def array(items: dict, min_items: int = 0) -> dict:
    """A list (`*` cardinality, or `+` with min_items=1)."""
    schema = {"type": "array", "items": items}
    if min_items:
        schema["minItems"] = min_items
    return schema


def obj(properties: dict, required: Iterable[str] = (), **extra) -> dict:
    """An object; its optional properties also accept null."""
    required = list(required)
    props = {
        key: value if key in required else _nullable(value) for key, value in properties.items()
    }
    schema = {"type": "object", "properties": props, **extra}
    if required:
        schema["required"] = required
    return schema


def _nullable(schema: dict) -> dict:
    """The same schema, also accepting null."""
    schema = dict(schema)
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


DATETIME = {
    "type": "string",
    "format": "ocpi-datetime",
    "x-message": "is not an OCPI DateTime (like 2024-05-01T12:00:00Z)",
}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
URL = {
    "type": "string",
    "maxLength": 255,
    "pattern": r"^[A-Za-z][A-Za-z0-9+.\-]*://\S+$",
    "x-message": "is not an absolute URL",
}
COUNTRY_CODE = text_pattern(r"^[A-Za-z]{2}$", "is not an ISO 3166-1 alpha-2 country code")
PARTY_ID = text_pattern(r"^[A-Za-z0-9]{3}$", "is not a 3-character party id (ISO 15118)")
COUNTRY = text_pattern(r"^[A-Z]{3}$", "is not an ISO 3166-1 alpha-3 country code")
CURRENCY = text_pattern(r"^[A-Z]{3}$", "is not an ISO 4217 currency code")
LANGUAGE = text_pattern(r"^[A-Za-z]{2}$", "is not an ISO 639-1 language code")
CLOCK_TIME = text_pattern(
    r"^([0-1][0-9]|2[0-3]):[0-5][0-9]$", "is not a time of day like 08:30 (24h, leading zeros)"
)
DATE = text_pattern(
    r"^([12][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", "is not a date like 2024-12-24"
)
# The spec gives both string(10)/(11) and these regexes, which allow one character more; the
# regex wins, so it is the only bound.
LATITUDE = text_pattern(r"^-?[0-9]{1,2}\.[0-9]{5,7}$", "is not a latitude like 50.770774")
LONGITUDE = text_pattern(r"^-?[0-9]{1,3}\.[0-9]{5,7}$", "is not a longitude like -126.104965")

# --- enums ------------------------------------------------------------------------------------

ROLE = enum("CPO", "EMSP", "HUB", "NAP", "NSP", "OTHER", "SCSP")
TOKEN_TYPE = enum("AD_HOC_USER", "APP_USER", "OTHER", "RFID")
WHITELIST_TYPE = enum("ALWAYS", "ALLOWED", "ALLOWED_OFFLINE", "NEVER")
ALLOWED_TYPE = enum("ALLOWED", "BLOCKED", "EXPIRED", "NO_CREDIT", "NOT_ALLOWED")
PROFILE_TYPE = enum("CHEAP", "FAST", "GREEN", "REGULAR")
STATUS = enum(
    "AVAILABLE",
    "BLOCKED",
    "CHARGING",
    "INOPERATIVE",
    "OUTOFORDER",
    "PLANNED",
    "REMOVED",
    "RESERVED",
    "UNKNOWN",
)
CAPABILITY = enum(
    "CHARGING_PROFILE_CAPABLE",
    "CHARGING_PREFERENCES_CAPABLE",
    "CHIP_CARD_SUPPORT",
    "CONTACTLESS_CARD_SUPPORT",
    "CREDIT_CARD_PAYABLE",
    "DEBIT_CARD_PAYABLE",
    "PED_TERMINAL",
    "REMOTE_START_STOP_CAPABLE",
    "RESERVABLE",
    "RFID_READER",
    "START_SESSION_CONNECTOR_REQUIRED",
    "TOKEN_GROUP_CAPABLE",
    "UNLOCK_CAPABLE",
)
CONNECTOR_TYPE = enum(
    "CHADEMO",
    "CHAOJI",
    *(f"DOMESTIC_{letter}" for letter in "ABCDEFGHIJKLMNO"),
    "GBT_AC",
    "GBT_DC",
    "IEC_60309_2_single_16",
    "IEC_60309_2_three_16",
    "IEC_60309_2_three_32",
    "IEC_60309_2_three_64",
    "IEC_62196_T1",
    "IEC_62196_T1_COMBO",
    "IEC_62196_T2",
    "IEC_62196_T2_COMBO",
    "IEC_62196_T3A",
    "IEC_62196_T3C",
    "NEMA_5_20",
    "NEMA_6_30",
    "NEMA_6_50",
    "NEMA_10_30",
    "NEMA_10_50",
    "NEMA_14_30",
    "NEMA_14_50",
    "PANTOGRAPH_BOTTOM_UP",
    "PANTOGRAPH_TOP_DOWN",
    "TESLA_R",
    "TESLA_S",
)
CONNECTOR_FORMAT = enum("SOCKET", "CABLE")
POWER_TYPE = enum("AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC")
PARKING_TYPE = enum(
    "ALONG_MOTORWAY",
    "PARKING_GARAGE",
    "PARKING_LOT",
    "ON_DRIVEWAY",
    "ON_STREET",
    "UNDERGROUND_GARAGE",
)
PARKING_RESTRICTION = enum("EV_ONLY", "PLUGGED", "DISABLED", "CUSTOMERS", "MOTORCYCLES")
FACILITY = enum(
    "HOTEL",
    "RESTAURANT",
    "CAFE",
    "MALL",
    "SUPERMARKET",
    "SPORT",
    "RECREATION_AREA",
    "NATURE",
    "MUSEUM",
    "BIKE_SHARING",
    "BUS_STOP",
    "TAXI_STAND",
    "TRAM_STOP",
    "METRO_STATION",
    "TRAIN_STATION",
    "AIRPORT",
    "PARKING_LOT",
    "CARPOOL_PARKING",
    "FUEL_STATION",
    "WIFI",
)
IMAGE_CATEGORY = enum("CHARGER", "ENTRANCE", "LOCATION", "NETWORK", "OPERATOR", "OTHER", "OWNER")
ENERGY_SOURCE_CATEGORY = enum(
    "NUCLEAR", "GENERAL_FOSSIL", "COAL", "GAS", "GENERAL_GREEN", "SOLAR", "WIND", "WATER"
)
ENVIRONMENTAL_IMPACT_CATEGORY = enum("NUCLEAR_WASTE", "CARBON_DIOXIDE")
AUTH_METHOD = enum("AUTH_REQUEST", "COMMAND", "WHITELIST")
# The session-only dimensions (CURRENT, POWER, STATE_OF_CHARGE...) are accepted in a CDR too:
# the spec says a CDR SHALL NOT use them, but refusing a billing record for an extra
# informational value would do more harm than ignoring it.
CDR_DIMENSION_TYPE = enum(
    "CURRENT",
    "ENERGY",
    "ENERGY_EXPORT",
    "ENERGY_IMPORT",
    "MAX_CURRENT",
    "MIN_CURRENT",
    "MAX_POWER",
    "MIN_POWER",
    "PARKING_TIME",
    "POWER",
    "RESERVATION_TIME",
    "STATE_OF_CHARGE",
    "TIME",
)
SESSION_STATUS = enum("ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION")
TARIFF_TYPE = enum("AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN", "REGULAR")
TARIFF_DIMENSION_TYPE = enum("ENERGY", "FLAT", "PARKING_TIME", "TIME")
DAY_OF_WEEK = enum("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
RESERVATION_RESTRICTION_TYPE = enum("RESERVATION", "RESERVATION_EXPIRES")
COMMAND_RESPONSE_TYPE = enum("NOT_SUPPORTED", "REJECTED", "ACCEPTED", "UNKNOWN_SESSION")
COMMAND_RESULT_TYPE = enum(
    "ACCEPTED",
    "CANCELED_RESERVATION",
    "EVSE_OCCUPIED",
    "EVSE_INOPERATIVE",
    "FAILED",
    "NOT_SUPPORTED",
    "REJECTED",
    "TIMEOUT",
    "UNKNOWN_RESERVATION",
)

# --- shared classes ---------------------------------------------------------------------------

DISPLAY_TEXT = obj({"language": LANGUAGE, "text": string(512)}, ["language", "text"])
PRICE = obj({"excl_vat": NUMBER, "incl_vat": NUMBER}, ["excl_vat"])
GEO_LOCATION = obj({"latitude": LATITUDE, "longitude": LONGITUDE}, ["latitude", "longitude"])
ADDITIONAL_GEO_LOCATION = obj(
    {"latitude": LATITUDE, "longitude": LONGITUDE, "name": DISPLAY_TEXT},
    ["latitude", "longitude"],
)
IMAGE = obj(
    {
        "url": URL,
        "thumbnail": URL,
        "category": IMAGE_CATEGORY,
        "type": cistring(4),
        "width": {"type": "integer", "minimum": 0, "maximum": 99999},
        "height": {"type": "integer", "minimum": 0, "maximum": 99999},
    },
    ["url", "category", "type"],
)
BUSINESS_DETAILS = obj({"name": string(100), "website": URL, "logo": IMAGE}, ["name"])
REGULAR_HOURS = obj(
    {
        "weekday": {"type": "integer", "minimum": 1, "maximum": 7},
        "period_begin": CLOCK_TIME,
        "period_end": CLOCK_TIME,
    },
    ["weekday", "period_begin", "period_end"],
)
EXCEPTIONAL_PERIOD = obj(
    {"period_begin": DATETIME, "period_end": DATETIME}, ["period_begin", "period_end"]
)
HOURS = obj(
    {
        "twentyfourseven": BOOLEAN,
        "regular_hours": array(REGULAR_HOURS),
        "exceptional_openings": array(EXCEPTIONAL_PERIOD),
        "exceptional_closings": array(EXCEPTIONAL_PERIOD),
    },
    ["twentyfourseven"],
    # Not open around the clock: the spec needs at least one RegularHours then.
    **{
        "if": {
            "properties": {"twentyfourseven": {"const": False}},
            "required": ["twentyfourseven"],
        },
        "then": {
            "required": ["regular_hours"],
            "properties": {"regular_hours": {"type": "array", "minItems": 1}},
        },
    },
)
ENERGY_SOURCE = obj(
    {
        "source": ENERGY_SOURCE_CATEGORY,
        "percentage": {"type": "number", "minimum": 0, "maximum": 100},
    },
    ["source", "percentage"],
)
ENVIRONMENTAL_IMPACT = obj(
    {"category": ENVIRONMENTAL_IMPACT_CATEGORY, "amount": NUMBER}, ["category", "amount"]
)
ENERGY_MIX = obj(
    {
        "is_green_energy": BOOLEAN,
        "energy_sources": array(ENERGY_SOURCE),
        "environ_impact": array(ENVIRONMENTAL_IMPACT),
        "supplier_name": string(64),
        "energy_product_name": string(64),
    },
    ["is_green_energy"],
)
PUBLISH_TOKEN_TYPE = obj(
    {
        "uid": cistring(36),
        "type": TOKEN_TYPE,
        "visual_number": string(64),
        "issuer": string(64),
        "group_id": cistring(36),
    },
    **{
        "anyOf": [
            {"required": ["uid"]},
            {"required": ["visual_number"]},
            {"required": ["group_id"]},
        ],
        "dependentRequired": {"uid": ["type"], "visual_number": ["issuer"]},
        "x-message": "needs at least one of uid, visual_number or group_id",
    },
)
STATUS_SCHEDULE = obj(
    {"period_begin": DATETIME, "period_end": DATETIME, "status": STATUS},
    ["period_begin", "status"],
)

# --- locations --------------------------------------------------------------------------------

CONNECTOR = obj(
    {
        "id": cistring(36),
        "standard": CONNECTOR_TYPE,
        "format": CONNECTOR_FORMAT,
        "power_type": POWER_TYPE,
        "max_voltage": INTEGER,
        "max_amperage": INTEGER,
        "max_electric_power": INTEGER,
        "tariff_ids": array(cistring(36)),
        "terms_and_conditions": URL,
        "last_updated": DATETIME,
    },
    ["id", "standard", "format", "power_type", "max_voltage", "max_amperage", "last_updated"],
)
EVSE = obj(
    {
        "uid": cistring(36),
        "evse_id": cistring(48),
        "status": STATUS,
        "status_schedule": array(STATUS_SCHEDULE),
        "capabilities": array(CAPABILITY),
        "connectors": array(CONNECTOR, min_items=1),
        "floor_level": string(4),
        "coordinates": GEO_LOCATION,
        "physical_reference": string(16),
        "directions": array(DISPLAY_TEXT),
        "parking_restrictions": array(PARKING_RESTRICTION),
        "images": array(IMAGE),
        "last_updated": DATETIME,
    },
    ["uid", "status", "connectors", "last_updated"],
)
# address string(255) and state string(45), not 45/20: the 2.2.1 errata (the first release
# text had them too short); CdrLocation copies a Location's address, so it follows.
LOCATION = obj(
    {
        "country_code": COUNTRY_CODE,
        "party_id": PARTY_ID,
        "id": cistring(36),
        "publish": BOOLEAN,
        "publish_allowed_to": array(PUBLISH_TOKEN_TYPE),
        "name": string(255),
        "address": string(255),
        "city": string(45),
        "postal_code": string(10),
        "state": string(45),
        "country": COUNTRY,
        "coordinates": GEO_LOCATION,
        "related_locations": array(ADDITIONAL_GEO_LOCATION),
        "parking_type": PARKING_TYPE,
        "evses": array(EVSE),
        "directions": array(DISPLAY_TEXT),
        "operator": BUSINESS_DETAILS,
        "suboperator": BUSINESS_DETAILS,
        "owner": BUSINESS_DETAILS,
        "facilities": array(FACILITY),
        "time_zone": string(255),
        "opening_times": HOURS,
        "charging_when_closed": BOOLEAN,
        "images": array(IMAGE),
        "energy_mix": ENERGY_MIX,
        "last_updated": DATETIME,
    },
    [
        "country_code",
        "party_id",
        "id",
        "publish",
        "address",
        "city",
        "country",
        "coordinates",
        "time_zone",
        "last_updated",
    ],
)

# --- tokens -----------------------------------------------------------------------------------

ENERGY_CONTRACT = obj({"supplier_name": string(64), "contract_id": string(64)}, ["supplier_name"])
TOKEN = obj(
    {
        "country_code": COUNTRY_CODE,
        "party_id": PARTY_ID,
        "uid": cistring(36),
        "type": TOKEN_TYPE,
        "contract_id": cistring(36),
        "visual_number": string(64),
        "issuer": string(64),
        "group_id": cistring(36),
        "valid": BOOLEAN,
        "whitelist": WHITELIST_TYPE,
        "language": LANGUAGE,
        "default_profile_type": PROFILE_TYPE,
        "energy_contract": ENERGY_CONTRACT,
        "last_updated": DATETIME,
    },
    [
        "country_code",
        "party_id",
        "uid",
        "type",
        "contract_id",
        "issuer",
        "valid",
        "whitelist",
        "last_updated",
    ],
)
LOCATION_REFERENCES = obj(
    {"location_id": cistring(36), "evse_uids": array(cistring(36))}, ["location_id"]
)
AUTHORIZATION_INFO = obj(
    {
        "allowed": ALLOWED_TYPE,
        "token": TOKEN,
        "location": LOCATION_REFERENCES,
        "authorization_reference": cistring(36),
        "info": DISPLAY_TEXT,
    },
    ["allowed", "token"],
)

# --- sessions and CDRs ------------------------------------------------------------------------

CDR_TOKEN = obj(
    {
        "country_code": COUNTRY_CODE,
        "party_id": PARTY_ID,
        "uid": cistring(36),
        "type": TOKEN_TYPE,
        "contract_id": cistring(36),
    },
    ["country_code", "party_id", "uid", "type", "contract_id"],
)
CDR_DIMENSION = obj({"type": CDR_DIMENSION_TYPE, "volume": NUMBER}, ["type", "volume"])
CHARGING_PERIOD = obj(
    {
        "start_date_time": DATETIME,
        "dimensions": array(CDR_DIMENSION, min_items=1),
        "tariff_id": cistring(36),
    },
    ["start_date_time", "dimensions"],
)
SESSION = obj(
    {
        "country_code": COUNTRY_CODE,
        "party_id": PARTY_ID,
        "id": cistring(36),
        "start_date_time": DATETIME,
        "end_date_time": DATETIME,
        "kwh": NUMBER,
        "cdr_token": CDR_TOKEN,
        "auth_method": AUTH_METHOD,
        "authorization_reference": cistring(36),
        "location_id": cistring(36),
        "evse_uid": cistring(36),
        "connector_id": cistring(36),
        "meter_id": string(255),
        "currency": CURRENCY,
        "charging_periods": array(CHARGING_PERIOD),
        "total_cost": PRICE,
        "status": SESSION_STATUS,
        "last_updated": DATETIME,
    },
    [
        "country_code",
        "party_id",
        "id",
        "start_date_time",
        "kwh",
        "cdr_token",
        "auth_method",
        "location_id",
        "evse_uid",
        "connector_id",
        "currency",
        "status",
        "last_updated",
    ],
)
CHARGING_PREFERENCES = obj(
    {
        "profile_type": PROFILE_TYPE,
        "departure_time": DATETIME,
        "energy_need": NUMBER,
        "discharge_allowed": BOOLEAN,
    },
    ["profile_type"],
)

# --- tariffs ----------------------------------------------------------------------------------

PRICE_COMPONENT = obj(
    {
        "type": TARIFF_DIMENSION_TYPE,
        "price": NUMBER,
        "vat": NUMBER,
        "step_size": {"type": "integer", "minimum": 0},
    },
    ["type", "price", "step_size"],
)
TARIFF_RESTRICTIONS = obj(
    {
        "start_time": CLOCK_TIME,
        "end_time": CLOCK_TIME,
        "start_date": DATE,
        "end_date": DATE,
        "min_kwh": NUMBER,
        "max_kwh": NUMBER,
        "min_current": NUMBER,
        "max_current": NUMBER,
        "min_power": NUMBER,
        "max_power": NUMBER,
        "min_duration": INTEGER,
        "max_duration": INTEGER,
        "day_of_week": array(DAY_OF_WEEK),
        "reservation": RESERVATION_RESTRICTION_TYPE,
    }
)
TARIFF_ELEMENT = obj(
    {
        "price_components": array(PRICE_COMPONENT, min_items=1),
        "restrictions": TARIFF_RESTRICTIONS,
    },
    ["price_components"],
)
TARIFF = obj(
    {
        "country_code": COUNTRY_CODE,
        "party_id": PARTY_ID,
        "id": cistring(36),
        "currency": CURRENCY,
        "type": TARIFF_TYPE,
        "tariff_alt_text": array(DISPLAY_TEXT),
        "tariff_alt_url": URL,
        "min_price": PRICE,
        "max_price": PRICE,
        "elements": array(TARIFF_ELEMENT, min_items=1),
        "start_date_time": DATETIME,
        "end_date_time": DATETIME,
        "energy_mix": ENERGY_MIX,
        "last_updated": DATETIME,
    },
    ["country_code", "party_id", "id", "currency", "elements", "last_updated"],
)

# --- CDRs -------------------------------------------------------------------------------------

CDR_LOCATION = obj(
    {
        "id": cistring(36),
        "name": string(255),
        "address": string(255),
        "city": string(45),
        "postal_code": string(10),
        "state": string(45),
        "country": COUNTRY,
        "coordinates": GEO_LOCATION,
        "evse_uid": cistring(36),
        "evse_id": cistring(48),
        "connector_id": cistring(36),
        "connector_standard": CONNECTOR_TYPE,
        "connector_format": CONNECTOR_FORMAT,
        "connector_power_type": POWER_TYPE,
    },
    [
        "id",
        "address",
        "city",
        "country",
        "coordinates",
        "evse_uid",
        "evse_id",
        "connector_id",
        "connector_standard",
        "connector_format",
        "connector_power_type",
    ],
)
# plain_data string(5000), not 512: 2.2.1 errata.
SIGNED_VALUE = obj(
    {"nature": cistring(32), "plain_data": string(5000), "signed_data": string(5000)},
    ["nature", "plain_data", "signed_data"],
)
SIGNED_DATA = obj(
    {
        "encoding_method": cistring(36),
        "encoding_method_version": INTEGER,
        "public_key": string(512),
        "signed_values": array(SIGNED_VALUE, min_items=1),
        "url": string(512),
    },
    ["encoding_method", "signed_values"],
)
CDR = obj(
    {
        "country_code": COUNTRY_CODE,
        "party_id": PARTY_ID,
        "id": cistring(39),
        "start_date_time": DATETIME,
        "end_date_time": DATETIME,
        "session_id": cistring(36),
        "cdr_token": CDR_TOKEN,
        "auth_method": AUTH_METHOD,
        "authorization_reference": cistring(36),
        "cdr_location": CDR_LOCATION,
        "meter_id": string(255),
        "currency": CURRENCY,
        "tariffs": array(TARIFF),
        "charging_periods": array(CHARGING_PERIOD, min_items=1),
        "signed_data": SIGNED_DATA,
        "total_cost": PRICE,
        "total_fixed_cost": PRICE,
        "total_energy": NUMBER,
        "total_energy_cost": PRICE,
        "total_time": NUMBER,
        "total_time_cost": PRICE,
        "total_parking_time": NUMBER,
        "total_parking_cost": PRICE,
        "total_reservation_cost": PRICE,
        "remark": string(255),
        "invoice_reference_id": cistring(39),
        "credit": BOOLEAN,
        "credit_reference_id": cistring(39),
        "home_charging_compensation": BOOLEAN,
        "last_updated": DATETIME,
    },
    [
        "country_code",
        "party_id",
        "id",
        "start_date_time",
        "end_date_time",
        "cdr_token",
        "auth_method",
        "cdr_location",
        "currency",
        "charging_periods",
        "total_cost",
        "total_energy",
        "total_time",
        "last_updated",
    ],
    # A credit CDR names the CDR it credits.
    **{
        "if": {"properties": {"credit": {"const": True}}, "required": ["credit"]},
        "then": {"required": ["credit_reference_id"]},
    },
)

# --- credentials ------------------------------------------------------------------------------

CREDENTIALS_ROLE = obj(
    {
        "role": ROLE,
        "business_details": BUSINESS_DETAILS,
        "party_id": PARTY_ID,
        "country_code": COUNTRY_CODE,
    },
    ["role", "business_details", "party_id", "country_code"],
)
CREDENTIALS = obj(
    {
        "token": text_pattern(r"^[\x21-\x7E]+$", "is not a token of printable ASCII", 64),
        "url": URL,
        "roles": array(CREDENTIALS_ROLE, min_items=1),
    },
    ["token", "url", "roles"],
)

# --- commands ---------------------------------------------------------------------------------

COMMAND_RESPONSE = obj(
    {"result": COMMAND_RESPONSE_TYPE, "timeout": INTEGER, "message": array(DISPLAY_TEXT)},
    ["result", "timeout"],
)
COMMAND_RESULT = obj(
    {"result": COMMAND_RESULT_TYPE, "message": array(DISPLAY_TEXT)},
    ["result"],
)
START_SESSION = obj(
    {
        "response_url": URL,
        "token": TOKEN,
        "location_id": cistring(36),
        "evse_uid": cistring(36),
        "connector_id": cistring(36),
        "authorization_reference": cistring(36),
    },
    ["response_url", "token", "location_id"],
    # A connector only means something on a named EVSE.
    dependentRequired={"connector_id": ["evse_uid"]},
)
STOP_SESSION = obj(
    {"response_url": URL, "session_id": cistring(36)}, ["response_url", "session_id"]
)
RESERVE_NOW = obj(
    {
        "response_url": URL,
        "token": TOKEN,
        "expiry_date": DATETIME,
        "reservation_id": cistring(36),
        "location_id": cistring(36),
        "evse_uid": cistring(36),
        "authorization_reference": cistring(36),
    },
    ["response_url", "token", "expiry_date", "reservation_id", "location_id"],
)
CANCEL_RESERVATION = obj(
    {"response_url": URL, "reservation_id": cistring(36)}, ["response_url", "reservation_id"]
)
UNLOCK_CONNECTOR = obj(
    {
        "response_url": URL,
        "location_id": cistring(36),
        "evse_uid": cistring(36),
        "connector_id": cistring(36),
    },
    ["response_url", "location_id", "evse_uid", "connector_id"],
)

SCHEMAS: dict[str, dict] = {
    "Location": LOCATION,
    "EVSE": EVSE,
    "Connector": CONNECTOR,
    "GeoLocation": GEO_LOCATION,
    "AdditionalGeoLocation": ADDITIONAL_GEO_LOCATION,
    "BusinessDetails": BUSINESS_DETAILS,
    "Image": IMAGE,
    "Hours": HOURS,
    "RegularHours": REGULAR_HOURS,
    "ExceptionalPeriod": EXCEPTIONAL_PERIOD,
    "EnergyMix": ENERGY_MIX,
    "EnergySource": ENERGY_SOURCE,
    "EnvironmentalImpact": ENVIRONMENTAL_IMPACT,
    "PublishTokenType": PUBLISH_TOKEN_TYPE,
    "StatusSchedule": STATUS_SCHEDULE,
    "DisplayText": DISPLAY_TEXT,
    "Price": PRICE,
    "Session": SESSION,
    "ChargingPreferences": CHARGING_PREFERENCES,
    "CdrToken": CDR_TOKEN,
    "CdrDimension": CDR_DIMENSION,
    "ChargingPeriod": CHARGING_PERIOD,
    "CDR": CDR,
    "CdrLocation": CDR_LOCATION,
    "SignedData": SIGNED_DATA,
    "SignedValue": SIGNED_VALUE,
    "Tariff": TARIFF,
    "TariffElement": TARIFF_ELEMENT,
    "PriceComponent": PRICE_COMPONENT,
    "TariffRestrictions": TARIFF_RESTRICTIONS,
    "Token": TOKEN,
    "EnergyContract": ENERGY_CONTRACT,
    "AuthorizationInfo": AUTHORIZATION_INFO,
    "LocationReferences": LOCATION_REFERENCES,
    "Credentials": CREDENTIALS,
    "CredentialsRole": CREDENTIALS_ROLE,
    "CommandResponse": COMMAND_RESPONSE,
    "CommandResult": COMMAND_RESULT,
    "StartSession": START_SESSION,
    "StopSession": STOP_SESSION,
    "ReserveNow": RESERVE_NOW,
    "CancelReservation": CANCEL_RESERVATION,
    "UnlockConnector": UNLOCK_CONNECTOR,
}

# The modules whose PATCH "SHALL contain the last_updated field" (locations, sessions, tokens).
_PATCH_NEEDS_LAST_UPDATED = {"Location", "EVSE", "Connector", "Session", "Token"}
# Top-level keywords that only demand fields; a PATCH carries just the fields it changes.
_REQUIRING_KEYWORDS = ("required", "dependentRequired", "if", "then", "else")

# --- validation -------------------------------------------------------------------------------


@cache
def _validator(name: str, partial: bool) -> Draft202012Validator:
    """The compiled validator of one object (built at first use, then reused)."""
    try:
        schema = SCHEMAS[name]
    except KeyError:
        raise ValueError(f"No OCPI 2.2.1 schema named {name!r}; known: {sorted(SCHEMAS)}") from None
    if partial:
        schema = {key: value for key, value in schema.items() if key not in _REQUIRING_KEYWORDS}
        if name in _PATCH_NEEDS_LAST_UPDATED:
            schema["required"] = ["last_updated"]
    return Draft202012Validator(schema, format_checker=_FORMATS)


def errors(name: str, data, partial: bool = False) -> list[str]:
    """Where and why `data` is not a valid OCPI 2.2.1 `name` object ("path: message" each)."""
    found: dict[str, None] = {}  # ordered and without repeats
    for error in _validator(name, partial).iter_errors(data):
        found.update(dict.fromkeys(_describe(error)))
    return list(found)


def check(name: str, data, partial: bool = False) -> dict:
    """`data` if it is a valid `name` object (partial: a PATCH), else OcpiError 2001."""
    found = errors(name, data, partial=partial)
    if found:
        more = f" (and {len(found) - 20} more)" if len(found) > 20 else ""
        raise invalid(f"Invalid {name}: " + "; ".join(found[:20]) + more)
    return data


def _path(parts) -> str:
    """`evses[0].connectors[1].standard` from the error's path parts."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _short(value) -> str:
    """The offending value, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error) -> list[str]:
    """Readable "path: message" lines for one jsonschema error."""
    where = list(error.absolute_path)
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = [key for key in expected if isinstance(value, dict) and key not in value]
        return [f"{_path([*where, key])}: required field is missing" for key in missing]
    if keyword == "dependentRequired":
        return [
            f"{_path([*where, need])}: required when {key} is set"
            for key, needs in expected.items()
            if key in value
            for need in needs
            if need not in value
        ]
    custom = error.schema.get("x-message")
    if keyword == "type":
        kinds = [expected] if isinstance(expected, str) else [k for k in expected if k != "null"]
        message = f"{_short(value)} is not of type {' or '.join(repr(k) for k in kinds)}"
    elif keyword == "enum":
        message = f"{_short(value)} is not one of {[v for v in expected if v is not None]}"
    elif keyword == "maxLength":
        message = f"{_short(value)} is longer than {expected} characters"
    elif keyword == "minItems":
        message = f"needs at least {expected} item{'s' if expected != 1 else ''}"
    elif keyword in ("pattern", "format"):
        message = f"{_short(value)} {custom}" if custom else f"{_short(value)} is not valid here"
    elif keyword == "anyOf" and custom:
        message = custom
    else:
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
    return [f"{_path(where) or '(root)'}: {message}"]
