"""OCPP 2.0.1 smart charging and network profiles (OCTT TC_K, TC_B_42/44) over a real socket."""

from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from ocpp.exceptions import NotSupportedError, PropertyConstraintViolationError
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from ocpp_gateway import intents, validation
from ocpp_gateway.models import CommandLog
from ocpp_gateway.remote import (
    Actor,
    CommandNotAllowed,
    InvalidCommandParameters,
    check_command,
    execute_command,
)
from ocpp_gateway.v201 import calls as v201_calls
from ocpp_gateway.v201.smart_charging import schedule_exceeds
from organizations.choices import Role
from sessions_app.models import ChargingSession
from stations.choices import ConnectionState
from stations.models import (
    ChargingProfile,
    ChargingStation,
    EVChargingNeeds,
    ExternalChargingLimit,
    ReportedChargingProfile,
)
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
)
from tests.ocpp_gateway.conftest import Station201, connected_station201

IDENTITY = "CS-SC201"
CARD = "04A1B2C3D4E5F6"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OWNER = Actor(role=Role.OWNER)
AC_NEEDS = {
    "requested_energy_transfer": "AC_three_phase",
    "departure_time": "2026-03-01T17:00:00Z",
    "ac_charging_parameters": {
        "energy_amount": 30000,
        "ev_min_current": 6,
        "ev_max_current": 32,
        "ev_max_voltage": 400,
    },
}
TX = "3f6e5a9c-1c1d-4a5e-9c1b-4f0d2b7e8a11"


def ts(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


class SmartStation(Station201):
    """A 2.0.1 station that records every CSMS call and answers as `answers` says."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received: list[tuple[str, dict]] = []
        self.answers: dict[str, str] = {}

    async def _handle_call(self, msg):
        # The payload exactly as it came off the wire, before the library renames its keys.
        self.received.append((msg.action, msg.payload))
        return await super()._handle_call(msg)

    def status(self, action: str, default: str = "Accepted") -> str:
        return self.answers.get(action, default)

    def last(self, action: str) -> dict:
        return [payload for name, payload in self.received if name == action][-1]

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, **_):
        return call_result.SetChargingProfile(status=self.status("SetChargingProfile"))

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, **_):
        return call_result.ClearChargingProfile(status=self.status("ClearChargingProfile"))

    @on(Action.get_charging_profiles)
    def on_get_charging_profiles(self, **_):
        return call_result.GetChargingProfiles(status=self.status("GetChargingProfiles"))

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, evse_id, duration, **_):
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evseId": evse_id,
                "duration": duration,
                "scheduleStart": "2026-03-01T08:00:00.000Z",
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 11000.0},
                    {"startPeriod": 1800, "limit": 7400.0},
                ],
            },
        )

    @on(Action.set_network_profile)
    def on_set_network_profile(self, **_):
        return call_result.SetNetworkProfile(status=self.status("SetNetworkProfile"))

    @on(Action.request_start_transaction)
    def on_request_start_transaction(self, **_):
        return call_result.RequestStartTransaction(status="Accepted")

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data, **_):
        return call_result.SetVariables(
            set_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "component": data["component"],
                    "variable": data["variable"],
                }
                for data in set_variable_data
            ]
        )

    @on(Action.reset)
    def on_reset(self, **_):
        return call_result.Reset(status="Accepted")


class NoSmartChargingStation(Station201):
    """A 2.0.1 station without smart charging (SmartChargingCtrlr not available)."""

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, **_):
        raise NotSupportedError(details={"cause": "Smart charging is not supported"})


@pytest.fixture
async def station(db_call, org):
    """A 2.0.1 station of `org` with two EVSEs of one connector each, and a driver's card."""

    def build():
        station = ChargingStationFactory(organization=org, ocpp_id=IDENTITY)
        group = AccessGroupFactory(organization=org, name="Drivers")
        station.site.access_groups.add(group)
        IdTokenFactory(organization=org, uid=CARD, access_groups=[group])
        return station

    return await db_call(build)


async def run(name: str, params: dict | None = None):
    """Run a command as a view would: a fresh station row, in a thread of its own."""

    def in_a_view():
        try:
            station = ChargingStation.objects.get(ocpp_id=IDENTITY)
            return execute_command(station, name, params, actor=OWNER)
        finally:
            connections.close_all()

    return await sync_to_async(in_a_view, thread_sensitive=False)()


async def booted(cs):
    await cs.call(
        call.BootNotification(
            charging_station={"model": "Wallbox 2", "vendor_name": "ACME"}, reason="PowerUp"
        )
    )
    return cs


async def make_profile(db_call, org, **fields) -> ChargingProfile:
    values = {
        "organization": org,
        "name": "Night",
        "purpose": "TxDefaultProfile",
        "kind": "Absolute",
        "stack_level": 1,
        "charging_rate_unit": "A",
        "start_schedule": T0,
        "schedule_periods": [
            {"start_period": 0, "limit": 16, "number_phases": 3},
            {"start_period": 3600, "limit": 8.5},
        ],
    } | fields
    return await db_call(ChargingProfile.objects.create, **values)


async def tx_profile(db_call, org, limit=11000, name="Boost") -> ChargingProfile:
    return await make_profile(
        db_call,
        org,
        name=name,
        purpose="TxProfile",
        kind="Relative",
        start_schedule=None,
        charging_rate_unit="W",
        schedule_periods=[{"start_period": 0, "limit": limit}],
    )


async def running_session(db_call, station, evse=1) -> ChargingSession:
    """A transaction the station runs on EVSE `evse` (started as TransactionEvent would)."""
    connector = await db_call(station.connectors.get, connector_id=evse)
    return await db_call(
        ChargingSessionFactory, station=station, connector=connector, transaction_id=TX
    )


def night_profile_201(profile_id: int) -> dict:
    return {
        "id": profile_id,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": profile_id,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 3600, "limit": 8.5},
                ],
                "startSchedule": "2026-03-01T08:00:00.000Z",
            }
        ],
    }


