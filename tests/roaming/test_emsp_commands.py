"""OCPI 2.2.1 Commands of our eMSP role: our drivers' commands sent to a CPO partner.

The partner is a fake OCPI server on a real socket (its CommandResponse is what the test
says); its CommandResult comes to our endpoint through Django's test client. The exchange
between two instances of our own module, with a real station, is in test_pair_end_to_end.
"""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from organizations.choices import Role
from roaming import commands as received_commands
from roaming.choices import CommandResultType, Direction, PartnerStatus
from roaming.models import RoamingCommand
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.emsp.commands import (
    CommandNotSent,
    command_request,
    expire_sent_commands,
    send_command,
)
from tests.factories import IdTokenFactory, MembershipFactory
from tests.roaming.emsp_objects import auth, cpo_partner, emsp_profile, fresh_cache  # noqa: F401
from tests.roaming.fake_partner import FakePartner, Reply, ocpi_reply

pytestmark = pytest.mark.usefixtures("fresh_cache")

BASE_URL = "https://cms.example"
RECEIVER = "/ocpi/cpo/2.2.1/commands/"
UID = "04D0D0CAFE0042"


@pytest.fixture
def fake_cpo(settings):
    """The CPO partner's commands receiver."""
    settings.OCPI_ALLOW_PRIVATE_ADDRESSES = True
    settings.OCPI_BASE_URL = BASE_URL
    server = FakePartner().start()
    yield server
    server.stop()


@pytest.fixture
def profile(org):
    return emsp_profile(org)


@pytest.fixture
def partner(org, profile, fake_cpo):
    """A registered CPO partner with a commands receiver on the fake server."""
    return cpo_partner(
        org,
        endpoints=[{"identifier": "commands", "role": "RECEIVER", "url": fake_cpo.url + RECEIVER}],
    )


@pytest.fixture
def card(org):
    return IdTokenFactory(organization=org, uid=UID, roaming=True)


def answers(fake, command, reply):
    fake.routes[("POST", RECEIVER + command)] = reply


def accepted(timeout=30):
    return ocpi_reply({"result": "ACCEPTED", "timeout": timeout})


def start_request(profile, card, **fields):
    return command_request(
        "START_SESSION", profile, card=card, location_id="LOC1", evse_uid="EVSE-1", **fields
    )


# --- sending --------------------------------------------------------------------------------


def test_a_command_is_stored_and_posted_with_our_response_url(fake_cpo, partner, profile, card):
    answers(fake_cpo, "START_SESSION", accepted(timeout=45))
    sent = send_command(partner, "START_SESSION", start_request(profile, card))
    assert sent.response_url == (
        f"{BASE_URL}/ocpi/{partner.organization.slug}/2.2.1/emsp/commands/START_SESSION/{sent.pk}"
    )
    [posted] = fake_cpo.requests_to(RECEIVER + "START_SESSION")
    assert posted.body == sent.request
    assert posted.body["response_url"] == sent.response_url
    assert schemas.errors("StartSession", posted.body) == []
    assert (posted.body["location_id"], posted.body["evse_uid"]) == ("LOC1", "EVSE-1")
    # The Token is our card's, as our Tokens module publishes it.
    token = posted.body["token"]
    assert (token["country_code"], token["party_id"], token["uid"], token["valid"]) == (
        "NL",
        "MSP",
        UID,
        True,
    )
    # Accepted: the result is still to come; what the partner said is kept.
    assert (sent.direction, sent.result, sent.completed) == (
        Direction.OUTGOING,
        CommandResultType.PENDING,
        None,
    )
    assert (sent.response, sent.timeout) == ({"result": "ACCEPTED", "timeout": 45}, 45)


@pytest.mark.parametrize(
    ("response", "result", "message"),
    [
        (
            {"result": "REJECTED", "timeout": 30, "message": [{"language": "en", "text": "Busy"}]},
            CommandResultType.REJECTED,
            "Busy",
        ),
        (
            {"result": "NOT_SUPPORTED", "timeout": 30},
            CommandResultType.NOT_SUPPORTED,
            "The partner does not support this command.",
        ),
        (
            {"result": "UNKNOWN_SESSION", "timeout": 30},
            CommandResultType.REJECTED,
            "The partner does not know this session.",
        ),
    ],
)
def test_a_refusal_in_the_command_response_ends_the_command(
    fake_cpo, partner, response, result, message
):
    answers(fake_cpo, "STOP_SESSION", ocpi_reply(response))
    sent = send_command(partner, "STOP_SESSION", {"session_id": "S1"})
    assert (sent.result, sent.message, sent.response) == (result, message, response)
    assert sent.completed is not None


