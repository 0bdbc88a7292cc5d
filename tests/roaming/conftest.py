"""Roaming fixtures: two organizations of this platform as OCPI partners over real HTTP.

`ocpi_pair` registers a CPO organization and an eMSP organization with each other through
the credentials module, served by pytest-django's live server (a real socket): every test
built on it exchanges real OCPI requests between two instances of our roaming module.
"""

import time
from dataclasses import dataclass

import pytest

from organizations.models import Organization
from roaming.choices import Direction, PartnerRole, PartnerStatus
from roaming.models import OcpiExchange, RoamingPartner, RoamingProfile
from roaming.ocpi import registration, tokens
from tests.factories import OrganizationFactory


@pytest.fixture(autouse=True)
def pushes_run_in_process(eager_celery):
    """Pushes, pulls and command runs happen in the test's process, on the Redis pass too.

    They are enqueued after the commit through core.enqueue, whose broker path is tested on
    its own (tests/test_outages_redis.py); here what matters is what reaches the partner.
    """


@pytest.fixture
def ocpi_settings(settings, django_db_setup, live_server):
    """Our OCPI URLs on the live server; partners on 127.0.0.1 may be called."""
    settings.OCPI_BASE_URL = live_server.url
    settings.OCPI_ALLOW_PRIVATE_ADDRESSES = True
    return settings


def make_profile(organization, country_code: str, party_id: str, **fields) -> RoamingProfile:
    """The organization's OCPI identity."""
    return RoamingProfile.objects.create(
        organization=organization,
        country_code=country_code,
        party_id=party_id,
        name=organization.name,
        **fields,
    )


def make_partner(organization, country_code: str, party_id: str, role=PartnerRole.EMSP, **fields):
    """A partner row, not registered yet."""
    return RoamingPartner.objects.create(
        organization=organization,
        name=fields.pop("name", f"{country_code}*{party_id}"),
        country_code=country_code,
        party_id=party_id,
        role=role,
        **fields,
    )


def connected_partner(organization, country_code="NL", party_id="MSP", **fields):
    """An active partner of the organization, with the token it calls us with as `.token`."""
    partner = make_partner(organization, country_code, party_id, status=PartnerStatus.ACTIVE)
    partner.token = tokens.new_token()
    partner.incoming_token_hash = tokens.token_hash(partner.token)
    for name, value in fields.items():
        setattr(partner, name, value)
    partner.save()
    return partner


@dataclass
class Pair:
    """A CPO organization and an eMSP organization, each with the other as a partner."""

    cpo: Organization
    emsp: Organization
    # The eMSP as a partner of the CPO, and the CPO as a partner of the eMSP.
    emsp_at_cpo: RoamingPartner
    cpo_at_emsp: RoamingPartner

    def refresh(self) -> "Pair":
        """Both partner rows re-read from the database."""
        self.emsp_at_cpo.refresh_from_db()
        self.cpo_at_emsp.refresh_from_db()
        return self


def make_pair(cpo: Organization, emsp: Organization) -> Pair:
    """Register the eMSP with the CPO: the CPO issues token A, the eMSP connects with it."""
    make_profile(cpo, "DE", "CPO")
    make_profile(emsp, "NL", "MSP")
    emsp_at_cpo = make_partner(cpo, "NL", "MSP", PartnerRole.EMSP, name="Mobility NL")
    cpo_at_emsp = make_partner(emsp, "DE", "CPO", PartnerRole.CPO, name="Stadtwerke CPO")
    token_a = registration.issue_token_a(emsp_at_cpo)
    registration.connect(cpo_at_emsp, url=registration.versions_url(cpo), token_a=token_a)
    pair = Pair(cpo, emsp, emsp_at_cpo, cpo_at_emsp).refresh()
    assert pair.emsp_at_cpo.status == pair.cpo_at_emsp.status == PartnerStatus.ACTIVE
    # The CPO logs an exchange once its answer has gone out (OcpiResponse.close), which may be
    # after the eMSP has read it: wait for the last one, so each test starts from a whole log.
    last = OcpiExchange.objects.filter(
        organization=cpo, direction=Direction.INCOMING, method="POST", url__contains="credentials"
    )
    deadline = time.monotonic() + 10
    while not last.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return pair


@pytest.fixture
def ocpi_pair(ocpi_settings, transactional_db) -> Pair:
    """A CPO and an eMSP organization registered with each other over real HTTP."""
    cpo = OrganizationFactory(name="Stadtwerke CPO", slug="stadtwerke-cpo")
    emsp = OrganizationFactory(name="Mobility NL", slug="mobility-nl")
    return make_pair(cpo, emsp)