# --- SetChargingProfile -----------------------------------------------------------------------


async def test_tc_k_01_a_tx_default_profile_is_set_on_one_evse(ocpp_server, station, db_call, org):
    night = await make_profile(db_call, org)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        log = await run("set_charging_profile", {"profile": night.pk, "connector_id": 2})

    assert cs.received == [
        ("SetChargingProfile", {"evseId": 2, "chargingProfile": night_profile_201(night.pk)})
    ]
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})


async def test_tc_k_10_a_tx_default_profile_for_every_evse_goes_to_evse_0(
    ocpp_server, station, db_call, org
):
    night = await make_profile(db_call, org)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        log = await run("set_charging_profile", {"profile": night.pk})

    assert cs.last("SetChargingProfile") == {
        "evseId": 0,
        "chargingProfile": night_profile_201(night.pk),
    }
    assert log.status == "accepted"


async def test_tc_k_03_a_station_maximum_is_a_charging_station_max_profile_on_evse_0(
    ocpp_server, station, db_call, org
):
    grid = await make_profile(
        db_call, org, name="Grid", purpose="ChargePointMaxProfile", stack_level=0
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        log = await run("set_charging_profile", {"profile": grid.pk})

    sent = cs.last("SetChargingProfile")
    assert sent["evseId"] == 0
    assert sent["chargingProfile"]["chargingProfilePurpose"] == "ChargingStationMaxProfile"
    assert log.status == "accepted"


async def test_tc_k_02_a_tx_profile_without_a_transaction_is_refused_before_it_is_sent(
    ocpp_server, station, db_call, org
):
    boost = await tx_profile(db_call, org)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        with pytest.raises(CommandNotAllowed) as refusal:
            await run("set_charging_profile", {"profile": boost.pk, "connector_id": 1})

    assert "No transaction is running on connector 1" in str(refusal.value.reason)
    assert cs.received == []


async def test_tc_k_02_a_tx_profile_the_station_has_no_transaction_for_is_logged_rejected(
    ocpp_server, station, db_call, org
):
    # The platform still believes the transaction runs; the station knows it ended.
    await running_session(db_call, station)
    boost = await tx_profile(db_call, org)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        cs.answers["SetChargingProfile"] = "Rejected"
        log = await run("set_charging_profile", {"profile": boost.pk, "connector_id": 1})

    assert cs.last("SetChargingProfile")["chargingProfile"]["transactionId"] == TX
    assert (log.status, log.response) == ("rejected", {"status": "Rejected"})


async def test_tc_k_60_a_tx_profile_carries_the_running_transaction_id(
    ocpp_server, station, db_call, org
):
    session = await running_session(db_call, station)
    boost = await tx_profile(db_call, org)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        log = await run("set_charging_profile", {"profile": boost.pk, "connector_id": 1})

    assert cs.received == [
        (
            "SetChargingProfile",
            {
                "evseId": 1,
                "chargingProfile": {
                    "id": boost.pk,
                    "stackLevel": 1,
                    "chargingProfilePurpose": "TxProfile",
                    "chargingProfileKind": "Relative",
                    "transactionId": TX,
                    "chargingSchedule": [
                        {
                            "id": boost.pk,
                            "chargingRateUnit": "W",
                            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
                        }
                    ],
                },
            },
        )
    ]
    assert log.status == "accepted"
    assert (await db_call(CommandLog.objects.get, pk=log.pk)).session_id == session.pk


async def test_tc_k_04_sending_a_changed_profile_again_replaces_it_by_its_id(
    ocpp_server, station, db_call, org
):
    night = await make_profile(db_call, org)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await run("set_charging_profile", {"profile": night.pk, "connector_id": 1})
        night.schedule_periods = [{"start_period": 0, "limit": 10}]
        await db_call(night.save)
        await run("set_charging_profile", {"profile": night.pk, "connector_id": 1})

    first, second = (p["chargingProfile"] for name, p in cs.received)
    assert first["id"] == second["id"] == night.pk
    assert second["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 10.0}
    ]


async def test_tc_k_19_a_recurring_profile_says_how_it_recurs_and_from_when(
    ocpp_server, station, db_call, org
):
    daily = await make_profile(
        db_call, org, name="Daily", kind="Recurring", recurrency_kind="Daily"
    )
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        log = await run("set_charging_profile", {"profile": daily.pk, "connector_id": 1})

    sent = cs.last("SetChargingProfile")["chargingProfile"]
    assert (sent["chargingProfileKind"], sent["recurrencyKind"]) == ("Recurring", "Daily")
    assert sent["chargingSchedule"][0]["startSchedule"] == "2026-03-01T08:00:00.000Z"
    assert log.status == "accepted"


async def test_tc_k_70_several_profiles_are_set_side_by_side_by_stack_level(
    ocpp_server, station, db_call, org
):
    base = await make_profile(db_call, org, name="Base", stack_level=0)
    evening = await make_profile(db_call, org, name="Evening", stack_level=2)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        logs = [
            await run("set_charging_profile", {"profile": profile.pk, "connector_id": 1})
            for profile in (base, evening)
        ]

    sent = [
        (p["chargingProfile"]["id"], p["chargingProfile"]["stackLevel"]) for _, p in cs.received
    ]
    assert sent == [(base.pk, 0), (evening.pk, 2)]
    assert [log.status for log in logs] == ["accepted", "accepted"]


async def test_tc_k_15_a_station_without_smart_charging_is_logged_as_not_supported(
    ocpp_server, station, db_call, org
):
    night = await make_profile(db_call, org)
    async with connected_station201(ocpp_server, IDENTITY, cls=NoSmartChargingStation) as cs:
        await booted(cs)
        log = await run("set_charging_profile", {"profile": night.pk})

    assert (log.status, log.error_code) == ("error", "NotSupported")


# --- ClearChargingProfile ---------------------------------------------------------------------


async def test_tc_k_05_a_profile_is_cleared_by_its_id(ocpp_server, station, db_call, org):
    night = await make_profile(db_call, org)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        log = await run("clear_charging_profile", {"profile": night.pk})

    assert cs.received == [("ClearChargingProfile", {"chargingProfileId": night.pk})]
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})


