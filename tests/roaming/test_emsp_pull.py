"""Pulling what changed from a CPO partner's senders (our eMSP role), without HTTP.

The partner's answers stand in for OcpiClient.get_all; the exchange over real HTTP is in
test_emsp_live.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from roaming import tasks
from roaming.choices import PartnerStatus
from roaming.models import PartnerCdr, PartnerLocation, PartnerSession, PartnerTariff
from roaming.ocpi.client import OcpiClient, PartnerError
from roaming.ocpi.v221.receiving import OVERLAP, pull_partner_data, store_location
from tests.roaming.emsp_objects import (
    cdr,
    cpo_partner,
    emsp_profile,
    fresh_cache,  # noqa: F401
    location,
    session,
    tariff,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

BASE = "https://ocpi.cpo.example/ocpi/2.2.1/cpo/"
SENDERS = [
    {"identifier": module, "role": "SENDER", "url": f"{BASE}{module}/"}
    for module in ("locations", "tariffs", "sessions", "cdrs")
]


@pytest.fixture
def partner(org):
    emsp_profile(org)
    return cpo_partner(org, endpoints=SENDERS)


class FakeSenders:
    """The partner's sender lists by module; records what was asked."""

    def __init__(self, monkeypatch, **lists):
        self.lists = lists
        self.asked = []
        self.failing = set()
        fake = self

        def get_all(client, url, *, module="", params=None):
            fake.asked.append((module, url, params))
            if module in fake.failing:
                raise PartnerError("HTTP 503, OCPI None: down")
            return list(fake.lists.get(module, []))

        monkeypatch.setattr(OcpiClient, "get_all", get_all)


def by_module(results) -> dict:
    return {r.module: (r.stored, r.refused, r.error) for r in results}


def test_a_pull_stores_the_partners_locations_tariffs_sessions_and_cdrs(partner, monkeypatch):
    FakeSenders(
        monkeypatch,
        locations=[location("L1"), location("L2")],
        tariffs=[tariff("T1")],
        sessions=[session("S1")],
        cdrs=[cdr("C1")],
    )
    results = pull_partner_data(partner)
    assert by_module(results) == {
        "locations": (2, 0, ""),
        "tariffs": (1, 0, ""),
        "sessions": (1, 0, ""),
        "cdrs": (1, 0, ""),
    }
    assert PartnerLocation.objects.filter(partner=partner).count() == 2
    assert PartnerTariff.objects.get().ocpi_id == "T1"
    assert PartnerSession.objects.get().ocpi_id == "S1"
    assert PartnerCdr.objects.get().ocpi_id == "C1"


def test_a_pull_twice_stores_each_object_once(partner, monkeypatch):
    FakeSenders(monkeypatch, locations=[location("L1")], cdrs=[cdr("C1")])
    pull_partner_data(partner)
    pull_partner_data(partner)
    assert PartnerLocation.objects.count() == PartnerCdr.objects.count() == 1


def test_the_next_pull_asks_only_for_what_changed_since_the_last(partner, monkeypatch):
    senders = FakeSenders(monkeypatch, locations=[location("L1")])
    before = timezone.now()
    pull_partner_data(partner)
    first = {module: params for module, _url, params in senders.asked}
    # Locations and CDRs have no required date_from: the first pull takes everything.
    assert first["locations"] is None and first["cdrs"] is None
    # Sessions require one: the first pull goes 90 days back.
    since = parse_datetime(first["sessions"]["date_from"])
    assert since <= before - timedelta(days=89)
    senders.asked.clear()
    pull_partner_data(partner)
    again = parse_datetime({m: p for m, _u, p in senders.asked}["locations"]["date_from"])
    assert before - OVERLAP - timedelta(seconds=1) <= again <= timezone.now() - OVERLAP


def test_a_failed_module_is_reported_and_asked_for_whole_next_time(partner, monkeypatch):
    senders = FakeSenders(monkeypatch, locations=[location("L1")], cdrs=[cdr("C1")])
    senders.failing.add("locations")
    results = by_module(pull_partner_data(partner))
    assert results["locations"] == (0, 0, "HTTP 503, OCPI None: down")
    assert results["cdrs"] == (1, 0, "")
    senders.failing.clear()
    senders.asked.clear()
    pull_partner_data(partner)
    asked = {module: params for module, _url, params in senders.asked}
    assert asked["locations"] is None
    assert asked["cdrs"]["date_from"]


def test_invalid_objects_and_other_parties_objects_are_refused_one_by_one(partner, monkeypatch):
    broken = location("BROKEN", coordinates={"latitude": "north", "longitude": "x"})
    foreign = location("FOREIGN", party=("FR", "TTT"))
    FakeSenders(monkeypatch, locations=[broken, foreign, location("GOOD"), "not an object"])
    results = by_module(pull_partner_data(partner))
    assert results["locations"] == (1, 3, "")
    assert list(PartnerLocation.objects.values_list("ocpi_id", flat=True)) == ["GOOD"]


def test_a_pulled_copy_older_than_the_pushed_one_changes_nothing(partner, monkeypatch):
    store_location(partner, location("L1", name="Pushed", last_updated="2026-03-02T12:00:00Z"))
    stale = location("L1", name="Stale", last_updated="2026-03-02T09:00:00Z")
    FakeSenders(monkeypatch, locations=[stale])
    pull_partner_data(partner)
    assert PartnerLocation.objects.get().name == "Pushed"


def test_nothing_is_pulled_from_a_suspended_partner_or_without_the_emsp_role(
    partner, monkeypatch, org
):
    senders = FakeSenders(monkeypatch, locations=[location("L1")])
    partner.status = PartnerStatus.SUSPENDED
    partner.save()
    assert pull_partner_data(partner) == []
    partner.status = PartnerStatus.ACTIVE
    partner.save()
    org.roaming_profile.emsp_enabled = False
    org.roaming_profile.save()
    assert pull_partner_data(partner) == []
    assert senders.asked == []


def test_the_hourly_task_pulls_every_active_partner_with_senders(
    partner, monkeypatch, org, other_org
):
    senders = FakeSenders(monkeypatch, locations=[location("L1")])
    cpo_partner(org, token="no-senders-token-0123456789", party=("FR", "TTT"))
    cpo_partner(
        org,
        token="suspended-token-0123456789",
        party=("BE", "SUS"),
        endpoints=SENDERS,
        status=PartnerStatus.SUSPENDED,
    )
    assert tasks.pull_from_cpo_partners() == 1
    assert {url for _module, url, _params in senders.asked} == {s["url"] for s in SENDERS}
    assert PartnerLocation.objects.get().partner == partner


def test_the_task_reports_per_module(partner, monkeypatch):
    FakeSenders(monkeypatch, tariffs=[tariff("T1")])
    report = tasks.pull_partner_data(partner.pk)
    assert report["tariffs"] == {"stored": 1, "refused": 0, "error": ""}
    assert tasks.pull_partner_data(999_999) == {}
