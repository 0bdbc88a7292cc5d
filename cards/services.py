"""Business rules of cards: their standing, access-group membership, status and CSV import."""

from django.db import transaction
from django.utils import timezone

from cards.choices import IdTokenStatus
from cards.events import CARDS_IMPORTED
from cards.models import AccessGroup, IdToken
from core.bulk import update_from_values
from core.events import emit


def card_standing(token: IdToken, now) -> IdTokenStatus:
    """The card's own status: Blocked, Expired (by status or date) or Accepted."""
    # The values are those of OCPP's idTagInfo status, so authorization answers with them.
    if token.status == IdTokenStatus.BLOCKED:
        return IdTokenStatus.BLOCKED
    if token.status == IdTokenStatus.EXPIRED or (
        token.expires_at is not None and token.expires_at <= now
    ):
        return IdTokenStatus.EXPIRED
    return IdTokenStatus.ACCEPTED


# Lookups by many uids go in chunks that stay under SQLite's 999 query parameters.
UID_CHUNK = 500


class UnknownCards(Exception):
    """Some uids name no card of the organization."""

    def __init__(self, uids: list[str]):
        super().__init__(", ".join(uids))
        self.uids = uids


def chunked(items: list, size: int = UID_CHUNK):
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def cards_by_uid(organization_id: int, uids: list[str]) -> dict[str, IdToken]:
    """The organization's cards with these normalized uids, by uid, in one query per chunk."""
    found = {}
    for chunk in chunked(list(uids)):
        for token in IdToken.objects.for_org(organization_id).filter(uid__in=chunk):
            found[token.uid] = token
    return found


def card_ids_of(organization_id: int, uids: list[str]) -> list[int]:
    """Ids of the organization's cards with these normalized uids; UnknownCards if any is not."""
    found = cards_by_uid(organization_id, uids)
    unknown = [uid for uid in uids if uid not in found]
    if unknown:
        raise UnknownCards(unknown)
    return [found[uid].pk for uid in uids]


def add_cards_to_group(group: AccessGroup, uids: list[str]) -> None:
    """Put the cards with these uids into the group: all of them, or none if one is unknown."""
    ids = card_ids_of(group.organization_id, uids)
    with transaction.atomic():
        # add() skips the cards already in the group.
        for chunk in chunked(ids):
            group.id_tokens.add(*chunk)


def remove_cards_from_group(group: AccessGroup, uids: list[str]) -> None:
    """Take the cards with these uids out of the group; cards not in it are left alone."""
    ids = card_ids_of(group.organization_id, uids)
    with transaction.atomic():
        for chunk in chunked(ids):
            group.id_tokens.remove(*chunk)


def set_id_token_status(token: IdToken, status: str) -> bool:
    """Give the card a status; False (and nothing written) when it already has it."""
    if token.status == status:
        return False
    token.status = status
    token.save(update_fields=["status", "updated"])
    return True


def block_id_token(token: IdToken) -> bool:
    """Block the card, whatever its status; False when it was blocked already."""
    return set_id_token_status(token, IdTokenStatus.BLOCKED)


def unblock_id_token(token: IdToken) -> bool:
    """Lift a block (the card is Accepted again); any other card stays as it is."""
    if token.status != IdTokenStatus.BLOCKED:
        return False
    return set_id_token_status(token, IdTokenStatus.ACCEPTED)


# The PostgreSQL types of the card columns an import may change, for update_from_values.
CARD_COLUMN_TYPES = {
    "BooleanField": "boolean",
    "CharField": "varchar",
    "DateTimeField": "timestamptz",
    "PositiveSmallIntegerField": "smallint",
}


def _update_cards(tokens: list[IdToken], fields: list[str]) -> None:
    """Write `fields` of many cards in a statement per 1,000 (bulk_update's CASE is far slower)."""
    columns = [IdToken._meta.get_field(name) for name in fields]
    types = [(f.column, CARD_COLUMN_TYPES[f.get_internal_type()]) for f in columns]
    update_from_values(
        IdToken,
        [("id", "bigint"), *types],
        [(token.pk, *(getattr(token, f.attname) for f in columns)) for token in tokens],
        ", ".join(f"{f.column} = v.{f.column}" for f in columns),
    )


# A card to write and its access groups; None leaves an existing card's groups as they are.
CardWrite = tuple[IdToken, list[AccessGroup] | None]


def import_id_tokens(creates: list[CardWrite], updates: list[CardWrite], fields: list[str]):
    """Write an import's new cards and its changes to existing ones (`fields`), all or none."""
    # A few statements per thousand cards, none per card: 10,000 rows take seconds.
    membership = IdToken.access_groups.through
    now = timezone.now()
    changed = [token for token, _groups in updates]
    for token in changed:
        # A raw UPDATE does not touch auto_now fields.
        token.updated = now
    with transaction.atomic():
        # Batches keep a statement under PostgreSQL's 65,535 parameters (SQLite's cap is lower).
        IdToken.objects.bulk_create([token for token, _groups in creates], batch_size=1000)
        _update_cards(changed, [*fields, "updated"])
        wanted = {
            (token.pk, group.pk)
            for token, groups in [*creates, *updates]
            if groups is not None
            for group in groups
        }
        regrouped = [token.pk for token, groups in updates if groups is not None]
        existing = {}
        for chunk in chunked(regrouped):
            rows = membership.objects.filter(idtoken_id__in=chunk)
            for pk, token_id, group_id in rows.values_list("pk", "idtoken_id", "accessgroup_id"):
                existing[token_id, group_id] = pk
        stale = [pk for pair, pk in existing.items() if pair not in wanted]
        for chunk in chunked(stale):
            membership.objects.filter(pk__in=chunk).delete()
        membership.objects.bulk_create(
            [
                membership(idtoken_id=token_id, accessgroup_id=group_id)
                for token_id, group_id in sorted(wanted - existing.keys())
            ],
            batch_size=5000,
        )
        written = [token for token, _groups in [*creates, *updates]]
        if written:
            # Bulk writes send no model signals: subscribers (roaming) learn of them here.
            emit(
                CARDS_IMPORTED,
                organization_id=written[0].organization_id,
                uids=[token.uid for token in written],
            )
