"""OCPI 2.2.1 Tokens, sender interface of our eMSP role: our roaming cards, for CPO partners.

GET `{url}` lists the organization's cards flagged `roaming` as Token objects (paginated,
`date_from`/`date_to` on the card's `updated`); POST `{url}{uid}/authorize[?type=]` is the
real-time authorization. The push of a card to the partners' token receivers is built here
(`build_token_push`); `roaming.token_push` decides when one is owed.

How a card becomes a Token:
- `uid` the card's uid; `type` RFID for ISO 14443/15693 cards, OTHER for every other kind.
- `contract_id`: the card has no contract field, so an eMA-ID-like id made from our party and
  the card's primary key, `CC-PPP-C12345678` (stable for the card's life; an eMAID card's uid
  is its contract id already and is used as is).
- `visual_number`: not sent, the card's printed number is not stored (`label` is a free name).
- `issuer`: our roaming profile's name, else the organization's name.
- `group_id`: the card's parent id tag (OCPP's parentIdTag is OCPI's group id).
- `valid`: the card's standing (`cards.services.card_standing`) is Accepted.
- `whitelist` ALLOWED: the CPO asks us in real time when it can and falls back on the Token
  it holds when we are unreachable, so a block reaches stations at once even if its push
  failed, and a driver is not stranded by an outage of ours.
- `language` not sent: the card holder's language is not known, so the CPO chooses.
"""

import uuid
from datetime import timedelta

from django.urls import re_path
from django.utils import timezone

from cards.choices import IdTokenStatus, IdTokenType
from cards.models import IdToken, normalize_uid
from cards.services import card_standing
from roaming.choices import InterfaceRole, Module, PushStatus, TokenType, WhitelistType
from roaming.models import OcpiPush, PartnerSession
from roaming.ocpi import push
from roaming.ocpi.client import module_url
from roaming.ocpi.server import Answer, paginate
from roaming.ocpi.status import UNKNOWN_TOKEN, invalid, not_found, ocpi_timestamp
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.receiving import ReceiverView

WHITELIST = WhitelistType.ALLOWED
RFID_TYPES = {IdTokenType.ISO14443, IdTokenType.ISO15693}
# AllowedType of the authorization, from the card's standing.
ALLOWED_BY_STANDING = {
    IdTokenStatus.ACCEPTED: "ALLOWED",
    IdTokenStatus.BLOCKED: "BLOCKED",
    IdTokenStatus.EXPIRED: "EXPIRED",
}
# Partner sessions that still hold a card (its concurrent-transaction limit); one not updated
# for a day is taken as ended, so a partner that never sends COMPLETED cannot lock a card out.
RUNNING_STATUSES = ("ACTIVE", "PENDING", "RESERVED")
RUNNING_FRESHNESS = timedelta(hours=24)


def token_type(card: IdToken) -> str:
    """The OCPI TokenType of a card."""
    return TokenType.RFID if card.type in RFID_TYPES else TokenType.OTHER


def contract_id(card: IdToken, profile) -> str:
    """The card's contract id: its eMAID, or one made from our party and the card's key."""
    if card.type == IdTokenType.EMAID:
        return card.uid
    return f"{profile.country_code}-{profile.party_id}-C{card.pk:08d}"


def token_to_ocpi(card: IdToken, profile, now=None) -> dict:
    """A card of ours as an OCPI 2.2.1 Token."""
    now = now or timezone.now()
    token = {
        "country_code": profile.country_code,
        "party_id": profile.party_id,
        "uid": card.uid,
        "type": token_type(card),
        "contract_id": contract_id(card, profile),
        "issuer": (profile.name or profile.organization.name)[:64],
        "valid": card.roaming and card_standing(card, now) == IdTokenStatus.ACCEPTED,
        "whitelist": WHITELIST,
        "last_updated": ocpi_timestamp(card.updated),
    }
    if card.parent_id_tag:
        token["group_id"] = card.parent_id_tag[:36]
    return token


def token_url(base: str, profile, uid: str, kind: str) -> str:
    """A token's URL at a CPO's token receiver."""
    return module_url(base, profile.country_code, profile.party_id, uid) + f"?type={kind}"


