"""OCPI 2.2.1 Commands, sender interface of our eMSP role: our drivers' commands to CPO partners.

`send_command` stores the command (RoamingCommand, direction "out") and POSTs it to the
partner's commands receiver, `{url}/{COMMAND}`, with our `response_url`:
`{version URL}emsp/commands/{COMMAND}/{id}`. The partner answers at once with a
CommandResponse: ACCEPTED leaves the command PENDING until the partner posts the
CommandResult to that URL (`CommandResultView`); NOT_SUPPORTED, REJECTED and UNKNOWN_SESSION
end it at once (UNKNOWN_SESSION as REJECTED: CommandResultType has no such value). A partner
that cannot be reached, or answers with an error or an invalid CommandResponse, ends it
FAILED with the reason. A CommandResult that arrives is the last word, whatever was stored
before (it may even come before the CommandResponse, when the CPO carries the command out
before answering). A command whose result does not come within the partner's timeout (and a
grace period) becomes TIMEOUT with `expire_sent_commands`.

`command_request` builds the OCPI object of each command from our own rows (a card of ours as
the Token); the response_url is added by `send_command`.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.urls import re_path
from django.utils import timezone
from django.utils.translation import gettext as _

from cards.models import IdToken
from roaming.choices import (
    CommandResultType,
    CommandType,
    Direction,
    InterfaceRole,
    Module,
    PartnerStatus,
)
from roaming.models import RoamingCommand, RoamingPartner, RoamingProfile
from roaming.ocpi import registration
from roaming.ocpi.client import OcpiClient, PartnerError, module_url
from roaming.ocpi.server import Answer, OcpiView
from roaming.ocpi.status import CLIENT_ERROR, invalid, not_found, ocpi_timestamp
from roaming.ocpi.v221 import VERSION, schemas
from roaming.ocpi.v221.emsp.tokens import token_to_ocpi

# The OCPI object each command carries.
OBJECTS = {
    CommandType.START_SESSION: "StartSession",
    CommandType.STOP_SESSION: "StopSession",
    CommandType.RESERVE_NOW: "ReserveNow",
    CommandType.CANCEL_RESERVATION: "CancelReservation",
    CommandType.UNLOCK_CONNECTOR: "UnlockConnector",
}
ACCEPTED = "ACCEPTED"
# A CommandResponse other than ACCEPTED ends the command: its CommandResultType.
REFUSALS = {
    "NOT_SUPPORTED": CommandResultType.NOT_SUPPORTED,
    "REJECTED": CommandResultType.REJECTED,
    "UNKNOWN_SESSION": CommandResultType.REJECTED,
}
REFUSAL_MESSAGES = {
    "NOT_SUPPORTED": "The partner does not support this command.",
    "REJECTED": "The partner rejected the command.",
    "UNKNOWN_SESSION": "The partner does not know this session.",
}
# How long past its timeout a command waits for its result before it is taken as lost; a
# partner's timeout beyond MAX_WAIT is read as MAX_WAIT, so no command stays pending for ever.
GRACE = timedelta(minutes=1)
MAX_WAIT = timedelta(hours=1)
DEFAULT_WAIT = timedelta(minutes=5)
EXPIRY_BATCH = 500
MESSAGE_LENGTH = 255
LARGEST_TIMEOUT = 2**31 - 1


class CommandNotSent(Exception):
    """The command cannot be sent to this partner; `message` says why (nothing was stored)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def result_url(organization, command: str, command_id: int) -> str:
    """Where the partner posts the CommandResult of one of our commands."""
    return f"{registration.version_url(organization, VERSION)}emsp/commands/{command}/{command_id}"


def command_request(
    command: str,
    profile: RoamingProfile,
    *,
    card: IdToken | None = None,
    location_id: str = "",
    evse_uid: str = "",
    connector_id: str = "",
    session_id: str = "",
    reservation_id: str = "",
    expiry_date: datetime | None = None,
    authorization_reference: str = "",
) -> dict:
    """The OCPI object of a command (without its response_url); empty fields are left out."""
    fields = {
        CommandType.START_SESSION: ("token", "location_id", "evse_uid", "connector_id", "auth"),
        CommandType.STOP_SESSION: ("session_id",),
        CommandType.RESERVE_NOW: (
            "token",
            "expiry_date",
            "reservation_id",
            "location_id",
            "evse_uid",
            "auth",
        ),
        CommandType.CANCEL_RESERVATION: ("reservation_id",),
        CommandType.UNLOCK_CONNECTOR: ("location_id", "evse_uid", "connector_id"),
    }[command]
    values = {
        "token": token_to_ocpi(card, profile) if card is not None else None,
        "location_id": location_id,
        "evse_uid": evse_uid,
        "connector_id": connector_id,
        "session_id": session_id,
        "reservation_id": reservation_id,
        "expiry_date": ocpi_timestamp(expiry_date) if expiry_date is not None else None,
        "auth": authorization_reference,
    }
    request = {}
    for name in fields:
        if values[name] not in (None, ""):
            request["authorization_reference" if name == "auth" else name] = values[name]
    return request


def _our_profile(partner: RoamingPartner) -> RoamingProfile:
    profile = RoamingProfile.objects.filter(organization_id=partner.organization_id).first()
    if profile is None or not profile.emsp_enabled:
        raise CommandNotSent(_("The organization does not play the eMSP role."))
    return profile


