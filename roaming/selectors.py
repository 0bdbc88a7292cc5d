"""Reads of the roaming app for the portal and the API: partners with their health."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet

from roaming.choices import Module, PartnerStatus, PushStatus
from roaming.models import ModuleSync, OcpiPush, RoamingPartner

OWED = (PushStatus.PENDING, PushStatus.RETRYING)
MODULE_ORDER = {module: index for index, module in enumerate(Module.values)}
FAILED_PUSHES_SHOWN = 20


def with_health(partners: QuerySet) -> QuerySet:
    """Partners with their owed and failed push counts and their module states (one query more)."""
    return (
        partners.select_related("tariff")
        .annotate(
            pushes_owed=Count("pushes", filter=Q(pushes__status__in=OWED), distinct=True),
            pushes_failed=Count(
                "pushes", filter=Q(pushes__status=PushStatus.FAILED), distinct=True
            ),
        )
        .prefetch_related(Prefetch("modules", queryset=ModuleSync.objects.order_by("module")))
    )


def partners_of(organization) -> QuerySet:
    """The organization's partners, by name, with what the partners page shows."""
    return with_health(RoamingPartner.objects.for_org(organization)).order_by("name", "pk")


@dataclass(frozen=True)
class ModuleState:
    """How one OCPI module with a partner is doing: its interfaces and its last exchanges."""

    module: str
    label: str
    # The partner's interfaces of the module (SENDER, RECEIVER), from its version details.
    interfaces: tuple[str, ...]
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str
    sent: int
    received: int
    healthy: bool


def module_states(partner: RoamingPartner) -> list[ModuleState]:
    """Each module the partner offers or exchanged with us, in the OCPI order."""
    syncs = {sync.module: sync for sync in partner.modules.all()}
    interfaces: dict[str, list[str]] = {}
    for endpoint in partner.endpoints or []:
        if isinstance(endpoint, dict) and endpoint.get("identifier"):
            interfaces.setdefault(endpoint["identifier"], []).append(str(endpoint.get("role", "")))
    states = []
    for module in sorted(set(syncs) | set(interfaces), key=lambda m: MODULE_ORDER.get(m, 99)):
        sync = syncs.get(module)
        states.append(
            ModuleState(
                module=module,
                label=str(Module(module).label) if module in MODULE_ORDER else module,
                interfaces=tuple(sorted(set(interfaces.get(module, [])))),
                last_success_at=sync.last_success_at if sync else None,
                last_failure_at=sync.last_failure_at if sync else None,
                last_error=sync.last_error if sync else "",
                sent=sync.sent if sync else 0,
                received=sync.received if sync else 0,
                healthy=sync.healthy if sync else True,
            )
        )
    return states


def is_healthy(partner: RoamingPartner) -> bool:
    """Registered, and the last exchange of every module succeeded."""
    return partner.status == PartnerStatus.ACTIVE and all(
        sync.healthy for sync in partner.modules.all()
    )


def last_sync(partner: RoamingPartner) -> datetime | None:
    """When any module last exchanged something successfully with the partner."""
    moments = [sync.last_success_at for sync in partner.modules.all() if sync.last_success_at]
    return max(moments, default=None)


def failed_pushes(partner: RoamingPartner, limit: int = FAILED_PUSHES_SHOWN) -> list[OcpiPush]:
    """The partner's pushes that gave up, newest first."""
    return list(
        OcpiPush.objects.filter(partner=partner, status=PushStatus.FAILED).order_by(
            "-updated", "-pk"
        )[:limit]
    )


def hub_parties(partner: RoamingPartner) -> list[dict]:
    """The parties the partner speaks for, from its credentials' roles."""
    parties = []
    for role in partner.roles or []:
        if isinstance(role, dict) and role.get("country_code") and role.get("party_id"):
            details = role.get("business_details") or {}
            parties.append(
                {
                    "role": role.get("role", ""),
                    "country_code": role["country_code"],
                    "party_id": role["party_id"],
                    "name": details.get("name", "") if isinstance(details, dict) else "",
                }
            )
    return parties