async def test_tc_k_06_profiles_are_cleared_by_purpose_and_stack_level_on_an_evse(
    ocpp_server, station
):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await run(
            "clear_charging_profile",
            {"connector_id": 2, "purpose": "TxDefaultProfile", "stack_level": 1},
        )
        await run("clear_charging_profile", {"connector_id": 0, "purpose": "ChargePointMaxProfile"})

    assert cs.received == [
        (
            "ClearChargingProfile",
            {
                "chargingProfileCriteria": {
                    "evseId": 2,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "stackLevel": 1,
                }
            },
        ),
        (
            "ClearChargingProfile",
            {
                "chargingProfileCriteria": {
                    "evseId": 0,
                    "chargingProfilePurpose": "ChargingStationMaxProfile",
                }
            },
        ),
    ]


async def test_tc_k_08_clearing_when_the_station_has_no_profile_is_logged_unknown(
    ocpp_server, station
):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        cs.answers["ClearChargingProfile"] = "Unknown"
        log = await run("clear_charging_profile")

    assert cs.received == [("ClearChargingProfile", {})]
    assert (log.status, log.response) == ("rejected", {"status": "Unknown"})


# --- GetChargingProfiles and ReportChargingProfiles ----------------------------------------------


def reported(profile_id: int, purpose="TxDefaultProfile", stack_level=0, **extra) -> dict:
    return {
        "id": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": profile_id,
                "startSchedule": "2026-03-01T08:00:00Z",
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
            }
        ],
    } | extra


async def report(cs, request_id, evse_id, profiles, source="CSO", tbc=None):
    await cs.call(
        call.ReportChargingProfiles(
            request_id=request_id,
            charging_limit_source=source,
            evse_id=evse_id,
            charging_profile=profiles,
            tbc=tbc,
        )
    )


def stored_profiles(station):
    return list(
        ReportedChargingProfile.objects.filter(station=station)
        .order_by("evse_number", "profile_id")
        .values_list("evse_number", "source", "profile_id", "purpose", "stack_level")
    )