def _receiver(partner: RoamingPartner) -> str:
    if partner.status != PartnerStatus.ACTIVE or not partner.credentials_token:
        raise CommandNotSent(_("The partner is not registered: connect it first."))
    url = partner.endpoint(Module.COMMANDS, InterfaceRole.RECEIVER)
    if not url:
        raise CommandNotSent(_("The partner takes no commands (it has no commands receiver)."))
    return url


def _store(partner: RoamingPartner, command: str, request: dict) -> RoamingCommand:
    """The command's row, with our response_url; refused whole if the object is invalid."""
    with transaction.atomic():
        stored = RoamingCommand.objects.create(
            organization_id=partner.organization_id,
            partner=partner,
            direction=Direction.OUTGOING,
            command=command,
            request=request,
            response_url="",
        )
        stored.response_url = result_url(partner.organization, command, stored.pk)
        stored.request = {**request, "response_url": stored.response_url}
        problems = schemas.errors(OBJECTS[command], stored.request)
        if problems:
            # Raising rolls the row back: a command that never left is not kept.
            raise CommandNotSent(
                _("Invalid %(object)s: %(problems)s")
                % {"object": OBJECTS[command], "problems": "; ".join(problems[:10])}
            )
        stored.save(update_fields=["response_url", "request"])
    return stored


def _end(command_id: int, result: str, message: str) -> None:
    """End a command still open; a CommandResult that came first is kept."""
    RoamingCommand.objects.filter(pk=command_id, completed__isnull=True).update(
        result=result, message=message[:MESSAGE_LENGTH], completed=timezone.now()
    )


def display_text(value) -> str:
    """The text of an OCPI DisplayText list, English first."""
    texts = [item for item in value or [] if isinstance(item, dict) and item.get("text")]
    english = [item for item in texts if str(item.get("language", "")).lower() == "en"]
    chosen = (english or texts)[:1]
    return str(chosen[0]["text"]) if chosen else ""


def send_command(partner: RoamingPartner, command_type: str, request: dict) -> RoamingCommand:
    """Send a command to a CPO partner; the stored command with the partner's answer so far."""
    if command_type not in OBJECTS:
        raise CommandNotSent(_("Unknown command %(command)s.") % {"command": command_type})
    profile = _our_profile(partner)
    base = _receiver(partner)
    stored = _store(partner, command_type, request)
    client = OcpiClient(partner, our_party=(profile.country_code, profile.party_id))
    # No transaction is open: the partner may post the result before it answers (our own CPO
    # role does), and that request must find the row committed.
    try:
        reply = client.request(
            "POST", module_url(base, command_type), module=Module.COMMANDS, body=stored.request
        )
    except PartnerError as failure:
        _end(stored.pk, CommandResultType.FAILED, failure.message)
        stored.refresh_from_db()
        return stored
    problems = schemas.errors("CommandResponse", reply.data)
    if problems:
        _end(
            stored.pk,
            CommandResultType.FAILED,
            "The partner's CommandResponse is invalid: " + "; ".join(problems[:5]),
        )
        stored.refresh_from_db()
        return stored
    response = reply.data
    RoamingCommand.objects.filter(pk=stored.pk).update(
        response=response, timeout=max(0, min(int(response["timeout"]), LARGEST_TIMEOUT))
    )
    if response["result"] != ACCEPTED:
        message = display_text(response.get("message")) or REFUSAL_MESSAGES[response["result"]]
        _end(stored.pk, REFUSALS[response["result"]], message)
    stored.refresh_from_db()
    return stored


def expire_sent_commands(now: datetime | None = None) -> list[int]:
    """Commands we sent whose result did not come within the partner's timeout: TIMEOUT."""
    now = now or timezone.now()
    waiting = RoamingCommand.objects.filter(
        direction=Direction.OUTGOING,
        result=CommandResultType.PENDING,
        completed__isnull=True,
        created__lt=now - GRACE,
    ).order_by("created", "pk")[:EXPIRY_BATCH]
    expired = []
    for pk, created, timeout in waiting.values_list("pk", "created", "timeout"):
        wait = timedelta(seconds=timeout) if timeout is not None else DEFAULT_WAIT
        if created + min(wait, MAX_WAIT) + GRACE < now:
            expired.append(pk)
    RoamingCommand.objects.filter(pk__in=expired, completed__isnull=True).update(
        result=CommandResultType.TIMEOUT,
        message="The partner sent no result in time.",
        completed=now,
    )
    return expired


class CommandResultView(OcpiView):
    """POST: the CommandResult of a command we sent the partner, at the URL we gave it."""

    module = Module.COMMANDS
    http_method_names = ["post"]

    def post(self, request, command, command_id):
        # Only the partner's own commands exist for it: another partner's, or one it sent us,
        # is unknown alike.
        sent = (
            RoamingCommand.objects.filter(
                organization=self.organization,
                partner=self.partner,
                direction=Direction.OUTGOING,
                command=command,
            )
            .filter(pk=int(command_id) if command_id.isdigit() else None)
            .first()
        )
        if sent is None:
            raise not_found(CLIENT_ERROR, "Unknown command.")
        if not isinstance(self.body, dict):
            raise invalid("The body must be a CommandResult object.")
        result = schemas.check("CommandResult", self.body)
        RoamingCommand.objects.filter(pk=sent.pk).update(
            result=result["result"],
            message=display_text(result.get("message"))[:MESSAGE_LENGTH],
            completed=timezone.now(),
        )
        return Answer(None)


urlpatterns = [
    re_path(
        r"^(?P<command>[^/]+)/(?P<command_id>[^/]+)/?$",
        CommandResultView.as_view(),
        name="emsp-command-result",
    ),
]
