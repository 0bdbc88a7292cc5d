"""Bulk commands: one version-neutral command sent to a selection of stations, result by station."""

import logging
from datetime import timedelta
from functools import partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import emit
from core.tokens import new_token
from ocpp_gateway.choices import CommandStatus
from ocpp_gateway.events import BULK_RESULT
from ocpp_gateway.models import BulkCommand, BulkCommandResult, BulkResultStatus, CommandLog
from ocpp_gateway.remote.background import WorkerPool, serving_loop
from ocpp_gateway.remote.registry import (
    COMMANDS,
    Actor,
    CommandForbidden,
    CommandNotAllowed,
    CommandSpec,
    InvalidCommandParameters,
    check_command,
    execute_command,
    get_command,
)
from organizations.api.permissions import required_role_message
from stations.diagnostics import upload_url
from stations.models import ChargingStation

logger = logging.getLogger(__name__)

# Stations a bulk command waits for at once, across every bulk command of this process: each
# waits in a thread for up to twice OCPP_CALL_TIMEOUT, and 500 stations must not take 500.
BULK_CONCURRENCY = 16
# A selection larger than this is refused: split it (by site, say).
MAX_STATIONS = 2000
# Commands that have the station upload a file: without a location, each station is given a
# fresh upload URL of its own on this CSMS.
UPLOAD_COMMANDS = ("get_diagnostics", "get_log")
# Not version-neutral: a raw call is written in one OCPP version's words, for one station.
NOT_IN_BULK = ("raw_call",)
# A result still open this long after its bulk command began was left by a process that stopped.
STALE_AFTER = timedelta(hours=6)
OPEN_STATUSES = (BulkResultStatus.PENDING, BulkResultStatus.SENT)

_pool = WorkerPool("bulk-command", BULK_CONCURRENCY)


class InvalidBulkParameters(InvalidCommandParameters):
    """The command's parameters do not validate; `errors` maps its parameters to messages."""


def bulk_commands_for(actor: Actor) -> list[CommandSpec]:
    """The registered commands the actor's role may send in bulk, in registration order."""
    # COMMANDS is filled as the command modules are imported: read it now, not at import.
    return [
        spec for spec in COMMANDS.values() if spec.name not in NOT_IN_BULK and actor.may_run(spec)
    ]


def _flat_errors(errors) -> str:
    """A serializer's errors in one line: "field: message; ..."."""
    if isinstance(errors, dict):
        return "; ".join(f"{key}: {_flat_errors(value)}" for key, value in errors.items())
    if isinstance(errors, list):
        return " ".join(_flat_errors(item) for item in errors)
    return str(errors)


def _representatives(stations: list[ChargingStation]) -> list[ChargingStation]:
    """One station of each OCPP version in the selection, the first of each."""
    seen: dict[str, ChargingStation] = {}
    for station in stations:
        seen.setdefault(station.ocpp_version or "", station)
    return list(seen.values())


def _params_for(station: ChargingStation, params: dict, own_upload: bool) -> dict:
    """The parameters of one station's run: its own fresh upload location when asked for."""
    if not own_upload:
        return dict(params)
    return {**params, "location": upload_url(station, new_token())}


def validate_bulk(
    name: str, params: dict, stations: list[ChargingStation], actor: Actor
) -> tuple[CommandSpec, dict, bool]:
    """The command, its parameters and whether stations get own upload URLs; errors else."""
    spec = get_command(name)
    if spec is None:
        raise InvalidCommandParameters(
            {"command": [_("Unknown command %(name)r.") % {"name": name}]}
        )
    if name in NOT_IN_BULK:
        raise InvalidCommandParameters(
            {"command": [_("%(name)s cannot be sent to several stations.") % {"name": name}]}
        )
    if not actor.may_run(spec):
        raise CommandForbidden(required_role_message(spec.min_role))
    if not stations:
        raise InvalidCommandParameters({"stations": [_("Choose at least one station.")]})
    if len(stations) > MAX_STATIONS:
        raise InvalidCommandParameters(
            {"stations": [_("At most %(n)d stations at once.") % {"n": MAX_STATIONS}]}
        )
    params = dict(params or {})
    own_upload = name in UPLOAD_COMMANDS and not params.get("location")
    if own_upload:
        params.pop("location", None)
    # Once for the whole selection, not per station: one station of each OCPP version stands
    # for its kind, so a 1.6-only value in a mixed fleet is no 400 (the 2.0.1 stations then
    # skip it, each with its reason). What only some stations lack is their own result too.
    first_errors = None
    for station in _representatives(stations):
        serializer = spec.params(
            data=_params_for(station, params, own_upload), context={"station": station}
        )
        if serializer.is_valid():
            return spec, params, own_upload
        first_errors = first_errors or serializer.errors
    raise InvalidBulkParameters(first_errors)


@transaction.atomic
def create_bulk_command(
    organization,
    name: str,
    params: dict,
    stations: list[ChargingStation],
    actor: Actor,
    *,
    site=None,
) -> BulkCommand:
    """Validate once and write the bulk command with a pending result per station; not run yet."""
    # The stations must be the organization's: callers resolve them with for_org.
    if any(station.organization_id != organization.pk for station in stations):
        raise InvalidCommandParameters({"stations": [_("Unknown station.")]})
    spec, params, own_upload = validate_bulk(name, params, stations, actor)
    api_key = getattr(actor.user, "api_key", None)
    bulk = BulkCommand.objects.create(
        organization=organization,
        command=spec.name,
        params=params,
        own_upload_location=own_upload,
        site=site,
        requested_by=None if api_key is not None else actor.user,
        api_key=api_key,
        requested_via=actor.via,
    )
    BulkCommandResult.objects.bulk_create(
        BulkCommandResult(bulk=bulk, station=station) for station in stations
    )
    return bulk


