"""What our CPO role owes partners when our data changes: locations, EVSE statuses, sessions,
CDRs and tariffs, planned in the push outbox (roaming.ocpi.push), built when sent.

Domain events and model signals plan the pushes after the writer's commit;
`roaming.subscribers` enqueues their delivery. The status path is hot: roaming.subscribers
hands a batch's status and connection changes to a task (`plan_evse_statuses` runs there), and
the events of an organization that does not roam cost one cache read per batch, nothing else.
"""

import logging
from collections import defaultdict
from datetime import timedelta
from functools import partial

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_init, post_save
from django.dispatch import receiver as signal_receiver
from django.utils import timezone

from billing.choices import CdrKind
from billing.events import CDR_CREATED
from billing.models import ChargeDetailRecord, Tariff
from core.events import Event, receiver
from roaming.choices import InterfaceRole, Module, PartnerStatus, PushStatus
from roaming.models import OcpiPush, RoamingPartner, RoamingProfile
from roaming.ocpi import push
from roaming.ocpi.v221.cpo.locations import evse_key, location_key
from roaming.ocpi.v221.mapping import PLUGS, is_published, uid_of
from sessions_app.choices import SessionState
from sessions_app.events import SESSION_STARTED, SESSION_STOPPED
from sessions_app.models import ChargingSession
from stations.models import ChargingStation, Connector, Evse, Site

logger = logging.getLogger(__name__)

# Ids of the organizations that play the CPO role with at least one active partner: every
# other organization's events cost one cache read. Saves of partners and profiles forget it.
CPO_ORGANIZATIONS_KEY = "roaming:cpo-organizations"
CPO_ORGANIZATIONS_TTL = 300


def cpo_organizations() -> frozenset[int]:
    """Ids of the organizations with an active partner while they play the CPO role."""
    try:
        known = cache.get(CPO_ORGANIZATIONS_KEY)
    except Exception:
        # The cache (Redis) is away: the database still answers, if more slowly.
        logger.warning("roaming organizations: cache unavailable, asking the database")
        return _load_cpo_organizations()
    if known is None:
        known = _load_cpo_organizations()
        try:
            cache.set(CPO_ORGANIZATIONS_KEY, known, CPO_ORGANIZATIONS_TTL)
        except Exception:
            logger.warning("roaming organizations: could not cache the set")
    return known


def _load_cpo_organizations() -> frozenset[int]:
    return frozenset(
        RoamingPartner.objects.filter(
            status=PartnerStatus.ACTIVE, organization__roaming_profile__cpo_enabled=True
        )
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )


def forget_cpo_organizations() -> None:
    """Drop the cached set (a partner or a profile changed), now and once that commits."""
    _forget()
    # Another process may have cached the set from before the change meanwhile.
    transaction.on_commit(_forget)


def _forget() -> None:
    try:
        cache.delete(CPO_ORGANIZATIONS_KEY)
    except Exception:
        logger.warning("roaming organizations: could not forget the cached set")


def receiving_partners(organization_id: int | None, module: str) -> list[RoamingPartner]:
    """Active partners of the organization with a receiver for the module (when we are a CPO)."""
    if organization_id is None or organization_id not in cpo_organizations():
        return []
    partners = RoamingPartner.objects.filter(
        organization_id=organization_id, status=PartnerStatus.ACTIVE
    ).select_related("tariff")
    return [partner for partner in partners if partner.endpoint(module, InterfaceRole.RECEIVER)]


def plan_all(partners, module: str, keys) -> int:
    """Owe each partner each object; how many pushes were planned.

    An object whose push is already being retried is left to that push (it sends the newest
    state at its next attempt): planning it again would bring the attempt forward and defeat
    the backoff while a partner is down.
    """
    keys = sorted({str(key) for key in keys})
    if not keys or not partners:
        return 0
    retrying = set(
        OcpiPush.objects.filter(
            partner__in=partners,
            module=module,
            object_key__in=keys,
            status=PushStatus.RETRYING,
        ).values_list("partner_id", "object_key")
    )
    planned = 0
    for partner in partners:
        for key in keys:
            if (partner.pk, key) not in retrying:
                push.plan(partner, module, key)
                planned += 1
    return planned


# --- locations ---------------------------------------------------------------------------------


def evse_keys(organization_id: int, which: Q, *, published_only: bool = True) -> set[str]:
    """Outbox keys of the EVSEs of the connectors `which` selects, at (published) sites."""
    connectors = Connector.objects.filter(
        which,
        station__organization_id=organization_id,
        station__site__organization_id=organization_id,
        connector_type__in=list(PLUGS),
    )
    if published_only:
        connectors = connectors.filter(
            station__site__roaming_enabled=True,
            station__site__latitude__isnull=False,
            station__site__longitude__isnull=False,
        )
    rows = connectors.values_list("pk", "evse_id", "station__site_id")
    return {evse_key(site_id, uid_of(pk, evse_id)) for pk, evse_id, site_id in rows}


