"""OCPI 2.2.1 cpo/tokens: eMSP partners push their tokens to us, or we pull them.

Receiver: `PUT/PATCH/GET {tokens}/{country_code}/{party_id}/{uid}[?type=RFID]`. A token is
stored once per (partner, party, uid, type): a re-push updates it, and a copy older than the
one we hold changes nothing (a pull and a push may cross). uid is a CiString: stored
upper-cased as OCPP id tags are, so the station's id tag finds it; `data` keeps it as sent.

Sender side (the partner's): `pull_tokens(partner)` reads its tokens list page by page, from
the start of the last complete pull on (all of them the first time).
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.urls import re_path
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from cards.models import normalize_uid
from roaming.choices import InterfaceRole, Module, PartnerStatus, TokenType, WhitelistType
from roaming.models import RoamingPartner, RoamingProfile, RoamingToken
from roaming.ocpi.client import OcpiClient, PartnerError
from roaming.ocpi.server import OcpiView
from roaming.ocpi.status import UNKNOWN_TOKEN, OcpiError, invalid, not_found, ocpi_timestamp
from roaming.ocpi.v221 import schemas

logger = logging.getLogger(__name__)

# Column → longest value it holds (OCPI 2.2.1 Token field lengths).
_LENGTHS = {"uid": 36, "contract_id": 36, "visual_number": 64, "issuer": 64, "group_id": 36}


def _moment(value) -> datetime:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        raise invalid("Token.last_updated must be an RFC 3339 date and time.")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_fixed_timezone(0))
    return moment


def token_columns(data: dict) -> dict:
    """The RoamingToken columns of a whole Token object; OcpiError 2001 if one is unusable."""
    if not isinstance(data, dict):
        raise invalid("The body must be a Token object.")
    missing = [
        name
        for name in ("uid", "type", "contract_id", "issuer", "valid", "whitelist", "last_updated")
        if data.get(name) is None
    ]
    if missing:
        raise invalid("Token lacks " + ", ".join(missing) + ".")
    if data["type"] not in TokenType.values:
        raise invalid(f"Token.type {data['type']!r} is not a TokenType.")
    if data["whitelist"] not in WhitelistType.values:
        raise invalid(f"Token.whitelist {data['whitelist']!r} is not a WhitelistType.")
    if not isinstance(data["valid"], bool):
        raise invalid("Token.valid must be true or false.")
    columns = {
        "uid": normalize_uid(str(data["uid"])),
        "type": data["type"],
        "contract_id": str(data["contract_id"]),
        "visual_number": str(data.get("visual_number") or ""),
        "issuer": str(data["issuer"]),
        "group_id": str(data.get("group_id") or ""),
        "valid": data["valid"],
        "whitelist": data["whitelist"],
        "last_updated": _moment(data["last_updated"]),
    }
    for name, longest in _LENGTHS.items():
        if len(columns[name]) > longest:
            raise invalid(f"Token.{name} is longer than {longest} characters.")
    if not columns["uid"]:
        raise invalid("Token.uid is empty.")
    return columns


def save_token(
    partner: RoamingPartner, data: dict, *, country_code: str, party_id: str
) -> RoamingToken:
    """Store a whole Token object of a party: created, updated, or kept if ours is newer."""
    columns = token_columns(data)
    key = {
        "partner": partner,
        "country_code": country_code,
        "party_id": party_id,
        "uid": columns.pop("uid"),
        "type": columns.pop("type"),
    }
    with transaction.atomic():
        token = RoamingToken.objects.select_for_update().filter(**key).first()
        if token is None:
            try:
                with transaction.atomic():
                    return RoamingToken.objects.create(
                        organization_id=partner.organization_id, data=data, **key, **columns
                    )
            except IntegrityError:
                # Pushed at the same moment by another request: update that row instead.
                token = RoamingToken.objects.select_for_update().get(**key)
        if columns["last_updated"] < token.last_updated:
            # An older copy (a pull that crossed a push): what we hold is newer.
            return token
        for name, value in columns.items():
            setattr(token, name, value)
        token.data = data
        token.save()
        return token


def _token_type(request) -> str:
    kind = request.GET.get("type", TokenType.RFID)
    if kind not in TokenType.values:
        raise invalid(f"type {kind!r} is not a TokenType.")
    return kind


class TokenView(OcpiView):
    """GET a token as we hold it; PUT a new or whole token; PATCH some of its fields."""

    module = Module.TOKENS
    http_method_names = ["get", "put", "patch"]

    def _key(self, request, country_code: str, party_id: str, uid: str) -> dict:
        country_code, party_id = country_code.upper(), party_id.upper()
        self.require_party(country_code, party_id)
        return {
            "partner": self.partner,
            "country_code": country_code,
            "party_id": party_id,
            "uid": normalize_uid(uid),
            "type": _token_type(request),
        }

    def _stored(self, key: dict, *, lock: bool = False) -> RoamingToken:
        tokens = RoamingToken.objects.select_for_update() if lock else RoamingToken.objects
        token = tokens.filter(**key).first()
        if token is None:
            raise not_found(UNKNOWN_TOKEN, "Unknown token.")
        return token

    def get(self, request, country_code, party_id, uid):
        return self._stored(self._key(request, country_code, party_id, uid)).data

    def put(self, request, country_code, party_id, uid):
        key = self._key(request, country_code, party_id, uid)
        data = schemas.check("Token", self.body)
        if "type" not in request.GET and data.get("type") in TokenType.values:
            # The URL's type defaults to RFID; a whole Token says its own type anyway.
            key["type"] = data["type"]
        self._check_identity(data, key)
        save_token(self.partner, data, country_code=key["country_code"], party_id=key["party_id"])

    def patch(self, request, country_code, party_id, uid):
        key = self._key(request, country_code, party_id, uid)
        changes = schemas.check("Token", self.body, partial=True)
        if not isinstance(changes, dict) or not changes.get("last_updated"):
            raise invalid("A PATCH of a Token must contain last_updated.")
        self._check_identity(changes, key)
        with transaction.atomic():
            # Locked: two PATCHes at once each apply to the other's result.
            stored = self._stored(key, lock=True)
            save_token(
                self.partner,
                {**stored.data, **changes},
                country_code=key["country_code"],
                party_id=key["party_id"],
            )

    @staticmethod
    def _check_identity(data: dict, key: dict) -> None:
        """The object must be the one of the URL (OCPI: the same party, uid and type)."""
        expected = {
            "country_code": key["country_code"],
            "party_id": key["party_id"],
            "uid": key["uid"],
            "type": key["type"],
        }
        for name, value in expected.items():
            sent = data.get(name)
            if sent is None:
                continue
            # Party and uid are CiStrings; the type is an enum, compared as is.
            same = sent == value if name == "type" else normalize_uid(str(sent)) == value
            if not same:
                raise invalid(f"Token.{name} {sent!r} differs from the URL's {value!r}.")


urlpatterns = [
    re_path(
        r"^(?P<country_code>[^/]+)/(?P<party_id>[^/]+)/(?P<uid>[^/]+)/?$",
        TokenView.as_view(),
        name="cpo-token",
    ),
]


# --- pull from the partner's tokens sender --------------------------------------------------


@dataclass(frozen=True)
class TokenPull:
    """What one pull brought: tokens received, stored (or older than ours), refused."""

    received: int
    stored: int
    refused: int


def _pulled_key(partner: RoamingPartner) -> str:
    # A new registration starts over with a whole pull.
    registered = int(partner.registered_at.timestamp()) if partner.registered_at else 0
    return f"roaming:tokens-pulled:{partner.pk}:{registered}"


def pull_tokens(partner: RoamingPartner) -> TokenPull:
    """Read the partner's tokens changed since our last complete pull; PartnerError on failure."""
    # The start of the last complete pull is remembered in the cache: if it is gone, the next
    # pull reads every token again, which is slower but just as right.
    url = partner.endpoint(Module.TOKENS, InterfaceRole.SENDER)
    if partner.status != PartnerStatus.ACTIVE or not url:
        raise PartnerError("The partner is not registered or publishes no tokens.")
    profile = RoamingProfile.objects.filter(organization_id=partner.organization_id).first()
    our_party = (profile.country_code, profile.party_id) if profile is not None else None
    started = timezone.now()
    since = cache.get(_pulled_key(partner))
    params = {"date_from": since} if since else None
    items = OcpiClient(partner, our_party=our_party).get_all(
        url, module=Module.TOKENS, params=params
    )
    parties = partner.parties()
    stored = refused = 0
    for item in items:
        problems = schemas.errors("Token", item) if isinstance(item, dict) else ["not an object"]
        party = (
            (str(item.get("country_code", "")).upper(), str(item.get("party_id", "")).upper())
            if not problems
            else None
        )
        if problems or party not in parties:
            # One bad token must not cost the others; a token of a party the partner does not
            # speak for is never stored (partner isolation).
            refused += 1
            logger.warning("Token from %s refused: %s", partner, "; ".join(problems) or party)
            continue
        try:
            save_token(partner, item, country_code=party[0], party_id=party[1])
        except (OcpiError, DatabaseError) as error:
            refused += 1
            logger.warning("Token from %s refused: %s", partner, error)
            continue
        stored += 1
    cache.set(_pulled_key(partner), ocpi_timestamp(started), timeout=None)
    return TokenPull(received=len(items), stored=stored, refused=refused)
