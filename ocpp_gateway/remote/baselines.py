"""Applying configuration baselines: 1.6 ChangeConfiguration per key, 2.0.1 SetVariables.

Only the gateway sends, so the sending lives here; the baselines app owns the rows (runs,
per-setting results, drift). A run is sent in the background: by a Celery worker when there is
one, else on a thread of the loop that serves this process's sockets (the in-memory channel
layer lives there). Stations that boot accepted for the first time in their organization get the
baselines marked "apply at first boot".
"""

import asyncio
import logging
from datetime import timedelta
from functools import partial

from celery import shared_task
from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from baselines import services
from baselines.choices import ResultStatus, RunStatus, RunTrigger
from baselines.models import (
    ADDRESS_FIELDS,
    BaselineResult,
    BaselineRun,
    BaselineSetting,
    ConfigurationBaseline,
)
from core.enqueue import enqueue_now
from core.events import receiver
from core.live import bound_serving_loop
from ocpp_gateway.choices import CommandStatus, RequestedVia
from ocpp_gateway.commands import DELIVERY_TIMEOUT
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote.background import WorkerPool, serving_loop
from ocpp_gateway.remote.registry import (
    Actor,
    CommandNotAllowed,
    InvalidCommandParameters,
    execute_command,
)
from organizations.choices import Role
from stations.events import STATION_BOOTED
from stations.models import ChargingStation, StationVariable

logger = logging.getLogger(__name__)

# The station's word for a value it took or refused; 2.0.1's NotSupportedAttributeType is
# reported as NotSupported, like 1.6's answer for a key it does not have.
ANSWERS = {
    "Accepted": ResultStatus.ACCEPTED,
    "Rejected": ResultStatus.REJECTED,
    "RebootRequired": ResultStatus.REBOOT_REQUIRED,
    "NotSupported": ResultStatus.NOT_SUPPORTED,
    "NotSupportedAttributeType": ResultStatus.NOT_SUPPORTED,
    "UnknownComponent": ResultStatus.UNKNOWN_COMPONENT,
    "UnknownVariable": ResultStatus.UNKNOWN_VARIABLE,
}
# A pending run not taken by anyone for this long was lost (a broker outage): sent again.
LOST_AFTER_SECONDS = 300
# A pending run nothing could send for this long (no worker, no serving loop) is failed.
NOT_SENT_AFTER_SECONDS = 3600
# Beyond the time its calls may take, before a running run counts as left by a stopped process.
ABANDON_MARGIN_SECONDS = 600
# Runs sent at once by one process without a Celery worker.
_pool = WorkerPool("baseline-run", 8)


def actor_of(run: BaselineRun) -> Actor:
    """Who sends a run's commands."""
    # Operators apply baselines that admins wrote: the values are the admins' choice, so the
    # writes (change_configuration and set_variables need an admin) run with an admin's rights.
    return Actor(
        user=run.requested_by, role=Role.ADMIN, via=run.requested_via or RequestedVia.SYSTEM
    )


def _result(setting: BaselineSetting, status: str, message: str = "") -> BaselineResult:
    return BaselineResult(
        **{name: getattr(setting, name) for name in ADDRESS_FIELDS},
        value=setting.value,
        status=status,
        message=message[:255],
    )


def _failure(log: CommandLog | None, refusal: str = "") -> tuple[str, str]:
    """A call that got no per-setting answer: Offline, or Failed with why."""
    if log is None:
        return ResultStatus.FAILED, refusal
    if log.status == CommandStatus.OFFLINE:
        return ResultStatus.OFFLINE, log.error_description
    return ResultStatus.FAILED, log.error_description or log.error_code or str(log.status)


def _apply_16(station, settings: list, actor: Actor) -> list[BaselineResult]:
    """ChangeConfiguration per key, in order; once the station is gone the rest are Offline."""
    results = []
    for setting in settings:
        if results and results[-1].status == ResultStatus.OFFLINE:
            results.append(_result(setting, ResultStatus.OFFLINE, results[-1].message))
            continue
        params = {"key": setting.variable, "value": setting.value}
        try:
            log = execute_command(station, "change_configuration", params, actor=actor)
        except CommandNotAllowed as refusal:
            status = ResultStatus.FAILED if station.is_online else ResultStatus.OFFLINE
            results.append(_result(setting, status, str(refusal.reason)))
            continue
        except InvalidCommandParameters as invalid:
            results.append(_result(setting, ResultStatus.FAILED, _messages(invalid.errors)))
            continue
        answer = (log.response or {}).get("status")
        if answer in ANSWERS and log.status in (CommandStatus.ACCEPTED, CommandStatus.REJECTED):
            results.append(_result(setting, ANSWERS[answer]))
        else:
            results.append(_result(setting, *_failure(log)))
    taken = [r.variable for r in results if r.status == ResultStatus.ACCEPTED]
    if taken:
        _read_back(station, "get_configuration", {"keys": taken}, actor)
    return results