# Model signals only note what changed and plan after the writer's commit: the writes of
# stations and sites (and their query budgets) pay nothing here, not even a cache read.


def after_commit(function, *args) -> None:
    """Run `function(*args)` once the writer's transaction has committed."""
    transaction.on_commit(partial(function, *args))


@signal_receiver(post_init, sender=Site, dispatch_uid="roaming_site_loaded")
def remember_site(sender, instance: Site, **kwargs) -> None:
    """Note whether the site, as loaded, was published (no query: fields already loaded)."""
    loaded = instance.__dict__
    instance._roaming_published = bool(
        loaded.get("roaming_enabled")
        and loaded.get("latitude") is not None
        and loaded.get("longitude") is not None
    )


@signal_receiver(post_save, sender=Site, dispatch_uid="roaming_site_changed")
def push_site(sender, instance: Site, created: bool, **kwargs) -> None:
    """A published site is PUT whole; one no longer published has its EVSEs pushed REMOVED."""
    was = not created and getattr(instance, "_roaming_published", False)
    now = is_published(instance)
    instance._roaming_published = now
    if now or was:
        after_commit(site_changed, instance.organization_id, instance.pk, was)


def site_changed(organization_id: int, site_id: int, was_published: bool) -> None:
    """Plan the pushes a committed change of a site owes."""
    partners = receiving_partners(organization_id, Module.LOCATIONS)
    if not partners:
        return
    site = Site.objects.filter(pk=site_id, organization_id=organization_id).first()
    if site is not None and is_published(site):
        plan_all(partners, Module.LOCATIONS, [location_key(site_id)])
    elif was_published:
        keys = evse_keys(organization_id, Q(station__site_id=site_id), published_only=False)
        plan_all(partners, Module.LOCATIONS, keys)


def plan_site(organization_id: int, site_id: int | None) -> None:
    """Owe the whole location of a site, when it is published, to every receiving partner."""
    partners = receiving_partners(organization_id, Module.LOCATIONS)
    if not partners or site_id is None:
        return
    site = Site.objects.filter(pk=site_id, organization_id=organization_id).first()
    if site is not None and is_published(site):
        plan_all(partners, Module.LOCATIONS, [location_key(site_id)])


@signal_receiver(post_init, sender=ChargingStation, dispatch_uid="roaming_station_loaded")
def remember_station_site(sender, instance: ChargingStation, **kwargs) -> None:
    """Note the site the station was at, as loaded."""
    instance._roaming_site = instance.__dict__.get("site_id")


@signal_receiver(post_save, sender=ChargingStation, dispatch_uid="roaming_station_changed")
def push_station(sender, instance: ChargingStation, created: bool, **kwargs) -> None:
    """A station's site is PUT again; a site it left gets its EVSEs pushed REMOVED."""
    left = None if created else getattr(instance, "_roaming_site", None)
    instance._roaming_site = instance.site_id
    if instance.organization_id is not None:
        after_commit(station_changed, instance.organization_id, instance.pk, left)


def station_changed(organization_id: int, station_id: int, left_site_id: int | None) -> None:
    """Plan the pushes a committed change of a station owes."""
    partners = receiving_partners(organization_id, Module.LOCATIONS)
    if not partners:
        return
    station = ChargingStation.objects.filter(pk=station_id).values("site_id").first()
    site_id = station["site_id"] if station else None
    plan_site(organization_id, site_id)
    if left_site_id is not None and left_site_id != site_id:
        rows = Connector.objects.filter(station_id=station_id).values_list("pk", "evse_id")
        keys = [evse_key(left_site_id, uid_of(*row)) for row in rows]
        plan_all(partners, Module.LOCATIONS, keys)


@signal_receiver(post_save, sender=Connector, dispatch_uid="roaming_connector_changed")
@signal_receiver(post_save, sender=Evse, dispatch_uid="roaming_evse_changed")
def push_station_part(sender, instance, **kwargs) -> None:
    """A connector or EVSE added or changed: its site's location is PUT again."""
    after_commit(station_part_changed, instance.station_id)


def station_part_changed(station_id: int) -> None:
    """Plan the location PUT a committed change of a connector or EVSE owes."""
    if not cpo_organizations():
        return
    station = ChargingStation.objects.filter(pk=station_id).values("organization_id", "site_id")
    station = station.first()
    if station is not None and station["organization_id"] in cpo_organizations():
        plan_site(station["organization_id"], station["site_id"])