@pytest.mark.parametrize(
    ("case", "params", "criteria"),
    [
        ("K_29", {"evse_id": 0}, {"evseId": 0, "chargingProfile": {}}),
        ("K_30", {"evse_id": 1}, {"evseId": 1, "chargingProfile": {}}),
        ("K_31", {}, {"chargingProfile": {}}),
        ("K_32", {"profile_ids": [7, 8]}, {"chargingProfile": {"chargingProfileId": [7, 8]}}),
        (
            "K_33",
            {"evse_id": 1, "stack_level": 2},
            {"evseId": 1, "chargingProfile": {"stackLevel": 2}},
        ),
        (
            "K_34",
            {"evse_id": 1, "sources": ["EMS", "SO"]},
            {"evseId": 1, "chargingProfile": {"chargingLimitSource": ["EMS", "SO"]}},
        ),
        (
            "K_35",
            {"evse_id": 1, "purpose": "TxDefaultProfile"},
            {"evseId": 1, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}},
        ),
        (
            "K_36",
            {"evse_id": 1, "purpose": "TxProfile", "stack_level": 0},
            {
                "evseId": 1,
                "chargingProfile": {"chargingProfilePurpose": "TxProfile", "stackLevel": 0},
            },
        ),
    ],
)
async def test_tc_k_29_to_36_get_charging_profiles_asks_with_the_criteria_given(
    ocpp_server, station, db_call, case, params, criteria
):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        log = await run("get_charging_profiles", params)
        request = cs.last("GetChargingProfiles")
        evse = params.get("evse_id", 1)
        await report(cs, request["requestId"], evse, [reported(7, stack_level=2)])

    assert request == {"requestId": request["requestId"], **criteria}
    assert (log.status, log.response) == ("accepted", {"status": "Accepted"})
    assert await db_call(stored_profiles, station) == [(evse, "CSO", 7, "TxDefaultProfile", 2)]


