"""OCPP 2.0.1 display messages (OCTT block O, CSMS under test) over a real socket, page and API."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.routing import after, on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from ocpp_gateway.exceptions import PropertyConstraintViolation
from ocpp_gateway.models import CommandLog, DisplayMessage, DisplayMessageStatus
from ocpp_gateway.remote import Actor, InvalidCommandParameters, check_command, execute_command
from ocpp_gateway.v201.display import on_notify_display_messages
from organizations.choices import Role
from stations.choices import ConnectionState
from stations.models import ChargingStation
from tests.apiclients import client_as
from tests.factories import ChargingSessionFactory, ChargingStationFactory
from tests.ocpp_gateway.conftest import Station201, connected_station201
from tests.portalclients import org_url, portal_client

IDENTITY = "CS-DISPLAY"


def ts(minutes=0.0) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)


def wire(moment: datetime) -> str:
    """A time as the CSMS writes it: UTC with milliseconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class DisplayStation(Station201):
    """A 2.0.1 station with a display: it keeps what it accepts and reports what it holds."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shown: dict[int, dict] = {}  # id → MessageInfo as received (snake_case)
        self.answers: dict[str, str] = {}
        self.received: list[tuple[str, dict]] = []
        self.parts = 1
        self.reported = asyncio.Event()
        self.may_report = asyncio.Event()
        self._report = (0, [])

    @on(Action.set_display_message)
    def on_set_display_message(self, message, **kwargs):
        self.received.append(("SetDisplayMessage", message))
        status = self.answers.get("SetDisplayMessage", "Accepted")
        if status == "Accepted":
            self.shown[message["id"]] = message
        return call_result.SetDisplayMessage(status=status)

    @on(Action.get_display_messages)
    def on_get_display_messages(self, request_id, **criteria):
        self.received.append(("GetDisplayMessages", {"request_id": request_id, **criteria}))
        ids = criteria.get("id")
        matches = [
            message
            for message in self.shown.values()
            if (ids is None or message["id"] in ids)
            and criteria.get("priority") in (None, message["priority"])
            and criteria.get("state") in (None, message.get("state"))
        ]
        self._report = (request_id, matches)
        return call_result.GetDisplayMessages(status="Accepted" if matches else "Unknown")

    @after(Action.get_display_messages)
    async def report_display_messages(self, **kwargs):
        request_id, matches = self._report
        # In-memory SQLite locks a table written by two threads at once: the report waits
        # until the CSMS has recorded the answer (a real station need not, on PostgreSQL).
        await self.may_report.wait()
        size = max(1, -(-len(matches) // self.parts))
        chunks = [matches[i : i + size] for i in range(0, len(matches), size)]
        for number, chunk in enumerate(chunks, 1):
            await self.call(
                call.NotifyDisplayMessages(
                    request_id=request_id, message_info=chunk, tbc=number < len(chunks)
                )
            )
        self.reported.set()

    @on(Action.clear_display_message)
    def on_clear_display_message(self, **payload):
        self.received.append(("ClearDisplayMessage", payload))
        found = self.shown.pop(payload["id"], None) is not None
        return call_result.ClearDisplayMessage(status="Accepted" if found else "Unknown")


def boot():
    return call.BootNotification(
        charging_station={"model": "Display 1", "vendor_name": "ACME"}, reason="PowerUp"
    )


@pytest.fixture
async def station201(db_call, org):
    """The 2.0.1 station the socket tests connect as."""
    return await db_call(ChargingStationFactory, organization=org, ocpp_id=IDENTITY)


async def run(name, params=None, role=Role.OPERATOR):
    """execute_command as a view runs it: in a thread of its own, on the station as stored now."""

    def in_a_view():
        try:
            station = ChargingStation.objects.get(ocpp_id=IDENTITY)
            return execute_command(station, name, params, actor=Actor(role=role))
        finally:
            connections.close_all()

    return await sync_to_async(in_a_view, thread_sensitive=False)()


async def messages(db_call) -> dict[int, DisplayMessage]:
    rows = await db_call(lambda: list(DisplayMessage.objects.filter(station__ocpp_id=IDENTITY)))
    return {row.message_id: row for row in rows}


async def report(cs, name="get_display_messages", params=None):
    """Ask for the station's messages and wait until its report is in."""
    cs.reported.clear()
    cs.may_report.clear()
    log = await run(name, params)
    cs.may_report.set()
    await asyncio.wait_for(cs.reported.wait(), 10)
    return log