# --- running ------------------------------------------------------------------------------------


def _answer(log: CommandLog) -> str:
    """Why a station's answer was no acceptance, in one line."""
    if log.error_description:
        return log.error_description
    if log.error_code:
        return log.error_code
    if isinstance(log.response, dict) and log.response.get("status"):
        return str(log.response["status"])
    return str(log.get_status_display())


def _outcome(log: CommandLog) -> tuple[str, str]:
    """The result status and reason of a command's log row."""
    if log.status == CommandStatus.ACCEPTED:
        return BulkResultStatus.ACCEPTED, ""
    if log.status == CommandStatus.REJECTED:
        return BulkResultStatus.REJECTED, _answer(log)
    if log.status == CommandStatus.OFFLINE:
        # Gone offline between the check and the send: nothing reached it.
        return BulkResultStatus.SKIPPED, _("The station is offline.")
    if log.status == CommandStatus.PENDING:
        # A runner that returns before the answer (none does today): it is on its way.
        return BulkResultStatus.SENT, ""
    return BulkResultStatus.FAILED, _answer(log)


def _record(result: BulkCommandResult, status: str, reason: str = "", log=None) -> None:
    """Write one station's result and announce it (and the bulk's end, when it was the last)."""
    final = status not in OPEN_STATUSES
    now = timezone.now()
    fields = {"status": status, "reason": reason[:500], "finished_at": now if final else None}
    if log is not None:
        fields["command_log"] = log
    BulkCommandResult.objects.filter(pk=result.pk).update(**fields)
    finished = False
    if final:
        still_open = BulkCommandResult.objects.filter(
            bulk_id=result.bulk_id, status__in=OPEN_STATUSES
        ).exists()
        if not still_open:
            finished = bool(
                BulkCommand.objects.filter(pk=result.bulk_id, finished_at__isnull=True).update(
                    finished_at=now
                )
            )
    emit(
        BULK_RESULT,
        organization_id=result.bulk.organization_id,
        bulk_id=result.bulk_id,
        result_id=result.pk,
        station_id=result.station_id,
        status=status,
        finished=finished,
    )


def run_bulk_result(result_id: int, actor: Actor) -> None:
    """Send the bulk command to one station and record what became of it."""
    result = (
        BulkCommandResult.objects.select_related("bulk", "station__organization")
        .filter(pk=result_id, status=BulkResultStatus.PENDING)
        .first()
    )
    if result is None:
        return
    bulk, station = result.bulk, result.station
    params = _params_for(station, bulk.params, bulk.own_upload_location)
    try:
        check = check_command(station, bulk.command, actor, params)
        if check.errors:
            _record(result, BulkResultStatus.SKIPPED, _flat_errors(check.errors))
            return
        if check.reason:
            _record(result, BulkResultStatus.SKIPPED, check.reason)
            return
        _record(result, BulkResultStatus.SENT)
        log = execute_command(station, bulk.command, params, actor=actor)
    except InvalidCommandParameters as invalid:
        _record(result, BulkResultStatus.SKIPPED, _flat_errors(invalid.errors))
    except CommandNotAllowed as refusal:
        _record(result, BulkResultStatus.SKIPPED, str(refusal.reason))
    except Exception as error:
        # One station's failure is its own result; the others carry on.
        logger.exception("bulk %s: %s on %s failed", bulk.pk, bulk.command, station.ocpp_id)
        _record(
            result,
            BulkResultStatus.FAILED,
            _("Internal error (%(kind)s).") % {"kind": type(error).__name__},
        )
    else:
        status, reason = _outcome(log)
        _record(result, status, reason, log)


def _pending_ids(bulk: BulkCommand) -> list[int]:
    return list(
        bulk.results.filter(status=BulkResultStatus.PENDING)
        .order_by("station__ocpp_id", "id")
        .values_list("pk", flat=True)
    )


def start_bulk_command(bulk: BulkCommand, actor: Actor) -> bool:
    """Run every pending result of the bulk command; in the background when a loop serves us."""
    # As for one command (remote.background): under ASGI each station's command runs in a thread
    # of a bounded pool and the request answers at once. Without a serving loop (a test client,
    # a worker) they run here, one after the other. True: in the background.
    ids = _pending_ids(bulk)
    loop = serving_loop()
    if loop is None:
        for result_id in ids:
            run_bulk_result(result_id, actor)
        return False
    _pool.start(loop, [partial(run_bulk_result, result_id, actor) for result_id in ids])
    return True


def close_stale_bulk_results(now=None) -> int:
    """Fail the results a stopped process left open, and finish their bulk commands."""
    now = now or timezone.now()
    stale = BulkCommandResult.objects.filter(
        status__in=OPEN_STATUSES, bulk__created__lt=now - STALE_AFTER
    )
    bulk_ids = set(stale.values_list("bulk_id", flat=True))
    closed = stale.update(
        status=BulkResultStatus.FAILED,
        reason=_("No outcome recorded: the process that sent it stopped."),
        finished_at=now,
    )
    BulkCommand.objects.filter(pk__in=bulk_ids, finished_at__isnull=True).exclude(
        results__status__in=OPEN_STATUSES
    ).update(finished_at=now)
    return closed


@shared_task(name="ocpp_gateway.remote.bulk.close_stale_bulk_results")
def close_stale_bulk_results_task() -> int:
    """Fail bulk results left open by a process that stopped (periodic)."""
    return close_stale_bulk_results()