def _target(setting: BaselineSetting) -> dict:
    """A setting as the get/set_variables commands' parameters name it."""
    target = {
        "component": setting.component,
        "component_instance": setting.component_instance,
        "variable": setting.variable,
        "variable_instance": setting.variable_instance,
        "attribute_type": setting.attribute_type,
    }
    if setting.evse_number:
        target["evse_id"] = setting.evse_number
        if setting.connector_number:
            target["connector_id"] = setting.connector_number
    return target


def _apply_201(station, settings: list, actor: Actor, since) -> list[BaselineResult]:
    """SetVariables (split to the station's ItemsPerMessage); each answer read where it is kept."""
    params = {"variables": [{**_target(s), "value": s.value} for s in settings]}
    log, refusal = None, ""
    try:
        log = execute_command(station, "set_variables", params, actor=actor)
    except (CommandNotAllowed, InvalidCommandParameters) as error:
        refusal = (
            str(error.reason) if isinstance(error, CommandNotAllowed) else _messages(error.errors)
        )
    # set_variables stores the station's answer per variable (stations.device_model): read them.
    answered = {
        tuple(getattr(row, name) for name in ADDRESS_FIELDS): row
        for row in StationVariable.objects.filter(
            station=station,
            variable__in={s.variable for s in settings},
            set_at__gte=since,
        )
    }
    offline = log is None and not station.is_online
    results = []
    for setting in settings:
        row = answered.get(setting.address_key())
        if row is not None and row.set_status in ANSWERS:
            results.append(_result(setting, ANSWERS[row.set_status], row.set_status_info))
        elif offline:
            results.append(_result(setting, ResultStatus.OFFLINE, refusal))
        else:
            results.append(_result(setting, *_failure(log, refusal)))
    taken = [s for s, r in zip(settings, results, strict=True) if r.status == ResultStatus.ACCEPTED]
    if taken:
        variables = [_target(s) for s in taken]
        _read_back(station, "get_variables", {"variables": variables}, actor)
    return results


def _read_back(station, command: str, params: dict, actor: Actor) -> None:
    """Read the values set back from the station, so drift is judged on what it now says."""
    try:
        execute_command(station, command, params, actor=actor)
    except (CommandNotAllowed, InvalidCommandParameters) as refusal:
        # The accepted values are stored already (record_set_results): drift is judged on them.
        logger.info("%s: %s after a baseline not possible: %s", station.ocpp_id, command, refusal)


def _messages(errors) -> str:
    if isinstance(errors, dict):
        return "; ".join(_messages(value) for value in errors.values())
    if isinstance(errors, list):
        return "; ".join(_messages(value) for value in errors)
    return str(errors)


def execute_run(run_id: int) -> BaselineRun | None:
    """Send a pending run's settings to its station and keep the answers; None if not pending."""
    run = (
        BaselineRun.objects.select_related("baseline", "station", "requested_by")
        .filter(pk=run_id)
        .first()
    )
    if run is None or not services.start_run(run):
        return None
    station, baseline = run.station, run.baseline
    if station.organization_id != baseline.organization_id:
        return services.finish_run(
            run, [], _("The station is no longer in the organization."), RunStatus.FAILED
        )
    settings = services.settings_for(baseline.settings.all(), station)
    if not settings:
        return services.finish_run(
            run, [], _("The baseline has no settings for this OCPP version.")
        )
    try:
        if station.speaks_ocpp2:
            results = _apply_201(station, settings, actor_of(run), run.started)
        else:
            results = _apply_16(station, settings, actor_of(run))
    except Exception as error:
        logger.exception("baseline run %s on %s failed", run.pk, station.ocpp_id)
        results = [_result(s, ResultStatus.FAILED, type(error).__name__) for s in settings]
    message = ""
    if results and all(r.status == ResultStatus.OFFLINE for r in results):
        message = _("The station is offline.")
    return services.finish_run(run, results, message)


def apply_baseline(
    baseline: ConfigurationBaseline,
    station: ChargingStation,
    actor: Actor,
    trigger: str = RunTrigger.MANUAL,
) -> BaselineRun:
    """Apply a baseline to one station now, waiting for its answers; the finished run."""
    [run] = services.create_runs(
        baseline, [station], trigger=trigger, user=_person(actor.user), via=actor.via
    )
    return execute_run(run.pk) or run