async def test_a_report_in_several_parts_is_kept_whole_and_a_part_sent_twice_once(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await run("get_charging_profiles")
        request_id = cs.last("GetChargingProfiles")["requestId"]
        await report(cs, request_id, 0, [reported(1, "ChargingStationMaxProfile")], tbc=True)
        await report(cs, request_id, 1, [reported(2), reported(3, "TxProfile", 1)], tbc=True)
        await report(cs, request_id, 1, [reported(2), reported(3, "TxProfile", 1)], tbc=True)
        await report(cs, request_id, 2, [reported(4)])

    assert await db_call(stored_profiles, station) == [
        (0, "CSO", 1, "ChargingStationMaxProfile", 0),
        (1, "CSO", 2, "TxDefaultProfile", 0),
        (1, "CSO", 3, "TxProfile", 1),
        (2, "CSO", 4, "TxDefaultProfile", 0),
    ]


async def test_a_new_request_replaces_the_profiles_reported_before(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await run("get_charging_profiles")
        await report(cs, cs.last("GetChargingProfiles")["requestId"], 1, [reported(2)])
        await run("get_charging_profiles", {"evse_id": 2})
        await report(cs, cs.last("GetChargingProfiles")["requestId"], 2, [reported(5)])

    assert await db_call(stored_profiles, station) == [(2, "CSO", 5, "TxDefaultProfile", 0)]


async def test_no_profiles_forgets_what_the_station_reported_before(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await run("get_charging_profiles")
        await report(cs, cs.last("GetChargingProfiles")["requestId"], 1, [reported(2)])
        cs.answers["GetChargingProfiles"] = "NoProfiles"
        log = await run("get_charging_profiles")

    assert log.response == {"status": "NoProfiles"}
    assert await db_call(stored_profiles, station) == []


async def test_tc_k_52_external_constraints_are_reported_with_their_source(
    ocpp_server, station, db_call
):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await run("get_charging_profiles", {"purpose": "ChargingStationExternalConstraints"})
        request = cs.last("GetChargingProfiles")
        constraint = reported(100, "ChargingStationExternalConstraints")
        await report(cs, request["requestId"], 0, [constraint], source="EMS")

    assert request["chargingProfile"] == {
        "chargingProfilePurpose": "ChargingStationExternalConstraints"
    }
    assert await db_call(stored_profiles, station) == [
        (0, "EMS", 100, "ChargingStationExternalConstraints", 0)
    ]
    kept = await db_call(ReportedChargingProfile.objects.get, station=station)
    assert kept.profile == constraint


@pytest.mark.parametrize(
    "message",
    [
        call.ReportChargingProfiles(
            request_id=1, charging_limit_source="CSO", evse_id=1, charging_profile=[reported(2**31)]
        ),
        call.ReportChargingProfiles(
            request_id=2**31, charging_limit_source="CSO", evse_id=1, charging_profile=[reported(1)]
        ),
        call.NotifyChargingLimit(charging_limit={"charging_limit_source": "EMS"}, evse_id=-1),
        call.NotifyEVChargingNeeds(charging_needs=AC_NEEDS, evse_id=1, max_schedule_tuples=-3),
    ],
)
async def test_numbers_no_ocpp_integer_holds_are_refused_and_nothing_is_stored(
    ocpp_server, station, db_call, message
):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        with pytest.raises(PropertyConstraintViolationError):
            await cs.call(message, suppress=False)

    def stored():
        return (
            ReportedChargingProfile.objects.count(),
            ExternalChargingLimit.objects.count(),
            EVChargingNeeds.objects.count(),
        )

    assert await db_call(stored) == (0, 0, 0)


# --- GetCompositeSchedule ---------------------------------------------------------------------


async def test_tc_k_43_the_composite_schedule_of_one_evse(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        log = await run(
            "get_composite_schedule",
            {"connector_id": 2, "duration": 3600, "charging_rate_unit": "W"},
        )

    assert cs.received == [
        ("GetCompositeSchedule", {"duration": 3600, "evseId": 2, "chargingRateUnit": "W"})
    ]
    assert log.status == "accepted"
    assert log.response["schedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 11000.0},
        {"startPeriod": 1800, "limit": 7400.0},
    ]


async def test_tc_k_44_the_composite_schedule_of_the_station_is_evse_0(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        log = await run("get_composite_schedule", {"duration": 600})

    assert cs.received == [("GetCompositeSchedule", {"duration": 600, "evseId": 0})]
    assert log.response["schedule"]["evseId"] == 0


# --- External limits --------------------------------------------------------------------------

LIMIT_SCHEDULE = {
    "id": 1,
    "chargingRateUnit": "W",
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6000.0}],
}


def active_limits(station):
    return list(
        ExternalChargingLimit.objects.active()
        .filter(station=station)
        .values_list("evse_number", "source", "grid_critical", "schedules")
    )


async def test_tc_k_48_an_external_limit_is_kept_and_a_newer_one_replaces_it(
    ocpp_server, station, db_call
):
    lower = LIMIT_SCHEDULE | {"chargingSchedulePeriod": [{"startPeriod": 0, "limit": 4000.0}]}
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await cs.call(
            call.NotifyChargingLimit(
                charging_limit={"charging_limit_source": "EMS", "is_grid_critical": True},
                charging_schedule=[LIMIT_SCHEDULE],
            )
        )
        first = await db_call(active_limits, station)
        await cs.call(
            call.NotifyChargingLimit(
                charging_limit={"charging_limit_source": "EMS"}, charging_schedule=[lower]
            )
        )

    assert first == [(0, "EMS", True, [LIMIT_SCHEDULE])]
    assert await db_call(active_limits, station) == [(0, "EMS", None, [lower])]


async def test_tc_k_50_a_released_external_limit_is_no_longer_active(ocpp_server, station, db_call):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await cs.call(
            call.NotifyChargingLimit(charging_limit={"charging_limit_source": "SO"}, evse_id=2)
        )
        await cs.call(
            call.NotifyChargingLimit(charging_limit={"charging_limit_source": "EMS"}, evse_id=2)
        )
        await cs.call(call.ClearedChargingLimit(charging_limit_source="SO", evse_id=2))

    assert await db_call(active_limits, station) == [(2, "EMS", None, [])]
    cleared = await db_call(ExternalChargingLimit.objects.get, station=station, source="SO")
    assert cleared.cleared_at is not None


async def test_tc_k_51_a_limit_on_a_charging_evse_is_kept_and_released_without_touching_it(
    ocpp_server, station, db_call
):
    session = await running_session(db_call, station)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await cs.call(
            call.NotifyChargingLimit(
                charging_limit={"charging_limit_source": "SO", "is_grid_critical": True},
                charging_schedule=[LIMIT_SCHEDULE],
                evse_id=1,
            )
        )
        during = await db_call(active_limits, station)
        # Without evseId: every limit the source set on the station ends.
        await cs.call(call.ClearedChargingLimit(charging_limit_source="SO"))

    assert during == [(1, "SO", True, [LIMIT_SCHEDULE])]
    assert await db_call(active_limits, station) == []
    assert (await db_call(ChargingSession.objects.get, pk=session.pk)).state == session.state


# --- ISO 15118: EV charging needs and schedules ---------------------------------------------------


def ev_schedule(*limits: float, unit="W") -> dict:
    return {
        "id": 1,
        "charging_rate_unit": unit,
        "charging_schedule_period": [
            {"start_period": 900 * index, "limit": limit} for index, limit in enumerate(limits)
        ],
    }


async def ev_needs(cs, evse=1):
    answer = await cs.call(
        call.NotifyEVChargingNeeds(charging_needs=AC_NEEDS, evse_id=evse, max_schedule_tuples=3)
    )
    return answer.status


async def ev_proposes(cs, *limits: float, evse=1):
    answer = await cs.call(
        call.NotifyEVChargingSchedule(
            time_base=ts(datetime.now(UTC)), charging_schedule=ev_schedule(*limits), evse_id=evse
        )
    )
    return answer.status


def needs_of(station):
    return list(
        EVChargingNeeds.objects.filter(station=station)
        .order_by("reported_at", "id")
        .values_list("evse_number", "energy_transfer", "energy_amount", "schedule_status")
    )


async def test_tc_k_53_ev_needs_are_kept_and_a_schedule_within_the_tx_profile_accepted(
    ocpp_server, station, db_call, org
):
    await running_session(db_call, station)
    boost = await tx_profile(db_call, org, limit=11000)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        needs_answer = await ev_needs(cs)
        # The operator answers the needs with a TxProfile for the transaction.
        log = await run("set_charging_profile", {"profile": boost.pk, "connector_id": 1})
        schedule_answer = await ev_proposes(cs, 11000, 7400)

    assert (needs_answer, log.status, schedule_answer) == ("Accepted", "accepted", "Accepted")
    assert await db_call(needs_of, station) == [(1, "AC_three_phase", 30000, "Accepted")]
    kept = await db_call(EVChargingNeeds.objects.get, station=station)
    assert kept.departure_time == datetime(2026, 3, 1, 17, tzinfo=UTC)
    assert kept.max_schedule_tuples == 3
    assert kept.schedule["chargingSchedulePeriod"][1] == {"startPeriod": 900, "limit": 7400}


async def test_tc_k_55_an_ev_schedule_above_the_tx_profile_is_rejected(
    ocpp_server, station, db_call, org
):
    await running_session(db_call, station)
    boost = await tx_profile(db_call, org, limit=7400)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await ev_needs(cs)
        await run("set_charging_profile", {"profile": boost.pk, "connector_id": 1})
        answer = await ev_proposes(cs, 7400, 11000)

    assert answer == "Rejected"
    assert await db_call(needs_of, station) == [(1, "AC_three_phase", 30000, "Rejected")]


async def test_tc_k_57_a_renegotiation_by_the_ev_is_kept_beside_the_first_needs(
    ocpp_server, station, db_call, org
):
    await running_session(db_call, station)
    first = await tx_profile(db_call, org, limit=11000)
    second = await tx_profile(db_call, org, limit=3700, name="Less")
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await ev_needs(cs)
        await run("set_charging_profile", {"profile": first.pk, "connector_id": 1})
        await ev_proposes(cs, 11000)
        # The EV renegotiates: new needs, a new profile, a schedule within it.
        renegotiated = await ev_needs(cs)
        await run("set_charging_profile", {"profile": second.pk, "connector_id": 1})
        answer = await ev_proposes(cs, 3700)

    assert (renegotiated, answer) == ("Accepted", "Accepted")
    assert await db_call(needs_of, station) == [
        (1, "AC_three_phase", 30000, "Accepted"),
        (1, "AC_three_phase", 30000, "Accepted"),
    ]


async def test_tc_k_58_after_a_renegotiation_by_the_csms_the_new_profile_is_the_limit(
    ocpp_server, station, db_call, org
):
    await running_session(db_call, station)
    first = await tx_profile(db_call, org, limit=11000)
    lower = await tx_profile(db_call, org, limit=3700, name="Less")
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await ev_needs(cs)
        await run("set_charging_profile", {"profile": first.pk, "connector_id": 1})
        before = await ev_proposes(cs, 11000)
        await run("set_charging_profile", {"profile": lower.pk, "connector_id": 1})
        above = await ev_proposes(cs, 11000)
        within = await ev_proposes(cs, 3700)

    assert (before, above, within) == ("Accepted", "Rejected", "Accepted")


async def test_tc_k_59_needs_sent_after_the_csms_renegotiates_are_accepted_and_kept(
    ocpp_server, station, db_call, org
):
    await running_session(db_call, station)
    lower = await tx_profile(db_call, org, limit=3700)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await run("set_charging_profile", {"profile": lower.pk, "connector_id": 1})
        needs_answer = await ev_needs(cs)
        answer = await ev_proposes(cs, 3700, 2000)

    assert (needs_answer, answer) == ("Accepted", "Accepted")
    assert await db_call(needs_of, station) == [(1, "AC_three_phase", 30000, "Accepted")]


async def test_a_tx_profile_of_an_earlier_transaction_does_not_limit_the_ev(
    ocpp_server, station, db_call, org
):
    boost = await tx_profile(db_call, org, limit=3700)
    session = await running_session(db_call, station)
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await run("set_charging_profile", {"profile": boost.pk, "connector_id": 1})

        def next_transaction():
            ChargingSession.objects.filter(pk=session.pk).update(state="completed")
            connector = station.connectors.get(connector_id=1)
            ChargingSessionFactory(station=station, connector=connector, transaction_id="tx-2")

        await db_call(next_transaction)
        answer = await ev_proposes(cs, 11000)

    assert answer == "Accepted"


# --- K_37: remote start with a charging profile ------------------------------------------------


async def test_tc_k_37_a_remote_start_carries_its_tx_profile(ocpp_server, station, db_call):
    profile = {
        "chargingProfileId": 9,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    }
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        await cs.call(
            call.StatusNotification(
                timestamp=ts(datetime.now(UTC)),
                connector_status="Available",
                evse_id=1,
                connector_id=1,
            )
        )
        log = await run(
            "start_charging", {"id_tag": CARD, "connector_id": 1, "charging_profile": profile}
        )

    sent = cs.last("RequestStartTransaction")["chargingProfile"]
    assert (sent["id"], sent["chargingProfilePurpose"], sent["chargingProfileKind"]) == (
        9,
        "TxProfile",
        "Relative",
    )
    assert sent["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0}
    ]
    assert "transactionId" not in sent
    assert log.status == "accepted"


# --- Network profiles -------------------------------------------------------------------------

NETWORK = {
    "configuration_slot": 2,
    "csms_url": "wss://csms.example.com/ocpp/",
    "security_profile": 2,
    "ocpp_interface": "Wireless0",
    "message_timeout": 45,
    "apn": {
        "apn": "internet.example",
        "apn_user_name": "ev",
        "apn_password": "secret",
        "apn_authentication": "CHAP",
    },
}


async def test_tc_b_42_a_new_network_profile_is_sent_and_accepted(ocpp_server, station):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        log = await run("set_network_profile", NETWORK)

    assert cs.received == [
        (
            "SetNetworkProfile",
            {
                "configurationSlot": 2,
                "connectionData": {
                    "ocppVersion": "OCPP20",
                    "ocppTransport": "JSON",
                    "ocppCsmsUrl": "wss://csms.example.com/ocpp/",
                    "messageTimeout": 45,
                    "securityProfile": 2,
                    "ocppInterface": "Wireless0",
                    "apn": {
                        "apn": "internet.example",
                        "apnUserName": "ev",
                        "apnPassword": "secret",
                        "apnAuthentication": "CHAP",
                    },
                },
            },
        )
    ]
    assert (log.command, log.status) == ("set_network_profile", "accepted")


async def test_tc_b_42_the_new_profile_is_put_first_and_the_station_restarted_to_use_it(
    ocpp_server, station
):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        logs = [
            await run("set_network_profile", NETWORK),
            await run(
                "set_variables",
                {
                    "variables": [
                        {
                            "component": "OCPPCommCtrlr",
                            "variable": "NetworkConfigurationPriority",
                            "value": "2,1",
                        }
                    ]
                },
            ),
            await run("restart_station", {"type": "Soft"}),
        ]

    assert [name for name, _ in cs.received] == ["SetNetworkProfile", "SetVariables", "Reset"]
    assert cs.last("SetVariables")["setVariableData"][0]["attributeValue"] == "2,1"
    assert [log.status for log in logs] == ["accepted", "accepted", "accepted"]


async def test_tc_b_44_a_network_profile_the_station_cannot_store_is_logged_rejected(
    ocpp_server, station
):
    async with connected_station201(ocpp_server, IDENTITY, cls=SmartStation) as cs:
        await booted(cs)
        cs.answers["SetNetworkProfile"] = "Failed"
        log = await run("set_network_profile", NETWORK)

    assert (log.status, log.response) == ("rejected", {"status": "Failed"})


# --- Parameters and versions (no socket) ------------------------------------------------------


@pytest.fixture
def online_201(db, org):
    """A 2.0.1 station the database believes online (nothing must be sent)."""
    return ChargingStationFactory(
        organization=org, connection_state=ConnectionState.ONLINE, ocpp_version="ocpp2.0.1"
    )


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("get_charging_profiles", {"evse_id": 9}, "evse_id"),
        ("get_charging_profiles", {"evse_id": -1}, "evse_id"),
        ("get_charging_profiles", {"purpose": "ChargePointMaxProfile"}, "purpose"),
        ("get_charging_profiles", {"sources": ["Grid"]}, "sources"),
        ("get_charging_profiles", {"profile_ids": []}, "profile_ids"),
        ("set_network_profile", NETWORK | {"csms_url": "https://csms.example.com/"}, "csms_url"),
        ("set_network_profile", NETWORK | {"csms_url": "ws://csms.example.com/"}, "csms_url"),
        ("set_network_profile", NETWORK | {"security_profile": 4}, "security_profile"),
        ("set_network_profile", NETWORK | {"ocpp_interface": "Wired9"}, "ocpp_interface"),
        ("set_network_profile", NETWORK | {"apn": {"apn": "x"}}, "apn"),
        ("set_network_profile", {k: v for k, v in NETWORK.items() if k != "csms_url"}, "csms_url"),
    ],
)
def test_invalid_parameters_are_field_errors(online_201, name, params, field):
    with pytest.raises(InvalidCommandParameters) as invalid:
        execute_command(online_201, name, params, actor=OWNER)

    assert set(invalid.value.errors) == {field}
    assert not CommandLog.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["get_charging_profiles", "set_network_profile"])