# --- SetDisplayMessage -------------------------------------------------------------------------


async def test_tc_o_01_set_display_message_is_sent_and_kept(ocpp_server, station201, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        log = await run(
            "set_display_message",
            {"content": "Welcome – charge here", "priority": "NormalCycle", "language": "en"},
        )
    assert cs.received == [
        (
            "SetDisplayMessage",
            {
                "id": 1,
                "priority": "NormalCycle",
                "message": {"format": "UTF8", "language": "en", "content": "Welcome – charge here"},
            },
        )
    ]
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})
    kept = (await messages(db_call))[1]
    assert (kept.status, kept.answer, kept.content) == (
        "accepted",
        "Accepted",
        cs.shown[1]["message"]["content"],
    )
    assert (kept.priority, kept.message_format, kept.language) == ("NormalCycle", "UTF8", "en")


@pytest.mark.parametrize(
    ("case", "params", "sent"),
    [
        (
            "tc_o_06_specific_transaction",
            {"transaction_id": "tx-201-7"},
            {"transaction_id": "tx-201-7"},
        ),
        ("tc_o_13_start_time", {"start_time": wire(ts(30))}, {"start_date_time": wire(ts(30))}),
        ("tc_o_14_end_time", {"end_time": wire(ts(30))}, {"end_date_time": wire(ts(30))}),
        ("tc_o_25_specific_state", {"state": "Charging"}, {"state": "Charging"}),
        (
            "tc_o_27_transaction_and_start_time",
            {"transaction_id": "tx-201-7", "start_time": wire(ts(5))},
            {"transaction_id": "tx-201-7", "start_date_time": wire(ts(5))},
        ),
        (
            "tc_o_28_transaction_and_end_time",
            {"transaction_id": "tx-201-7", "end_time": wire(ts(45))},
            {"transaction_id": "tx-201-7", "end_date_time": wire(ts(45))},
        ),
    ],
)
async def test_tc_o_set_display_message_with_conditions(
    ocpp_server, station201, db_call, case, params, sent
):
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        log = await run(
            "set_display_message",
            {"content": "Your session", "priority": "InFront", "message_id": 9, **params},
        )
    assert log.status == "accepted", case
    received = cs.received[0][1]
    assert {key: received[key] for key in sent} == sent
    kept = (await messages(db_call))[9]
    assert kept.status == DisplayMessageStatus.ACCEPTED
    assert kept.transaction_id == params.get("transaction_id", "")
    assert kept.state == params.get("state", "")


@pytest.mark.parametrize(
    "answer",
    [
        "UnknownTransaction",  # TC_O_10
        "NotSupportedPriority",  # TC_O_17
        "NotSupportedState",  # TC_O_18
        "NotSupportedMessageFormat",  # TC_O_19
        "Rejected",  # TC_O_26
    ],
)
async def test_tc_o_10_17_18_19_26_a_refused_message_is_kept_as_refused(
    ocpp_server, station201, db_call, answer
):
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        cs.answers["SetDisplayMessage"] = answer
        log = await run(
            "set_display_message",
            {
                "content": "<b>Hi</b>",
                "message_format": "HTML",
                "priority": "AlwaysFront",
                "state": "Faulted",
                "transaction_id": "no-such-tx",
            },
        )
    assert (log.status, log.response) == ("rejected", {"status": answer})
    kept = (await messages(db_call))[1]
    assert (kept.status, kept.answer, kept.content) == ("rejected", answer, "<b>Hi</b>")