def test_a_partner_error_fails_the_command_with_its_reason(fake_cpo, partner, profile, card):
    answers(
        fake_cpo,
        "START_SESSION",
        ocpi_reply({"result": "REJECTED", "timeout": 30}, status_code=2003, http_status=404),
    )
    sent = send_command(partner, "START_SESSION", start_request(profile, card))
    assert sent.result == CommandResultType.FAILED
    assert "OCPI 2003" in sent.message
    assert sent.completed is not None


def test_an_invalid_command_response_fails_the_command(fake_cpo, partner):
    answers(fake_cpo, "STOP_SESSION", ocpi_reply({"result": "MAYBE"}))
    sent = send_command(partner, "STOP_SESSION", {"session_id": "S1"})
    assert sent.result == CommandResultType.FAILED
    assert sent.message.startswith("The partner's CommandResponse is invalid")


@pytest.mark.parametrize(
    "partner_fields",
    [{"status": PartnerStatus.PENDING}, {"endpoints": []}],
    ids=["not registered", "no commands receiver"],
)
def test_a_command_the_partner_cannot_take_is_not_sent_nor_kept(
    org, profile, fake_cpo, partner_fields
):
    partner = cpo_partner(org, **partner_fields)
    with pytest.raises(CommandNotSent):
        send_command(partner, "STOP_SESSION", {"session_id": "S1"})
    assert not RoamingCommand.objects.exists()
    assert fake_cpo.received == []


def test_a_command_breaking_the_ocpi_shape_is_not_sent_nor_kept(fake_cpo, partner):
    with pytest.raises(CommandNotSent, match="session_id"):
        send_command(partner, "STOP_SESSION", {"session_id": "S" * 37})
    assert not RoamingCommand.objects.exists()
    assert fake_cpo.received == []


def test_we_send_no_commands_when_we_do_not_play_the_emsp_role(fake_cpo, partner, profile):
    profile.emsp_enabled = False
    profile.save()
    with pytest.raises(CommandNotSent):
        send_command(partner, "STOP_SESSION", {"session_id": "S1"})
    assert fake_cpo.received == []


# --- the partner's CommandResult ------------------------------------------------------------


def result_url(command: RoamingCommand) -> str:
    return f"/ocpi/{command.organization.slug}/2.2.1/emsp/commands/{command.command}/{command.pk}"