def test_a_16_station_is_told_the_command_is_only_for_201(org, name):
    station = ChargingStationFactory(
        organization=org, connection_state=ConnectionState.ONLINE, ocpp_version="ocpp1.6"
    )

    check = check_command(station, name, OWNER)

    assert check.reason == "Only for OCPP 2.0.1 stations."


@pytest.mark.django_db
def test_the_station_profile_purposes_are_spelled_in_201_words_for_clearing(online_201):
    call_ = v201_calls.build(
        intents.ClearChargingProfile(purpose="ChargePointMaxProfile", connector=0), online_201
    )

    assert call_.payload == {
        "chargingProfileCriteria": {
            "evseId": 0,
            "chargingProfilePurpose": "ChargingStationMaxProfile",
        }
    }


def every_intent_of_this_subject(station) -> list:
    night = ChargingProfile.objects.create(
        organization=station.organization,
        name="Night",
        kind="Recurring",
        recurrency_kind="Weekly",
        start_schedule=T0,
        schedule_periods=[{"start_period": 0, "limit": 16}],
    )
    return [
        intents.SetChargingProfile(night, connector=2),
        intents.ClearChargingProfile(profile_id=3, connector=1, purpose="TxProfile", stack_level=0),
        intents.GetCompositeSchedule(600, connector=1, rate_unit="A"),
        intents.GetChargingProfiles(
            7, evse=0, profile_ids=(1, 2), purpose="ChargingStationExternalConstraints"
        ),
        intents.UpdateFirmware(
            "https://fw.example.com/x.bin",
            T0,
            retries=1,
            signing_certificate="PEM",
            signature="c2ln",
            install_at=T0,
            request_id=9,
        ),
        intents.SetNetworkProfile(
            1,
            intents.NetworkProfile(
                "wss://csms.example.com/ocpp",
                3,
                vpn={"server": "vpn", "user": "u", "password": "p", "key": "k", "type": "IPSec"},
            ),
        ),
        intents.PublishFirmware(
            5, "https://fw.example.com/x.bin", "9e107d9d372bb6826bd81d3542a419d6"
        ),
        intents.UnpublishFirmware("9e107d9d372bb6826bd81d3542a419d6"),
    ]


