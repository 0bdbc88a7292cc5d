"""Celery tasks of the roaming app: pushes to partners and the exchange log's retention."""

from celery import shared_task

from core.enqueue import enqueue_now
from roaming import activity, commands, logbook, publishing, token_push
from roaming.choices import InterfaceRole, Module, PartnerStatus
from roaming.models import RoamingPartner
from roaming.ocpi import push
from roaming.ocpi.client import PartnerError
from roaming.ocpi.v221 import receiving
from roaming.ocpi.v221.cpo import tokens as cpo_tokens
from roaming.ocpi.v221.emsp import commands as emsp_commands


@shared_task
def deliver_push(push_id: int) -> str:
    """Send one owed push to its partner (a failure is retried by the sweep)."""
    return push.deliver(push_id)


@shared_task
def deliver_pushes(push_ids: list[int]) -> int:
    """Send several owed pushes, one after the other; how many were sent."""
    return sum(push.deliver(push_id) == "sent" for push_id in push_ids)


@shared_task
def plan_evse_statuses(organization_id: int, connector_ids: list, station_ids: list) -> int:
    """Owe partners the statuses of these connectors' and stations' EVSEs; how many pushes."""
    return publishing.plan_evse_statuses(organization_id, connector_ids, station_ids)


@shared_task
def push_unpushed_cdrs() -> int:
    """The safety net of cdr.created: CDRs of the last week no push ever carried."""
    return publishing.plan_unpushed_cdrs()


@shared_task
def deliver_due_pushes() -> int:
    """Send every push whose time has come: retries, and sends a broker outage lost."""
    due = push.due_ids()
    for push_id in due:
        push.deliver(push_id)
    return len(due)


@shared_task
def purge_exchange_log() -> int:
    """Forget OCPI exchanges, and pushes sent, older than the retention."""
    return logbook.purge() + push.purge_sent()


@shared_task
def roll_up_activity(days: int = 2, organization_id: int | None = None) -> int:
    """Recompute the roaming activity of the last days from sessions and CDRs; rows written."""
    organizations = activity.organizations_with_partners()
    if organization_id is not None:
        organizations = organizations.filter(pk=organization_id)
    return sum(activity.roll_up(organization, days=days) for organization in organizations)


@shared_task
def pull_partner_data(partner_id: int) -> dict:
    """Pull what changed at one CPO partner (locations, tariffs, sessions, CDRs) and store it."""
    partner = RoamingPartner.objects.filter(pk=partner_id).first()
    if partner is None:
        return {}
    return {
        pulled.module: {"stored": pulled.stored, "refused": pulled.refused, "error": pulled.error}
        for pulled in receiving.pull_partner_data(partner)
    }


@shared_task
def pull_from_cpo_partners() -> int:
    """Enqueue the pull of every active partner with a sender our eMSP role reads (hourly)."""
    partners = RoamingPartner.objects.filter(
        status=PartnerStatus.ACTIVE,
        organization__roaming_profile__emsp_enabled=True,
    )
    due = [partner.pk for partner in partners if receiving.pullable(partner)]
    for partner_id in due:
        enqueue_now(pull_partner_data, partner_id)
    return len(due)


@shared_task
def publish_expired_tokens() -> int:
    """Push roaming cards that expired by date lately to the CPO partners, as invalid (hourly)."""
    return token_push.publish_expired_tokens()


@shared_task
def push_active_sessions() -> int:
    """Owe partners the kWh, periods and cost of their drivers' running sessions (PATCH)."""
    return publishing.plan_active_sessions()


@shared_task
def run_roaming_command(command_id: int) -> str:
    """Carry out a partner's command on its station and post the result to the partner."""
    return commands.run_command(command_id)


@shared_task
def send_command_results() -> int:
    """Post the results partners do not have yet (retries, lost tasks); how many got there."""
    commands.give_up_lost_commands()
    # Ours to partners whose result never came are closed as TIMEOUT.
    emsp_commands.expire_sent_commands()
    return sum(commands.send_result(command_id) for command_id in commands.due_results())


@shared_task
def pull_tokens(partner_id: int) -> dict:
    """Read the tokens an eMSP partner changed since the last pull, and store them."""
    partner = RoamingPartner.objects.filter(pk=partner_id).first()
    if partner is None:
        return {}
    try:
        pulled = cpo_tokens.pull_tokens(partner)
    except PartnerError as failure:
        return {"error": failure.message}
    return {"received": pulled.received, "stored": pulled.stored, "refused": pulled.refused}


@shared_task
def pull_tokens_from_emsp_partners() -> int:
    """Enqueue the token pull of every active partner with a tokens sender (hourly)."""
    partners = RoamingPartner.objects.filter(
        status=PartnerStatus.ACTIVE, organization__roaming_profile__cpo_enabled=True
    )
    due = [p.pk for p in partners if p.endpoint(Module.TOKENS, InterfaceRole.SENDER)]
    for partner_id in due:
        enqueue_now(pull_tokens, partner_id)
    return len(due)
