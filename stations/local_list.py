"""The local authorization list of a station: the cards it may accept while offline."""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import AccessGroup, IdToken
from organizations.services import AuthorizationResult, card_standing
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# OCPP 1.6 IdToken is a CiString20: longer uids and parents cannot go into a 1.6 list.
ID_TAG_MAX_LENGTH = 20


class UpdateType(models.TextChoices):
    """How a SendLocalList changes the station's list."""

    FULL = "Full", _("Full: replace the list")
    DIFFERENTIAL = "Differential", _("Differential: only the changes")


@dataclass(frozen=True)
class LocalListUpdate:
    """One SendLocalList to make: what goes on the wire and the list the station then holds."""

    update_type: str
    version: int
    # Every entry the station holds once it accepts: idTag → idTagInfo (the snapshot to keep).
    entries: dict[str, dict]
    # The localAuthorizationList as sent: all entries (Full) or only the changes (Differential).
    changes: list[dict]

    def as_ocpp16(self) -> dict:
        """The SendLocalList request payload."""
        return {
            "listVersion": self.version,
            "updateType": self.update_type,
            "localAuthorizationList": self.changes,
        }


def authorized_tokens(station: ChargingStation) -> models.QuerySet[IdToken]:
    """Cards of the station's organization in a group authorized at the station or its site."""
    groups = AccessGroup.objects.filter(Q(stations=station.pk) | Q(sites__stations=station.pk))
    # The organization comes from the station's row, as in authorize_id_tag: a group of another
    # organization linked by mistake admits none of its cards here.
    return (
        IdToken.objects.filter(organization__stations=station.pk, access_groups__in=groups)
        .distinct()
        .order_by("uid")
    )


def id_tag_info(token: IdToken, now: datetime) -> dict:
    """The idTagInfo to apply offline: the rules of authorize_id_tag, concurrency aside."""
    return AuthorizationResult.for_token(card_standing(token, now), token).as_id_tag_info()


def build_entries(station: ChargingStation, now: datetime | None = None) -> dict[str, dict]:
    """The whole list the station should hold now: idTag → idTagInfo."""
    now = now or timezone.now()
    entries = {}
    for token in authorized_tokens(station):
        if len(token.uid) > ID_TAG_MAX_LENGTH or len(token.parent_id_tag) > ID_TAG_MAX_LENGTH:
            # Left out rather than cut: the station asks the CSMS online for such a card.
            logger.info("%s: card %s does not fit a 1.6 local list", station.ocpp_id, token.uid)
            continue
        entries[token.uid] = id_tag_info(token, now)
    return entries


def differences(held: dict[str, dict], wanted: dict[str, dict]) -> list[dict]:
    """Differential entries from `held` to `wanted`; an entry without idTagInfo deletes it."""
    changes = []
    for uid in sorted(held.keys() | wanted.keys()):
        if uid not in wanted:
            changes.append({"idTag": uid})
        elif held.get(uid) != wanted[uid]:
            changes.append({"idTag": uid, "idTagInfo": wanted[uid]})
    return changes


def plan_update(
    station: ChargingStation, update_type: str = UpdateType.FULL, now: datetime | None = None
) -> LocalListUpdate:
    """The next SendLocalList for the station, versioned after the one it last accepted."""
    entries = build_entries(station, now)
    if update_type == UpdateType.FULL:
        changes = [{"idTag": uid, "idTagInfo": info} for uid, info in entries.items()]
    else:
        changes = differences(station.local_list_snapshot or {}, entries)
    # A station refuses a differential update whose version is not above its own.
    return LocalListUpdate(
        update_type=str(update_type),
        version=station.local_list_version + 1,
        entries=entries,
        changes=changes,
    )