def apply_in_background(
    baseline: ConfigurationBaseline,
    stations,
    actor: Actor,
    trigger: str = RunTrigger.MANUAL,
) -> list[BaselineRun]:
    """Create a run per station and send them in the background; the pending runs."""
    runs = services.create_runs(
        baseline, stations, trigger=trigger, user=_person(actor.user), via=actor.via
    )
    start_runs([run.pk for run in runs], inline=True)
    return runs


def _person(user):
    """The user a run names: nobody for a machine client (an organization API key)."""
    if user is None or getattr(user, "api_key", None) is not None:
        return None
    return user if getattr(user, "is_authenticated", False) else None


# --- in the background -------------------------------------------------------------------------


@shared_task
def apply_baseline_run(run_id: int) -> str:
    """Send one pending baseline run (idempotent: a run is taken once); its status."""
    run = execute_run(run_id)
    return run.status if run is not None else "taken"


def abandoned_after(setting_count: int) -> timedelta:
    """How long a run of this many settings may run before it counts as left by a dead process."""
    # Each setting may cost a call and a read-back, each waiting for delivery and the answer.
    per_call = django_settings.OCPP_CALL_TIMEOUT + DELIVERY_TIMEOUT
    return timedelta(seconds=max(setting_count, 1) * 2 * per_call + ABANDON_MARGIN_SECONDS)


@shared_task
def resume_baseline_runs() -> int:
    """Send again pending runs nobody took (a lost enqueue); close runs a dead process left."""
    now = timezone.now()
    ids = list(
        BaselineRun.objects.filter(
            status=RunStatus.PENDING, created__lt=now - timedelta(seconds=LOST_AFTER_SECONDS)
        ).values_list("pk", flat=True)[:1000]
    )
    if start_runs(ids) == "later":
        _fail_unsent(now)
    # One still running well past the time its calls may take was sent by a process that
    # stopped; finish_run is conditional, so a sender finishing meanwhile is not overwritten.
    running = (
        BaselineRun.objects.select_related("baseline")
        .filter(status=RunStatus.RUNNING, started__lt=now - abandoned_after(0))
        .annotate(setting_count=Count("baseline__settings"))
    )
    for run in running[:1000]:
        if run.started < now - abandoned_after(run.setting_count):
            services.finish_run(
                run, [], _("The process sending it stopped; apply it again."), RunStatus.FAILED
            )
    return len(ids)


def _fail_unsent(now) -> None:
    """Fail pending runs nothing here can send (no worker, no serving loop) after a while."""
    stale = BaselineRun.objects.select_related("baseline").filter(
        status=RunStatus.PENDING, created__lt=now - timedelta(seconds=NOT_SENT_AFTER_SECONDS)
    )
    for run in stale[:1000]:
        services.finish_run(
            run, [], _("Not sent; apply again."), RunStatus.FAILED, from_status=RunStatus.PENDING
        )


def _hand_to_loop(loop: asyncio.AbstractEventLoop, run_ids: list[int]) -> None:
    _pool.start(loop, [partial(_work, run_id) for run_id in run_ids])


def _work(run_id: int) -> None:
    try:
        execute_run(run_id)
    except Exception:
        logger.exception("baseline run %s failed", run_id)


def _enqueue(run_ids: list[int]) -> None:
    for run_id in run_ids:
        enqueue_now(apply_baseline_run, run_id)


def start_runs(run_ids: list[int], *, inline: bool = False, loop=None) -> str:
    """Send runs in the background; how: "celery", "loop", "inline" or "later" (the sweep)."""
    if not run_ids:
        return "none"
    # Celery's own setting, not Django's: that is what decides whether the task runs here.
    if not apply_baseline_run.app.conf.task_always_eager:
        # After commit: a worker must find the runs (a failed enqueue is left to the sweep).
        transaction.on_commit(partial(_enqueue, run_ids))
        return "celery"
    loop = serving_loop() or loop
    if loop is not None:
        transaction.on_commit(partial(_hand_to_loop, loop, run_ids))
        return "loop"
    if inline:
        # No worker and no serving loop (a management command, a WSGI request): run here.
        for run_id in run_ids:
            execute_run(run_id)
        return "inline"
    logger.info("no Celery worker nor serving loop: %d baseline runs wait", len(run_ids))
    return "later"


@receiver(STATION_BOOTED)
def apply_at_first_boot(events) -> None:
    """A station's first accepted boot in its organization: send its first-boot baselines."""
    first = services.record_first_boots(events)
    if not first:
        return
    runs = services.first_boot_runs(first)
    # Never inline: this runs on the gateway's database thread, which the station's boot answer
    # and the commands' own writes wait for. That thread was started by no loop: the runs go to
    # the loop the stations' sockets are bound to.
    start_runs([run.pk for run in runs], loop=bound_serving_loop())