@signal_receiver(post_delete, sender=Connector, dispatch_uid="roaming_connector_deleted")
def push_removed_connector(sender, instance: Connector, **kwargs) -> None:
    """A deleted connector's EVSE is pushed again: REMOVED when nothing is left of it."""
    after_commit(connector_removed, instance.station_id, uid_of(instance.pk, instance.evse_id))


def connector_removed(station_id: int, uid: str) -> None:
    """Plan the EVSE push a committed deletion of a connector owes."""
    if not cpo_organizations():
        return
    station = ChargingStation.objects.filter(pk=station_id).values("organization_id", "site_id")
    station = station.first()
    if station is None or station["site_id"] is None:
        return
    partners = receiving_partners(station["organization_id"], Module.LOCATIONS)
    plan_all(partners, Module.LOCATIONS, [evse_key(station["site_id"], uid)])


def changed_evses(events: list[Event]) -> dict[int, tuple[list, list]]:
    """Per roaming organization, the connectors and stations whose EVSE statuses changed."""
    # The status path is hot: organizations that do not roam cost one cache read, nothing else.
    roaming = cpo_organizations()
    changed: dict[int, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for event in events:
        organization_id = event.get("organization_id")
        if organization_id not in roaming:
            continue
        connectors, stations = changed[organization_id]
        if event.get("connector_id") is None:
            stations.add(event["station_id"])
        else:
            connectors.add(event["connector_id"])
    return {org: (sorted(c), sorted(s)) for org, (c, s) in changed.items()}


def plan_evse_statuses(organization_id: int, connector_ids, station_ids) -> int:
    """PATCH the status of the EVSEs of these connectors and stations (whole stations: all)."""
    partners = receiving_partners(organization_id, Module.LOCATIONS)
    if not partners:
        return 0
    which = Q(pk__in=connector_ids) | Q(station_id__in=station_ids)
    return plan_all(partners, Module.LOCATIONS, evse_keys(organization_id, which))


# --- sessions and CDRs ---------------------------------------------------------------------------


@receiver(SESSION_STARTED, SESSION_STOPPED)
def push_sessions(events: list[Event]) -> None:
    """A partner's driver's session started or ended: the partner gets the whole session."""
    sessions: dict[int, set] = defaultdict(set)
    for event in events:
        sessions[event.get("organization_id")].add(event["session_id"])
    for organization_id, session_ids in sessions.items():
        partners = {p.pk: p for p in receiving_partners(organization_id, Module.SESSIONS)}
        if not partners:
            continue
        rows = ChargingSession.objects.filter(
            pk__in=session_ids, organization_id=organization_id, roaming_partner_id__in=partners
        ).values_list("pk", "roaming_partner_id")
        for session_id, partner_id in rows:
            plan_all([partners[partner_id]], Module.SESSIONS, [session_id])


@receiver(CDR_CREATED)
def push_cdrs(events: list[Event]) -> None:
    """A partner's driver's session was rated: the CDR is POSTed, the session's cost updated."""
    records: dict[int, set] = defaultdict(set)
    for event in events:
        records[event.get("organization_id")].add(event["cdr_id"])
    for organization_id, record_ids in records.items():
        partners = {p.pk: p for p in receiving_partners(organization_id, Module.CDRS)}
        with_sessions = {p.pk: p for p in receiving_partners(organization_id, Module.SESSIONS)}
        if not partners and not with_sessions:
            continue
        rows = ChargeDetailRecord.objects.filter(
            pk__in=record_ids,
            organization_id=organization_id,
            kind=CdrKind.CHARGE,
            roaming_partner__isnull=False,
        ).values_list("pk", "roaming_partner_id", "session_id")
        for record_id, partner_id, session_id in rows:
            if partner_id in partners:
                plan_all([partners[partner_id]], Module.CDRS, [record_id])
            if partner_id in with_sessions:
                plan_all([with_sessions[partner_id]], Module.SESSIONS, [session_id])


def plan_active_sessions() -> int:
    """Owe each partner the current kWh, periods and cost of its drivers' running sessions."""
    running = ChargingSession.objects.filter(
        state=SessionState.ACTIVE,
        roaming_partner__status=PartnerStatus.ACTIVE,
        organization__roaming_profile__cpo_enabled=True,
    ).select_related("roaming_partner")
    # A session whose push is still owed sends its newest state when that push goes.
    owed = set(
        OcpiPush.objects.filter(
            module=Module.SESSIONS, status__in=(PushStatus.PENDING, PushStatus.RETRYING)
        ).values_list("partner_id", "object_key")
    )
    planned = 0
    for session in running.iterator():
        partner = session.roaming_partner
        if (partner.pk, str(session.pk)) in owed:
            continue
        if partner.organization_id == session.organization_id and partner.endpoint(
            Module.SESSIONS, InterfaceRole.RECEIVER
        ):
            push.plan(partner, Module.SESSIONS, session.pk)
            planned += 1
    return planned


def plan_unpushed_cdrs(days: int = 7) -> int:
    """Owe partners the CDRs of the last days that no push ever carried (a lost plan)."""
    # cdr.created plans the push after the rating's commit; a process that died in between
    # left no row. Sent rows stay OCPI_LOG_RETENTION_DAYS (more than `days`), so a CDR sent
    # once is never sent again.
    since = timezone.now() - timedelta(days=days)
    records = ChargeDetailRecord.objects.filter(
        kind=CdrKind.CHARGE,
        created__gte=since,
        roaming_partner__status=PartnerStatus.ACTIVE,
        organization__roaming_profile__cpo_enabled=True,
    ).select_related("roaming_partner")
    pushed = set(
        OcpiPush.objects.filter(module=Module.CDRS, created__gte=since).values_list(
            "partner_id", "object_key"
        )
    )
    planned = 0
    for record in records.iterator():
        partner = record.roaming_partner
        if (partner.pk, str(record.pk)) in pushed or partner.organization_id != (
            record.organization_id
        ):
            continue
        if partner.endpoint(Module.CDRS, InterfaceRole.RECEIVER):
            push.plan(partner, Module.CDRS, record.pk)
            planned += 1
    return planned


# --- partners and tariffs ----------------------------------------------------------------------


@signal_receiver(post_init, sender=RoamingPartner, dispatch_uid="roaming_partner_loaded")
def remember_partner(sender, instance: RoamingPartner, **kwargs) -> None:
    """Note the partner's tariff and status as loaded."""
    instance._roaming_before = (instance.__dict__.get("tariff_id"), instance.__dict__.get("status"))


@signal_receiver(post_save, sender=RoamingPartner, dispatch_uid="roaming_partner_changed")
def push_partner_tariff(sender, instance: RoamingPartner, created: bool, **kwargs) -> None:
    """A tariff newly published to an active partner is PUT, the one it replaced DELETEd."""
    forget_cpo_organizations()
    tariff_before, status_before = (None, None) if created else instance._roaming_before
    instance._roaming_before = (instance.tariff_id, instance.status)
    if instance.status != PartnerStatus.ACTIVE:
        return
    changed = tariff_before != instance.tariff_id
    if changed or status_before != PartnerStatus.ACTIVE:
        after_commit(partner_changed, instance.pk, tariff_before if changed else None, changed)


def partner_changed(partner_id: int, replaced_tariff_id: int | None, changed: bool) -> None:
    """Plan the tariff (and location) pushes a committed change of a partner owes."""
    partner = RoamingPartner.objects.filter(pk=partner_id, status=PartnerStatus.ACTIVE).first()
    if partner is None:
        return
    if partner in receiving_partners(partner.organization_id, Module.TARIFFS):
        keys = {partner.tariff_id, replaced_tariff_id} - {None}
        plan_all([partner], Module.TARIFFS, keys)
    if changed and partner in receiving_partners(partner.organization_id, Module.LOCATIONS):
        # Connectors carry the partner's tariff id: every published location changes with it.
        sites = Site.objects.filter(
            organization_id=partner.organization_id,
            roaming_enabled=True,
            latitude__isnull=False,
            longitude__isnull=False,
        ).values_list("pk", flat=True)
        plan_all([partner], Module.LOCATIONS, [location_key(pk) for pk in sites])


@signal_receiver(post_delete, sender=RoamingPartner, dispatch_uid="roaming_partner_deleted")
def forget_deleted_partner(sender, instance: RoamingPartner, **kwargs) -> None:
    """A deleted partner receives nothing any more."""
    forget_cpo_organizations()


@signal_receiver(post_save, sender=RoamingProfile, dispatch_uid="roaming_profile_changed")
@signal_receiver(post_delete, sender=RoamingProfile, dispatch_uid="roaming_profile_deleted")
def forget_profile_receivers(sender, instance: RoamingProfile, **kwargs) -> None:
    """Our CPO role switched on or off changes who receives anything."""
    forget_cpo_organizations()


@signal_receiver(post_save, sender=Tariff, dispatch_uid="roaming_tariff_changed")
def push_tariff(sender, instance: Tariff, created: bool, **kwargs) -> None:
    """A published tariff that changed is PUT again to the partners it is published to."""
    if not created:
        after_commit(tariff_changed, instance.organization_id, instance.pk)


def tariff_changed(organization_id: int, tariff_id: int) -> None:
    """Plan the tariff pushes a committed change of a tariff owes."""
    partners = [
        partner
        for partner in receiving_partners(organization_id, Module.TARIFFS)
        if partner.tariff_id == tariff_id
    ]
    plan_all(partners, Module.TARIFFS, [tariff_id])