def roaming_cards(organization):
    """The organization's cards published to partners."""
    return IdToken.objects.for_org(organization).filter(roaming=True)


class TokenListView(ReceiverView):
    """GET our roaming cards as Tokens, a page at a time."""

    module = Module.TOKENS
    http_method_names = ["get"]

    def get(self, request):
        profile = self.require_cpo()
        cards = roaming_cards(self.organization).order_by("updated", "pk")
        now = timezone.now()
        return paginate(
            request,
            cards,
            lambda card: token_to_ocpi(card, profile, now),
            date_field="updated",
        )


class AuthorizeView(ReceiverView):
    """POST: may this token charge now (and at this location)? Answers AuthorizationInfo."""

    module = Module.TOKENS
    http_method_names = ["post"]

    def post(self, request, token_uid):
        profile = self.require_cpo()
        kind = request.GET.get("type", TokenType.RFID)
        if kind not in TokenType.values:
            raise invalid(f"Unknown token type {kind!r}.")
        location = None
        if self.body is not None:
            location = schemas.check("LocationReferences", self.body)
            if not isinstance(location, dict) or not location.get("location_id"):
                raise invalid("LocationReferences needs a location_id.")
        card = roaming_cards(self.organization).filter(uid=normalize_uid(token_uid)).first()
        if card is None or token_type(card) != kind:
            # OCPI: HTTP 404 with 2004, and no data.
            raise not_found(UNKNOWN_TOKEN, "Unknown token.")
        now = timezone.now()
        allowed = ALLOWED_BY_STANDING[card_standing(card, now)]
        info = None
        if allowed == "ALLOWED" and self._at_its_limit(card, now):
            allowed = "NOT_ALLOWED"
            info = {"language": "en", "text": "This card is already charging elsewhere."}
        answer = {
            "allowed": allowed,
            "token": token_to_ocpi(card, profile, now),
            "authorization_reference": str(uuid.uuid4()),
        }
        if location is not None and allowed == "ALLOWED":
            # We do not restrict where a card charges: every EVSE asked about is allowed.
            answer["location"] = location
        if info is not None:
            answer["info"] = info
        return Answer(answer)

    @staticmethod
    def _at_its_limit(card: IdToken, now) -> bool:
        if not card.max_concurrent_transactions:
            return False
        running = PartnerSession.objects.filter(
            id_token=card,
            status__in=RUNNING_STATUSES,
            last_updated__gte=now - RUNNING_FRESHNESS,
        ).count()
        return running >= card.max_concurrent_transactions


def build_token_push(owed: OcpiPush, profile):
    """The PUT of a card's Token to a CPO partner, or a PATCH invalidating one no longer ours.

    `object_key` is the card's uid. A card deleted, or no longer flagged for roaming, is
    invalidated (OCPI tokens are never deleted) when the partner has had it; else nothing.
    """
    base = owed.partner.endpoint(Module.TOKENS, InterfaceRole.RECEIVER)
    card = IdToken.objects.for_org(owed.organization_id).filter(uid=owed.object_key).first()
    if card is not None and card.roaming and profile.emsp_enabled:
        token = token_to_ocpi(card, profile)
        return push.Call("PUT", token_url(base, profile, card.uid, token["type"]), token)
    published = OcpiPush.objects.filter(
        partner=owed.partner,
        module=Module.TOKENS,
        object_key=owed.object_key,
        status=PushStatus.SENT,
    ).exists()
    if not published:
        return None
    kind = token_type(card) if card is not None else TokenType.RFID
    return push.Call(
        "PATCH",
        token_url(base, profile, owed.object_key, kind),
        {"valid": False, "last_updated": ocpi_timestamp()},
    )


push.register_builder(Module.TOKENS, build_token_push)

urlpatterns = [
    re_path(r"^$", TokenListView.as_view(), name="emsp-tokens"),
    re_path(r"^(?P<token_uid>[^/]+)/authorize/?$", AuthorizeView.as_view(), name="emsp-authorize"),
]