async def test_tc_o_12_the_same_id_replaces_the_message(ocpp_server, station201, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        await run("set_display_message", {"content": "First", "message_id": 4})
        await run("set_display_message", {"content": "Second", "message_id": 4})
    assert [sent["id"] for _, sent in cs.received] == [4, 4]
    rows = await messages(db_call)
    assert list(rows) == [4]
    assert (rows[4].content, rows[4].status) == ("Second", "accepted")


async def test_a_refused_replacement_keeps_what_the_station_still_shows(
    ocpp_server, station201, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        await run("set_display_message", {"content": "Shown", "message_id": 4})
        cs.answers["SetDisplayMessage"] = "NotSupportedPriority"
        await run(
            "set_display_message", {"content": "Never", "message_id": 4, "priority": "AlwaysFront"}
        )
    kept = (await messages(db_call))[4]
    assert (kept.content, kept.priority, kept.status) == ("Shown", "NormalCycle", "accepted")
    assert kept.answer == "NotSupportedPriority"


async def test_a_new_message_takes_the_next_free_id(ocpp_server, station201, db_call):
    await db_call(
        DisplayMessage.objects.create,
        station=station201,
        message_id=41,
        priority="NormalCycle",
        content="Old",
        message_format="UTF8",
        status=DisplayMessageStatus.CLEARED,
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        await run("set_display_message", {"content": "New"})
    assert cs.received[0][1]["id"] == 42


# --- GetDisplayMessages and NotifyDisplayMessages ----------------------------------------------


async def test_tc_o_02_get_all_display_messages_keeps_the_multi_part_report(
    ocpp_server, station201, db_call
):
    await db_call(
        DisplayMessage.objects.create,
        station=station201,
        message_id=77,
        priority="NormalCycle",
        content="We thought it was there",
        message_format="UTF8",
        status=DisplayMessageStatus.ACCEPTED,
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        for number in (1, 2, 3):
            await run("set_display_message", {"content": f"Message {number}", "message_id": number})
        # The station's own: shown by it without us (set by a local controller, say).
        cs.shown[8] = {
            "id": 8,
            "priority": "InFront",
            "state": "Idle",
            "message": {"format": "URI", "content": "https://example.com/promo"},
        }
        cs.parts = 2
        log = await report(cs)
    assert cs.received[-1][0] == "GetDisplayMessages"
    assert set(cs.received[-1][1]) == {"request_id"}
    assert log.response == {"status": "Accepted"}
    rows = await messages(db_call)
    assert {number: row.status for number, row in rows.items()} == {
        1: "reported",
        2: "reported",
        3: "reported",
        8: "reported",
        77: "gone",
    }
    assert (rows[8].message_format, rows[8].state, rows[8].content) == (
        "URI",
        "Idle",
        "https://example.com/promo",
    )


async def test_tc_o_03_no_display_messages_configured(ocpp_server, station201, db_call):
    await db_call(
        DisplayMessage.objects.create,
        station=station201,
        message_id=5,
        priority="NormalCycle",
        content="Dropped by the station at its end time",
        message_format="UTF8",
        status=DisplayMessageStatus.ACCEPTED,
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        log = await report(cs)
    assert (log.status, log.response) == ("rejected", {"status": "Unknown"})
    assert (await messages(db_call))[5].status == DisplayMessageStatus.GONE


@pytest.mark.parametrize(
    ("case", "params", "sent", "reported"),
    [
        ("tc_o_07_by_id", {"message_ids": [2]}, {"id": [2]}, {2}),
        ("tc_o_08_by_priority", {"priority": "AlwaysFront"}, {"priority": "AlwaysFront"}, {3}),
        ("tc_o_09_by_state", {"state": "Charging"}, {"state": "Charging"}, {1}),
    ],
)
async def test_tc_o_07_08_09_get_a_specific_display_message(
    ocpp_server, station201, db_call, case, params, sent, reported
):
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        await run("set_display_message", {"content": "One", "message_id": 1, "state": "Charging"})
        await run("set_display_message", {"content": "Two", "message_id": 2})
        await run(
            "set_display_message", {"content": "Three", "message_id": 3, "priority": "AlwaysFront"}
        )
        await report(cs, params=params)
    request = cs.received[-1][1]
    assert {key: request[key] for key in sent} == sent, case
    rows = await messages(db_call)
    # The others did not match: the report says nothing about them.
    assert {n for n, row in rows.items() if row.status == "reported"} == reported
    assert {n for n, row in rows.items() if row.status == "accepted"} == {1, 2, 3} - reported


async def test_tc_o_11_get_with_unknown_parameters_changes_nothing_else(
    ocpp_server, station201, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        await run("set_display_message", {"content": "One", "message_id": 1})
        log = await report(cs, params={"message_ids": [99], "priority": "InFront"})
    assert log.response == {"status": "Unknown"}
    assert (await messages(db_call))[1].status == DisplayMessageStatus.ACCEPTED


async def test_a_report_nobody_asked_for_is_kept_and_forgets_nothing(
    ocpp_server, station201, db_call
):
    await db_call(
        DisplayMessage.objects.create,
        station=station201,
        message_id=1,
        priority="NormalCycle",
        content="Ours",
        message_format="UTF8",
        status=DisplayMessageStatus.ACCEPTED,
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        await cs.call(
            call.NotifyDisplayMessages(
                request_id=123456,
                message_info=[
                    {
                        "id": 2,
                        "priority": "InFront",
                        "message": {"format": "UTF8", "content": "Local"},
                    }
                ],
            )
        )
    rows = await messages(db_call)
    assert {n: row.status for n, row in rows.items()} == {1: "accepted", 2: "reported"}


@pytest.mark.django_db
def test_a_reported_message_id_out_of_range_is_a_property_constraint_violation(station):
    payload = {
        "requestId": 1,
        "messageInfo": [
            {"id": -1, "priority": "InFront", "message": {"format": "UTF8", "content": "x"}}
        ],
    }
    with pytest.raises(PropertyConstraintViolation):
        on_notify_display_messages(station, payload)
    assert not DisplayMessage.objects.exists()


# --- ClearDisplayMessage -----------------------------------------------------------------------


async def test_tc_o_04_clear_display_message(ocpp_server, station201, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        await run("set_display_message", {"content": "Bye", "message_id": 3})
        log = await run("clear_display_message", {"message_id": 3})
    assert cs.received[-1] == ("ClearDisplayMessage", {"id": 3})
    assert log.response == {"status": "Accepted"}
    assert cs.shown == {}
    kept = (await messages(db_call))[3]
    assert (kept.status, kept.answer) == ("cleared", "Accepted")


async def test_tc_o_05_clear_an_unknown_key(ocpp_server, station201, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=DisplayStation) as cs:
        await cs.call(boot())
        await run("set_display_message", {"content": "Stays", "message_id": 1})
        log = await run("clear_display_message", {"message_id": 5})
    assert (log.status, log.response) == ("rejected", {"status": "Unknown"})
    rows = await messages(db_call)
    assert list(rows) == [1]
    assert rows[1].status == DisplayMessageStatus.ACCEPTED


# --- parameters and rules ----------------------------------------------------------------------


@pytest.fixture
def online(station):
    ChargingStation.objects.filter(pk=station.pk).update(
        connection_state=ConnectionState.ONLINE, ocpp_version="ocpp2.0.1"
    )
    station.refresh_from_db()
    return station


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"content": "Grüße", "message_format": "ASCII"}, "content"),
        ({"content": "x" * 513}, "content"),
        ({"content": "Late", "end_time": "2020-01-01T00:00:00Z"}, "end_time"),
        (
            {"content": "Backwards", "start_time": wire(ts(60)), "end_time": wire(ts(30))},
            "end_time",
        ),
        ({"content": "Odd", "priority": "Sometimes"}, "priority"),
        ({"content": "Big id", "message_id": 2**31}, "message_id"),
    ],
)
def test_set_display_message_refuses_what_the_station_could_not_take(online, params, field):
    with pytest.raises(InvalidCommandParameters) as refused:
        execute_command(online, "set_display_message", params, actor=Actor(role=Role.OPERATOR))
    assert field in refused.value.errors
    assert not CommandLog.objects.exists()


@pytest.mark.parametrize("name", ["set_display_message", "get_display_messages"])
def test_display_commands_are_refused_for_a_16_station_with_the_reason(online, name):
    ChargingStation.objects.filter(pk=online.pk).update(ocpp_version="ocpp1.6")
    online.refresh_from_db()
    check = check_command(online, name, Actor(role=Role.OPERATOR))
    assert check.reason == "Display messages need OCPP 2.0.1 or later; the station speaks ocpp1.6."


def test_a_viewer_may_not_set_display_messages(online):
    check = check_command(online, "set_display_message", Actor(role=Role.VIEWER))
    assert check.forbidden


def test_a_message_typed_in_the_panel_reaches_the_confirmation(org, online):
    response = portal_client(org, Role.OPERATOR).post(
        org_url(org, f"stations/{online.pk}/commands/"),
        {
            "command": "set_display_message",
            "content": "Closed for maintenance",
            "priority": "AlwaysFront",
            "message_format": "UTF8",
            "end_time": "2030-01-01T12:00",
        },
    )
    assert response.status_code == 200
    params = response.context["confirm"].params()
    assert (params["content"], params["priority"]) == ("Closed for maintenance", "AlwaysFront")
    assert params["end_time"].startswith("2030-01-01T12:00")
    assert not CommandLog.objects.exists()


# --- the station page --------------------------------------------------------------------------


def part_url(station):
    return org_url(station.organization, f"stations/{station.pk}/parts/display-messages/")


@pytest.mark.django_db
def test_stored_texts_with_markup_unicode_and_great_length_never_break_the_page(org, station):
    hostile = {
        1: ("<script>alert(1)</script><img src=x onerror=alert(2)>", "HTML"),
        2: ("javascript:alert(3)", "URI"),
        3: ("مرحبا 👋 ‮evil‬ \u0000 Ω", "UTF8"),
        4: ("A" * 20000, "UTF8"),
    }
    for number, (content, message_format) in hostile.items():
        DisplayMessage.objects.create(
            station=station,
            message_id=number,
            priority="NormalCycle",
            content=content.replace("\u0000", ""),
            message_format=message_format,
            language="ar" if number == 3 else "",
            status=DisplayMessageStatus.REPORTED,
        )
    client = portal_client(org)
    # The whole station page computes every part's context; the part is what shows the texts.
    page = client.get(org_url(org, f"stations/{station.pk}/"))
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.content.decode()
    response = client.get(part_url(station))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in body
    assert 'href="javascript' not in body
    assert "مرحبا 👋" in body
    assert 'lang="ar"' in body
    assert "A" * 300 not in body
    assert body.count("data-display-message=") == 4


@pytest.mark.django_db
def test_the_part_says_which_messages_the_station_drops_by_itself(org, station):
    running = ChargingSessionFactory(station=station, transaction_id="tx-live")
    for number, extra in enumerate(
        [
            {"end_time": ts(-5)},
            {"transaction_id": "tx-over"},
            {"transaction_id": running.transaction_id},
            {"start_time": ts(30)},
        ],
        1,
    ):
        DisplayMessage.objects.create(
            station=station,
            message_id=number,
            priority="NormalCycle",
            content=f"Message {number}",
            message_format="UTF8",
            status=DisplayMessageStatus.ACCEPTED,
            **extra,
        )
    context = portal_client(org).get(part_url(station)).context
    shown = {message.message_id: message for message in context["display_messages"]}
    assert [shown[n].expired for n in (1, 2, 3, 4)] == [True, True, False, False]
    assert shown[4].waiting


@pytest.mark.django_db
def test_another_organizations_display_messages_part_is_404(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    response = portal_client(org, Role.OWNER).get(
        part_url(theirs).replace(other_org.slug, org.slug)
    )
    assert response.status_code == 404


# --- the API -----------------------------------------------------------------------------------


def api_url(station):
    return f"/api/v1/stations/{station.pk}/display-messages/"


@pytest.mark.django_db
def test_api_lists_a_stations_display_messages(org, station, django_assert_max_num_queries):
    for number in range(1, 6):
        DisplayMessage.objects.create(
            station=station,
            message_id=number,
            priority="InFront",
            content=f"Hello {number}",
            message_format="UTF8",
            status=DisplayMessageStatus.REPORTED,
        )
    client = client_as(org)
    with django_assert_max_num_queries(8):
        response = client.get(api_url(station))
    assert response.status_code == 200
    assert response.data["count"] == 5
    first = response.data["results"][0]
    assert (first["message_id"], first["content"], first["on_station"]) == (1, "Hello 1", True)


@pytest.mark.django_db
def test_api_answers_404_for_another_organizations_station(org, other_org):
    theirs = ChargingStationFactory(organization=other_org)
    DisplayMessage.objects.create(
        station=theirs,
        message_id=1,
        priority="InFront",
        content="Secret",
        message_format="UTF8",
        status=DisplayMessageStatus.REPORTED,
    )
    response = client_as(org, Role.OWNER).get(api_url(theirs))
    assert response.status_code == 404
    assert b"Secret" not in response.content


@pytest.mark.django_db
def test_api_display_messages_are_read_only(org, station):
    response = client_as(org, Role.OWNER).post(api_url(station), {"content": "x"}, format="json")
    assert response.status_code == 405