def post_result(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def pending(fake_cpo, partner):
    answers(fake_cpo, "STOP_SESSION", accepted())
    return send_command(partner, "STOP_SESSION", {"session_id": "S1"})


def test_the_partners_command_result_is_stored(client, pending):
    body = {"result": "ACCEPTED", "message": [{"language": "en", "text": "Stopped"}]}
    answer = post_result(client, result_url(pending), body, **auth())
    assert (answer.status_code, answer.json()["status_code"]) == (200, 1000)
    pending.refresh_from_db()
    assert (pending.result, pending.message) == (CommandResultType.ACCEPTED, "Stopped")
    assert pending.completed is not None


def test_a_command_result_for_another_partners_command_is_unknown(client, org, pending):
    cpo_partner(org, token="another-cpo-token-0123456789", party=("BE", "CPX"))
    answer = post_result(
        client,
        result_url(pending),
        {"result": "ACCEPTED"},
        **auth("another-cpo-token-0123456789"),
    )
    assert (answer.status_code, answer.json()["status_code"]) == (404, 2000)
    pending.refresh_from_db()
    assert pending.result == CommandResultType.PENDING


def test_a_command_result_for_a_command_the_partner_sent_us_is_unknown(client, org, partner):
    received = RoamingCommand.objects.create(
        organization=org,
        partner=partner,
        command="STOP_SESSION",
        request={"session_id": "S1"},
        response_url="https://cpo.example/results/1",
    )
    answer = post_result(client, result_url(received), {"result": "ACCEPTED"}, **auth())
    assert (answer.status_code, answer.json()["status_code"]) == (404, 2000)
    received.refresh_from_db()
    assert received.result == CommandResultType.PENDING


def test_a_command_result_under_another_command_name_is_unknown(client, pending):
    url = result_url(pending).replace("STOP_SESSION", "UNLOCK_CONNECTOR")
    answer = post_result(client, url, {"result": "ACCEPTED"}, **auth())
    assert (answer.status_code, answer.json()["status_code"]) == (404, 2000)


def test_an_invalid_command_result_is_2001_and_changes_nothing(client, pending):
    answer = post_result(client, result_url(pending), {"result": "MAYBE"}, **auth())
    assert (answer.status_code, answer.json()["status_code"]) == (400, 2001)
    pending.refresh_from_db()
    assert pending.result == CommandResultType.PENDING


def test_a_command_result_is_the_last_word_after_a_failed_post(client, fake_cpo, partner):
    # Our POST failed (the partner answered badly) but the partner carried it out anyway.
    answers(fake_cpo, "STOP_SESSION", Reply(502, {"error": "gateway"}))
    sent = send_command(partner, "STOP_SESSION", {"session_id": "S1"})
    assert sent.result == CommandResultType.FAILED
    post_result(client, result_url(sent), {"result": "ACCEPTED"}, **auth())
    sent.refresh_from_db()
    assert (sent.result, sent.message) == (CommandResultType.ACCEPTED, "")


# --- results that never come, and the received commands' sweeps -----------------------------


def test_a_sent_command_without_a_result_past_its_timeout_times_out(pending):
    assert expire_sent_commands(now=pending.created + timedelta(seconds=30)) == []
    later = pending.created + timedelta(seconds=30) + timedelta(minutes=2)
    assert expire_sent_commands(now=later) == [pending.pk]
    pending.refresh_from_db()
    assert pending.result == CommandResultType.TIMEOUT


def test_the_received_commands_sweeps_leave_our_sent_commands_alone(pending):
    RoamingCommand.objects.filter(pk=pending.pk).update(
        created=timezone.now() - timedelta(minutes=30)
    )
    assert received_commands.give_up_lost_commands() == []
    RoamingCommand.objects.filter(pk=pending.pk).update(
        result=CommandResultType.ACCEPTED, completed=timezone.now()
    )
    assert received_commands.due_results() == []
    assert received_commands.send_result(pending.pk) is False
    pending.refresh_from_db()
    assert (pending.result, pending.result_sent) == (CommandResultType.ACCEPTED, False)


# --- the API ---------------------------------------------------------------------------------


def api_url(partner) -> str:
    return f"/api/v1/roaming-partners/{partner.pk}/commands/"


def test_an_admin_sends_a_start_session_for_one_of_our_roaming_cards(
    admin_client, fake_cpo, partner, card
):
    answers(fake_cpo, "START_SESSION", accepted())
    answer = admin_client.post(
        api_url(partner),
        {
            "command": "START_SESSION",
            "id_token": card.pk,
            "location_id": "LOC1",
            "evse_uid": "EVSE-1",
            "connector_id": "1",
        },
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    stored = RoamingCommand.objects.get()
    assert {k: answer.json()[k] for k in ("id", "command", "result", "direction")} == {
        "id": stored.pk,
        "command": "START_SESSION",
        "result": "PENDING",
        "direction": "out",
    }
    [posted] = fake_cpo.requests_to(RECEIVER + "START_SESSION")
    assert (posted.body["token"]["uid"], posted.body["connector_id"]) == (UID, "1")


@pytest.mark.parametrize("which", ["not flagged for roaming", "of another organization"])
def test_a_start_session_for_a_card_that_is_not_ours_to_roam_is_400(
    admin_client, fake_cpo, partner, other_org, org, which
):
    if which == "not flagged for roaming":
        card = IdTokenFactory(organization=org, roaming=False)
    else:
        card = IdTokenFactory(organization=other_org, roaming=True)
    answer = admin_client.post(
        api_url(partner),
        {"command": "START_SESSION", "id_token": card.pk, "location_id": "LOC1"},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert "id_token" in answer.json()
    assert fake_cpo.received == []


def test_a_command_without_the_fields_it_needs_is_400(admin_client, fake_cpo, partner):
    answer = admin_client.post(
        api_url(partner),
        {"command": "UNLOCK_CONNECTOR", "location_id": "LOC1"},
        content_type="application/json",
    )
    assert answer.status_code == 400
    assert set(answer.json()) == {"evse_uid", "connector_id"}
    assert fake_cpo.received == []


def test_a_command_for_an_unregistered_partner_is_409(admin_client, org, profile):
    partner = cpo_partner(org, status=PartnerStatus.PENDING)
    answer = admin_client.post(
        api_url(partner),
        {"command": "STOP_SESSION", "session_id": "S1"},
        content_type="application/json",
    )
    assert answer.status_code == 409
    assert not RoamingCommand.objects.exists()


def test_an_operator_may_not_send_commands(client, org, partner, django_user_model):
    user = django_user_model.objects.create_user("operator", "op@example.com", "x" * 12)
    MembershipFactory(user=user, organization=org, role=Role.OPERATOR)
    client.force_login(user)
    answer = client.post(
        api_url(partner),
        {"command": "STOP_SESSION", "session_id": "S1"},
        content_type="application/json",
    )
    assert answer.status_code == 403
    assert not RoamingCommand.objects.exists()
