"""Partners' commands carried out: the runner seam, one run, the CommandResult sent back.

The OCPI module (roaming.ocpi.v221.cpo.commands) stores an accepted command; Celery runs it
here with the runner the OCPP gateway registers (`register_command_runner`, from its
AppConfig.ready), which sends it to the station and says what the station answered. The
result is then posted to the partner's response_url; a post that fails is sent again by the
sweep with growing pauses while the partner may still care (RESULT_WINDOW).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from roaming.choices import CommandResultType, Direction, Module, PartnerStatus
from roaming.models import RoamingCommand, RoamingProfile
from roaming.ocpi.client import OcpiClient, PartnerError
from roaming.ocpi.v221.cpo.commands import command_timeout

logger = logging.getLogger(__name__)

# Pauses between the attempts to post a result; past the window the partner stopped waiting
# long ago (its CommandResponse said how long to wait), and the result stays unsent.
RESULT_BACKOFF = (
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
    timedelta(minutes=20),
)
RESULT_WINDOW = timedelta(hours=1)
DUE_BATCH = 200


@dataclass(frozen=True)
class CommandOutcome:
    """What became of a command at the station, in OCPI CommandResultType terms."""

    result: str  # a CommandResultType other than PENDING
    message: str = ""


# runner(command) → CommandOutcome: carries the command out on its station and waits for the
# station's answer (bounded by the gateway's own call timeout).
Runner = Callable[[RoamingCommand], CommandOutcome]
_runners: list[Runner] = []


def register_command_runner(runner: Runner | None) -> Runner | None:
    """Carry out partners' commands with `runner` (the gateway's, from its ready()); the last."""
    previous = command_runner()
    _runners[:] = [runner] if runner is not None else []
    return previous


def command_runner() -> Runner | None:
    """The registered runner, or None when no gateway is installed."""
    return _runners[0] if _runners else None


def _run_lock(command_id: int) -> str:
    return f"roaming:command-running:{command_id}"


def run_command(command_id: int) -> str:
    """Carry out a stored command once and post its result; its result ("" if not run now)."""
    command = (
        RoamingCommand.objects.select_related("partner", "station", "connector")
        .filter(
            pk=command_id,
            direction=Direction.INCOMING,
            result=CommandResultType.PENDING,
            completed__isnull=True,
        )
        .first()
    )
    # The lock keeps a second delivery of the task from sending the command to the station
    # twice; no database transaction may be held meanwhile, the runner's rows (a remote start
    # the station's start must find) have to be committed before the station acts on them.
    if command is None or not cache.add(_run_lock(command_id), 1, timeout=command_timeout()):
        return ""
    try:
        outcome = _carry_out(command)
        finished = RoamingCommand.objects.filter(pk=command.pk, completed__isnull=True).update(
            result=outcome.result, message=outcome.message[:255], completed=timezone.now()
        )
    finally:
        cache.delete(_run_lock(command_id))
    if finished:
        send_result(command_id)
    return outcome.result


def _carry_out(command: RoamingCommand) -> CommandOutcome:
    runner = command_runner()
    if command.partner.status != PartnerStatus.ACTIVE:
        return CommandOutcome(CommandResultType.REJECTED, "The partnership is not active.")
    if runner is None or command.station is None:
        return CommandOutcome(CommandResultType.NOT_SUPPORTED, "No charge point can do this.")
    try:
        return runner(command)
    except Exception:
        logger.exception("roaming command %s failed", command.pk)
        return CommandOutcome(CommandResultType.FAILED, "The command could not be carried out.")


def command_result(command: RoamingCommand) -> dict:
    """The OCPI CommandResult of a completed command."""
    result = {"result": command.result}
    if command.message:
        result["message"] = [{"language": "en", "text": command.message}]
    return result


def _attempts_key(command_id: int) -> str:
    return f"roaming:command-result:{command_id}"


def _sending_lock(command_id: int) -> str:
    return f"roaming:command-result-sending:{command_id}"


def send_result(command_id: int) -> bool:
    """Post a completed command's result to the partner's response_url; whether it got there."""
    # A lease, not a row lock, keeps two workers from posting the same result: no database
    # transaction is held across the partner's answer (up to OCPI_TIMEOUT), which on SQLite
    # would lock out every writer, the partner's own callback included when it is hosted here.
    lease = settings.OCPI_TIMEOUT * 2 + 30
    if not cache.add(_sending_lock(command_id), 1, timeout=lease):
        return False
    try:
        return _post_result(command_id)
    finally:
        cache.delete(_sending_lock(command_id))


def _post_result(command_id: int) -> bool:
    command = (
        RoamingCommand.objects.select_related("partner__organization")
        .filter(
            pk=command_id,
            direction=Direction.INCOMING,
            result_sent=False,
            completed__isnull=False,
        )
        .first()
    )
    if command is None:
        return False
    partner = command.partner
    if partner.status != PartnerStatus.ACTIVE:
        return False
    profile = RoamingProfile.objects.filter(organization_id=partner.organization_id).first()
    our_party = (profile.country_code, profile.party_id) if profile is not None else None
    try:
        OcpiClient(partner, our_party=our_party).request(
            "POST", command.response_url, module=Module.COMMANDS, body=command_result(command)
        )
    except PartnerError as failure:
        attempts, _ = cache.get(_attempts_key(command_id)) or (0, None)
        pause = RESULT_BACKOFF[min(attempts, len(RESULT_BACKOFF) - 1)]
        cache.set(
            _attempts_key(command_id),
            (attempts + 1, timezone.now() + pause),
            timeout=RESULT_WINDOW.total_seconds() * 2,
        )
        logger.warning("CommandResult %s to %s not delivered: %s", command_id, partner, failure)
        return False
    RoamingCommand.objects.filter(pk=command_id).update(result_sent=True)
    cache.delete(_attempts_key(command_id))
    return True


def _due(command_id: int, now: datetime) -> bool:
    _, next_at = cache.get(_attempts_key(command_id)) or (0, None)
    return next_at is None or next_at <= now


def give_up_lost_commands(now: datetime | None = None) -> list[int]:
    """Commands never carried out in their time (a task lost with the broker): FAILED."""
    # A task that comes later finds the command completed and leaves the station alone.
    now = now or timezone.now()
    lost = list(
        RoamingCommand.objects.filter(
            direction=Direction.INCOMING,
            result=CommandResultType.PENDING,
            completed__isnull=True,
            created__lt=now - timedelta(seconds=command_timeout()),
        ).values_list("pk", flat=True)[:DUE_BATCH]
    )
    RoamingCommand.objects.filter(pk__in=lost, completed__isnull=True).update(
        result=CommandResultType.FAILED,
        message="The command was not carried out in time.",
        completed=now,
    )
    return lost


def due_results(now: datetime | None = None) -> list[int]:
    """Completed commands whose result the partner does not have yet, due for another try."""
    now = now or timezone.now()
    unsent = RoamingCommand.objects.filter(
        direction=Direction.INCOMING,
        result_sent=False,
        completed__isnull=False,
        completed__gte=now - RESULT_WINDOW,
    ).values_list("pk", flat=True)[:DUE_BATCH]
    return [pk for pk in unsent if _due(pk, now)]
