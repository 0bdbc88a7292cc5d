"""What CPO partners send our eMSP role, pushed or pulled: checked, stored, columns derived.

The receivers (`emsp/locations.py`, `sessions.py`, `cdrs.py`, `tariffs.py`) and the pull
(`pull_partner_data`) store through the same functions, so an object reads the same whichever
way it came. Every store is idempotent: an object is keyed by (partner, country code, party id,
OCPI id), a second push of it updates the row (a CDR, immutable in OCPI, is kept as first
received), and a copy older than the stored one (a pull racing a push) changes nothing.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cards.models import IdToken, normalize_uid
from roaming.choices import InterfaceRole, Module, PartnerRole, PartnerStatus
from roaming.models import (
    PartnerCdr,
    PartnerLocation,
    PartnerSession,
    PartnerTariff,
    RoamingPartner,
    RoamingProfile,
)
from roaming.ocpi.client import OcpiClient, PartnerError
from roaming.ocpi.server import OcpiView
from roaming.ocpi.status import (
    CLIENT_ERROR,
    UNKNOWN_LOCATION,
    OcpiError,
    invalid,
    not_found,
    ocpi_timestamp,
)
from roaming.ocpi.v221 import schemas

logger = logging.getLogger(__name__)

# Money and energy columns: DecimalField(max_digits=12, decimal_places=4).
PLACES = Decimal("0.0001")
LARGEST = Decimal("100000000")
# Lists of identified children a PATCH merges by id instead of replacing (OCPI: what a PATCH
# does not name is unchanged, so a PATCH naming one EVSE must not remove the others).
KEYED_LISTS = {"evses": "uid", "connectors": "id"}


# --- values -------------------------------------------------------------------------------------


def moment(data: dict, name: str, *, required: bool = True) -> datetime | None:
    """An OCPI DateTime field as an aware datetime (UTC when it has no offset)."""
    raw = data.get(name)
    if raw is None:
        if required:
            raise invalid(f"{name} is required.")
        return None
    try:
        parsed = parse_datetime(raw) if isinstance(raw, str) else None
    except ValueError:
        # Well formed but impossible (month 13): parse_datetime raises rather than answer None.
        parsed = None
    if parsed is None:
        raise invalid(f"{name} must be an RFC 3339 date and time.")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_fixed_timezone(0))
    return parsed


def amount(value, name: str) -> Decimal | None:
    """An OCPI number as a Decimal of four places (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(f"{name} must be a number.")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise invalid(f"{name} must be a number.") from None
    if not number.is_finite() or abs(number) >= LARGEST:
        raise invalid(f"{name} is out of range.")
    return number.quantize(PLACES)


def text(value, length: int) -> str:
    """A text column from an OCPI field, cut to the column's length."""
    return str(value)[:length] if value is not None else ""


def price(data: dict, name: str) -> tuple[Decimal | None, Decimal | None]:
    """(excl. VAT, incl. VAT) of an OCPI Price field, or (None, None) when it is absent."""
    value = data.get(name)
    if value is None:
        return None, None
    if not isinstance(value, dict):
        raise invalid(f"{name} must be a Price object.")
    return amount(value.get("excl_vat"), f"{name}.excl_vat"), amount(
        value.get("incl_vat"), f"{name}.incl_vat"
    )


def our_card(partner: RoamingPartner, profile: RoamingProfile | None, token) -> IdToken | None:
    """Our card a CdrToken names: same uid, in this organization only, and issued by us."""
    if not isinstance(token, dict) or not token.get("uid"):
        return None
    issuer = (str(token.get("country_code", "")).upper(), str(token.get("party_id", "")).upper())
    if (
        profile is not None
        and issuer != ("", "")
        and issuer
        != (
            profile.country_code,
            profile.party_id,
        )
    ):
        # Another eMSP's driver (a hub may route its sessions through us): not our card.
        return None
    return (
        IdToken.objects.for_org(partner.organization_id)
        .filter(uid=normalize_uid(str(token["uid"])))
        .first()
    )


# --- the receivers' base ------------------------------------------------------------------------


class ReceiverView(OcpiView):
    """An endpoint of our eMSP role: open only while we play it, for the partner's own objects."""

    def require_emsp(self) -> RoamingProfile:
        """Our profile; refuses when this organization does not play the eMSP role."""
        if self.profile is None or not self.profile.emsp_enabled:
            raise OcpiError(
                CLIENT_ERROR, "This party does not play the eMSP role.", http_status=404
            )
        return self.profile

    def require_cpo(self) -> RoamingProfile:
        """Our profile; refuses a partner that is no charge point operator (nor a hub)."""
        profile = self.require_emsp()
        plays_cpo = self.partner.role in (PartnerRole.CPO, PartnerRole.HUB) or any(
            isinstance(role, dict) and role.get("role") == PartnerRole.CPO
            for role in self.partner.roles or []
        )
        if not plays_cpo:
            raise OcpiError(
                CLIENT_ERROR, "Only charge point operators use our tokens.", http_status=403
            )
        return profile

    def owner(self, country_code: str, party_id: str) -> tuple[str, str]:
        """The URL's party, upper-cased (CiString); refused unless the partner speaks for it."""
        self.require_emsp()
        party = (country_code.upper(), party_id.upper())
        self.require_party(*party)
        return party

    def body_object(self, *, required: tuple[str, ...] = ()) -> dict:
        """The JSON object of the request body, with `required` fields present."""
        if not isinstance(self.body, dict):
            raise invalid("The body must be a JSON object.")
        missing = [name for name in required if self.body.get(name) in (None, "")]
        if missing:
            raise invalid("Missing: " + ", ".join(missing) + ".")
        return self.body


def same_object(data: dict, party: tuple[str, str], ids: dict[str, str]) -> None:
    """Refuse (2001) an object whose owner or id differs from the URL's, where it names them."""
    for name, expected in (("country_code", party[0]), ("party_id", party[1])):
        if name in data and str(data[name]).upper() != expected:
            raise invalid(f"{name} {data[name]!r} differs from the URL's {expected!r}.")
    for name, expected in ids.items():
        if name in data and str(data[name]) != expected:
            raise invalid(f"{name} {data[name]!r} differs from the URL's {expected!r}.")


# --- storing ------------------------------------------------------------------------------------


def _key(data: dict) -> tuple[str, str, str]:
    for name, length in (("country_code", 2), ("party_id", 3), ("id", 39)):
        if not isinstance(data.get(name), str) or not data[name]:
            raise invalid(f"{name} is required.")
        if len(data[name]) > length:
            raise invalid(f"{name} is longer than {length} characters.")
    return data["country_code"].upper(), data["party_id"].upper(), data["id"]


def _locked(model, partner, country_code: str, party_id: str, ocpi_id: str):
    return (
        model.objects.select_for_update()
        .filter(partner=partner, country_code=country_code, party_id=party_id, ocpi_id=ocpi_id)
        .first()
    )


def _store(model, partner, data: dict, columns: dict, *, replace: bool, only_newer: bool):
    """Create or (when `replace`) update the row of an object; (row, created)."""
    country_code, party_id, ocpi_id = _key(data)
    fields = {"data": data, "last_updated": moment(data, "last_updated"), **columns}
    with transaction.atomic():
        row = _locked(model, partner, country_code, party_id, ocpi_id)
        if row is None:
            try:
                # A savepoint: a twin created meanwhile is then updated, not a 500.
                with transaction.atomic():
                    row = model.objects.create(
                        organization_id=partner.organization_id,
                        partner=partner,
                        country_code=country_code,
                        party_id=party_id,
                        ocpi_id=ocpi_id,
                        **fields,
                    )
                return row, True
            except IntegrityError:
                row = _locked(model, partner, country_code, party_id, ocpi_id)
        if not replace or (only_newer and fields["last_updated"] < row.last_updated):
            return row, False
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()
        return row, False


def location_columns(data: dict) -> dict:
    """The columns of a PartnerLocation derived from its Location object."""
    return {
        "name": text(data.get("name"), 255),
        "address": text(data.get("address"), 45),
        "city": text(data.get("city"), 45),
        "country": text(data.get("country"), 3),
    }


def store_location(partner, data: dict, *, profile=None, only_newer: bool = False):
    """A whole Location (PUT, or pulled); (row, created)."""
    return _store(
        PartnerLocation,
        partner,
        data,
        location_columns(data),
        replace=True,
        only_newer=only_newer,
    )


def find(model, partner, country_code: str, party_id: str, ocpi_id: str):
    """A stored object of the partner, or None."""
    return model.objects.filter(
        partner=partner, country_code=country_code, party_id=party_id, ocpi_id=ocpi_id
    ).first()


def child(items, id_key: str, value: str) -> dict | None:
    """The EVSE (by uid) or connector (by id) of a list, or None."""
    for item in items or []:
        if isinstance(item, dict) and str(item.get(id_key)) == value:
            return item
    return None


def merge(target: dict, patch: dict) -> dict:
    """`target` with the PATCH's fields; EVSEs and connectors merged by their id."""
    result = dict(target)
    for name, value in patch.items():
        key = KEYED_LISTS.get(name)
        if key and isinstance(value, list) and isinstance(result.get(name), list):
            result[name] = _merge_list(result[name], value, key)
        else:
            result[name] = value
    return result


def _merge_list(existing: list, patches: list, key: str) -> list:
    merged = list(existing)
    for item in patches:
        at = next(
            (
                index
                for index, old in enumerate(merged)
                if isinstance(old, dict)
                and isinstance(item, dict)
                and old.get(key) == item.get(key)
            ),
            None,
        )
        if at is None:
            merged.append(item)
        else:
            merged[at] = merge(merged[at], item)
    return merged


def _stamp(data: dict, last_updated: str) -> dict:
    return {**data, "last_updated": last_updated}


def change_location(
    partner,
    party: tuple[str, str],
    location_id: str,
    part: dict,
    *,
    evse_uid: str | None = None,
    connector_id: str | None = None,
    patch: bool = False,
) -> bool:
    """PUT or PATCH an EVSE or connector of a stored location (or PATCH the location itself).

    The parents take the part's `last_updated` (OCPI). Whether the part is new.
    """
    last_updated = part.get("last_updated")
    stamp = moment(part, "last_updated")
    with transaction.atomic():
        row = _locked(PartnerLocation, partner, *party, location_id)
        if row is None:
            raise not_found(UNKNOWN_LOCATION, f"Unknown location {location_id}.")
        location = dict(row.data)
        created = False
        if evse_uid is None:
            location = merge(location, part)
        else:
            evses = list(location.get("evses") or [])
            evse = child(evses, "uid", evse_uid)
            if connector_id is None:
                if evse is None and patch:
                    raise not_found(UNKNOWN_LOCATION, f"Unknown EVSE {evse_uid}.")
                created = evse is None
                new_evse = merge(evse, part) if patch else part
            else:
                if evse is None:
                    raise not_found(UNKNOWN_LOCATION, f"Unknown EVSE {evse_uid}.")
                connectors = list(evse.get("connectors") or [])
                connector = child(connectors, "id", connector_id)
                if connector is None and patch:
                    raise not_found(UNKNOWN_LOCATION, f"Unknown connector {connector_id}.")
                created = connector is None
                new_connector = merge(connector, part) if patch else part
                connectors = _replace(connectors, "id", connector_id, new_connector)
                new_evse = _stamp({**evse, "connectors": connectors}, last_updated)
            evses = _replace(evses, "uid", evse_uid, new_evse)
            location = _stamp({**location, "evses": evses}, last_updated)
        schemas.check("Location", location)
        row.data = location
        row.last_updated = stamp
        for name, value in location_columns(location).items():
            setattr(row, name, value)
        row.save()
    return created


def _replace(items: list, key: str, value: str, new: dict) -> list:
    """The list with the item of that id replaced by `new`, or `new` appended."""
    replaced = [new if isinstance(i, dict) and str(i.get(key)) == value else i for i in items]
    if child(items, key, value) is None:
        replaced.append(new)
    return replaced


def session_columns(partner, profile, data: dict) -> dict:
    """The columns of a PartnerSession derived from its Session object."""
    token = data.get("cdr_token") if isinstance(data.get("cdr_token"), dict) else {}
    _excl, incl = price(data, "total_cost")
    return {
        "id_token": our_card(partner, profile, token),
        "token_uid": text(token.get("uid"), 36),
        "location_id": text(data.get("location_id"), 36),
        "status": text(data.get("status"), 12),
        "start": moment(data, "start_date_time"),
        "end": moment(data, "end_date_time", required=False),
        "kwh": amount(data.get("kwh", 0), "kwh"),
        "currency": text(data.get("currency"), 3),
        "total_cost_incl_vat": incl,
    }


def store_session(partner, data: dict, *, profile=None, only_newer: bool = False):
    """A whole Session (PUT: its charging periods replace the stored ones); (row, created)."""
    return _store(
        PartnerSession,
        partner,
        data,
        session_columns(partner, profile, data),
        replace=True,
        only_newer=only_newer,
    )


def patch_session(partner, party: tuple[str, str], session_id: str, patch: dict, *, profile):
    """Apply a Session PATCH: fields replaced, charging periods added (OCPI 2.2.1)."""
    with transaction.atomic():
        row = _locked(PartnerSession, partner, *party, session_id)
        if row is None:
            raise not_found(CLIENT_ERROR, f"Unknown session {session_id}.")
        session = dict(row.data)
        for name, value in patch.items():
            if name == "charging_periods":
                periods = list(session.get("charging_periods") or [])
                # A PATCH retried after a lost answer must not count its periods twice.
                periods.extend(p for p in value or [] if p not in periods)
                session["charging_periods"] = periods
            else:
                session[name] = value
        schemas.check("Session", session)
        row.data = session
        row.last_updated = moment(session, "last_updated")
        for name, value in session_columns(partner, profile, session).items():
            setattr(row, name, value)
        row.save()
        return row


def cdr_columns(partner, profile, data: dict) -> dict:
    """The columns of a PartnerCdr derived from its CDR object."""
    token = data.get("cdr_token") if isinstance(data.get("cdr_token"), dict) else {}
    location = data.get("cdr_location") if isinstance(data.get("cdr_location"), dict) else {}
    excl, incl = price(data, "total_cost")
    return {
        "id_token": our_card(partner, profile, token),
        "token_uid": text(token.get("uid"), 36),
        "session_id": text(data.get("session_id"), 36),
        "location_id": text(location.get("id"), 36),
        "location_name": text(location.get("name"), 255),
        "start": moment(data, "start_date_time"),
        "end": moment(data, "end_date_time"),
        "kwh": amount(data.get("total_energy", 0), "total_energy"),
        "currency": text(data.get("currency"), 3),
        "total_cost_excl_vat": excl if excl is not None else Decimal(0),
        "total_cost_incl_vat": incl,
    }


def store_cdr(partner, data: dict, *, profile=None, only_newer: bool = False):
    """A CDR; one already stored is kept as it is (CDRs never change in OCPI). (row, created)."""
    return _store(
        PartnerCdr,
        partner,
        data,
        cdr_columns(partner, profile, data),
        replace=False,
        only_newer=only_newer,
    )


def store_tariff(partner, data: dict, *, profile=None, only_newer: bool = False):
    """A whole Tariff (PUT, or pulled); (row, created)."""
    return _store(
        PartnerTariff,
        partner,
        data,
        {"currency": text(data.get("currency"), 3)},
        replace=True,
        only_newer=only_newer,
    )


# --- pulling ------------------------------------------------------------------------------------

# (module, OCPI object, store): the order matters little, but tariffs before the sessions and
# CDRs that name them reads better in the log.
PULLED = (
    (Module.LOCATIONS, "Location", store_location),
    (Module.TARIFFS, "Tariff", store_tariff),
    (Module.SESSIONS, "Session", store_session),
    (Module.CDRS, "CDR", store_cdr),
)
# Each pull asks again for a few minutes before the last one started: clocks differ, and an
# object seen twice is stored once.
OVERLAP = timedelta(minutes=5)
# Sessions' date_from is required (OCPI): the first pull of a partner goes this far back.
FIRST_SESSIONS_PULL = timedelta(days=90)


@dataclass
class Pulled:
    """What one module's pull brought: objects stored, objects refused, or why it failed."""

    module: str
    stored: int = 0
    refused: int = 0
    error: str = ""


def _watermark_key(partner, module: str) -> str:
    # With the partner's creation time: a partner row deleted and made again starts afresh.
    return f"ocpi-pulled:{partner.pk}:{partner.created.timestamp():.0f}:{module}"


def last_pull(partner, module: str) -> datetime | None:
    """When the last complete pull of a module started, if we still know it."""
    return cache.get(_watermark_key(partner, module))


def pullable(partner) -> bool:
    """Whether the partner has any sender interface our eMSP role pulls from."""
    return any(partner.endpoint(module, InterfaceRole.SENDER) for module, *_ in PULLED)


def pull_partner_data(partner: RoamingPartner) -> list[Pulled]:
    """GET what changed since the last pull from the CPO partner's senders, and store it."""
    profile = RoamingProfile.objects.filter(organization_id=partner.organization_id).first()
    if profile is None or not profile.emsp_enabled or partner.status != PartnerStatus.ACTIVE:
        return []
    client = OcpiClient(partner, our_party=(profile.country_code, profile.party_id))
    parties = partner.parties()
    results = []
    for module, name, store in PULLED:
        url = partner.endpoint(module, InterfaceRole.SENDER)
        if not url:
            continue
        result = Pulled(module)
        results.append(result)
        started = timezone.now()
        since = last_pull(partner, module)
        if since is not None:
            since -= OVERLAP
        elif module == Module.SESSIONS:
            since = started - FIRST_SESSIONS_PULL
        params = {"date_from": ocpi_timestamp(since)} if since is not None else None
        try:
            items = client.get_all(url, module=module, params=params)
        except PartnerError as failure:
            result.error = failure.message
            continue
        for item in items:
            try:
                if not isinstance(item, dict):
                    raise invalid(f"A {name} must be a JSON object.")
                schemas.check(name, item)
                country_code, party_id, _id = _key(item)
                if (country_code, party_id) not in parties:
                    # OCPI: objects of a party the partner does not speak for may be ignored.
                    raise invalid(f"{country_code}*{party_id} is not one of the partner's parties.")
                store(partner, item, profile=profile, only_newer=True)
            except OcpiError as refusal:
                result.refused += 1
                logger.warning("pulled %s of %s refused: %s", name, partner, refusal.message)
                continue
            result.stored += 1
        # Only a complete pull moves the watermark: a failed one is asked for again whole.
        cache.set(_watermark_key(partner, module), started, timeout=None)
    return results