@pytest.mark.parametrize("subprotocol", ["ocpp2.0.1", "ocpp2.1"])
def test_every_call_of_this_subject_keeps_to_the_201_and_21_schemas(online_201, subprotocol):
    for intent in every_intent_of_this_subject(online_201):
        built = v201_calls.build(intent, online_201)
        validation.validate(subprotocol, built.action, built.payload)


# --- Does an EV's schedule keep within the CSMS's? ----------------------------------------------

BASE = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def csms(kind="Relative", periods=((0, 11000),), start=None, duration=None, recurrency=None):
    schedule = {
        "id": 1,
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in periods],
    }
    if start is not None:
        schedule["startSchedule"] = ts(start)
    if duration is not None:
        schedule["duration"] = duration
    profile = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
    }
    if recurrency:
        profile["recurrencyKind"] = recurrency
    return profile


def ev(periods, unit="W", duration=None):
    schedule = {
        "id": 1,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": s, "limit": v} for s, v in periods],
    }
    if duration is not None:
        schedule["duration"] = duration
    return schedule


@pytest.mark.parametrize(
    ("ev_schedule", "profile", "exceeds"),
    [
        (ev([(0, 11000)]), csms(), False),
        (ev([(0, 11000.04)]), csms(), False),  # rounding, not excess
        (ev([(0, 11000.2)]), csms(), True),
        (ev([(0, 7000), (600, 12000)]), csms(), True),
        # The CSMS lowers the limit after an hour: an EV still at full power then exceeds it.
        (ev([(0, 11000)]), csms(periods=((0, 11000), (3600, 3700))), True),
        (ev([(0, 11000), (3600, 3700)]), csms(periods=((0, 11000), (3600, 3700))), False),
        # ... unless the EV's schedule is over by then.
        (ev([(0, 11000)], duration=3600), csms(periods=((0, 11000), (3600, 3700))), False),
        # An absolute schedule began half an hour before the EV's time base.
        (
            ev([(0, 11000), (1800, 3700)]),
            csms("Absolute", ((0, 11000), (3600, 3700)), start=BASE - timedelta(minutes=30)),
            False,
        ),
        (
            ev([(0, 11000), (2400, 3700)]),
            csms("Absolute", ((0, 11000), (3600, 3700)), start=BASE - timedelta(minutes=30)),
            True,
        ),
        # Before an absolute schedule begins, and after its duration, it limits nothing.
        (
            ev([(0, 22000), (3600, 7000)]),
            csms("Absolute", ((0, 7000),), start=BASE + timedelta(hours=1)),
            False,
        ),
        (ev([(0, 7000), (600, 22000)]), csms(periods=((0, 7000),), duration=600), False),
        # A daily schedule comes back the next day.
        (
            ev([(0, 3700), (86400, 11000)]),
            csms("Recurring", ((0, 3700),), start=BASE - timedelta(days=3), recurrency="Daily"),
            True,
        ),
        (
            ev([(0, 11000)], duration=86400),
            csms(
                "Recurring",
                ((0, 3700), (7200, 11000)),
                start=BASE - timedelta(days=1, hours=2),
                recurrency="Daily",
            ),
            True,
        ),
        (
            ev([(0, 11000), (79200, 3700)], duration=86400),
            csms(
                "Recurring",
                ((0, 3700), (7200, 11000)),
                start=BASE - timedelta(days=1, hours=2),
                recurrency="Daily",
            ),
            False,
        ),
        # Amperes against watts: no voltage to compare them with.
        (ev([(0, 32)], unit="A"), csms(periods=((0, 10),)), False),
    ],
)
def test_an_ev_schedule_exceeds_the_csms_profile_when_it_asks_more_at_some_moment(
    ev_schedule, profile, exceeds
):
    assert schedule_exceeds(ev_schedule, BASE, profile) is exceeds
