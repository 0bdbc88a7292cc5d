"""Matrix rows of the roaming API: partners and their actions, our OCPI profile, the daily
roaming activity, and what CPO partners sent us (sessions, CDRs, locations, tariffs)."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from organizations.choices import Role
from roaming.models import (
    PartnerCdr,
    PartnerLocation,
    PartnerSession,
    PartnerTariff,
    RoamingActivity,
    RoamingPartner,
    RoamingProfile,
)
from tests.api.matrix import WHEN, WORLD_BUILDERS, Endpoint
from tests.factories import MembershipFactory, OrganizationFactory, SiteFactory


@dataclass
class RoamingRows:
    """The world's OCPI profile and one object of each kind a CPO partner sent it."""

    profile: RoamingProfile
    session: PartnerSession
    cdr: PartnerCdr
    location: PartnerLocation
    tariff: PartnerTariff


def received(world, model, ocpi_id, partner=None, **fields):
    """An object the world's partner (or the one given) sent."""
    return model.objects.create(
        organization=world.org,
        partner=partner or world.roaming_partner,
        country_code="DE",
        party_id=(partner or world.roaming_partner).party_id,
        ocpi_id=ocpi_id,
        last_updated=WHEN,
        **fields,
    )


def build_rows(world) -> RoamingRows:
    """Our party, and a session, CDR, location and tariff the world's partner sent."""
    # Unique on the platform: the world's organization number makes it so.
    party = f"{world.org.pk % 1000:03d}"
    return RoamingRows(
        profile=RoamingProfile.objects.create(
            organization=world.org, country_code="DE", party_id=party
        ),
        session=received(world, PartnerSession, "S1", start=WHEN, kwh=Decimal("7.5")),
        cdr=received(
            world,
            PartnerCdr,
            "CDR1",
            start=WHEN,
            end=WHEN,
            currency="EUR",
            kwh=Decimal("7.5"),
            total_cost_excl_vat=Decimal("3.00"),
            total_cost_incl_vat=Decimal("3.57"),
        ),
        location=received(world, PartnerLocation, "LOC1", name="Zuidas"),
        tariff=received(world, PartnerTariff, "T1", currency="EUR"),
    )


WORLD_BUILDERS["roaming_rows"] = build_rows


def rows(world) -> RoamingRows:
    return world.roaming_rows


def more_profiles(world, n):
    # Profiles of more organizations the owner is a member of (one profile per organization).
    owner = world.users[Role.OWNER]
    for _ in range(n):
        organization = OrganizationFactory()
        MembershipFactory(user=owner, organization=organization, role=Role.VIEWER)
        RoamingProfile.objects.create(
            organization=organization, country_code="NL", party_id=f"{organization.pk % 1000:03d}"
        )


def more_received(model, **fields):
    def more(world, n):
        for number in range(n):
            # Each from its own partner, so a query per partner would show.
            partner = RoamingPartner.objects.create(
                organization=world.org,
                name=f"CPO {number}",
                country_code="NL",
                party_id=f"R{number:02d}",
            )
            received(world, model, f"X{number}", partner=partner, **fields)

    return more


def more_partners(world, n):
    for number in range(n):
        RoamingPartner.objects.create(
            organization=world.org,
            name=f"Partner {number}",
            country_code="NL",
            party_id=f"P{number:02d}",
        )


def more_activity(world, n):
    for number in range(n):
        # Each with its own partner and site, so a query per partner or site would show.
        partner = RoamingPartner.objects.create(
            organization=world.org,
            name=f"Partner {number}",
            country_code="NL",
            party_id=f"A{number:02d}",
        )
        RoamingActivity.objects.create(
            organization=world.org,
            partner=partner,
            site=SiteFactory(organization=world.org),
            location_id=str(number),
            date=world.roaming_activity.date - timedelta(days=number + 1),
            sessions=1,
        )


def partner_body(world):
    return {
        "name": "Charge Hub",
        "country_code": "NL",
        "party_id": "CH1",
        "role": "HUB",
        "versions_url": "https://ocpi.example.com/versions",
        "credentials_token": "secret-token-abcdef",
        "status": "active",
    }


def partner_url(world):
    return f"/api/v1/roaming-partners/{world.roaming_partner.pk}/"


def action_url(name):
    return lambda w: f"/api/v1/roaming-partners/{w.roaming_partner.pk}/{name}/"


def profile_url(world):
    return f"/api/v1/roaming-profiles/{rows(world).profile.pk}/"


def profile_body(world):
    return {"country_code": "DE", "party_id": rows(world).profile.party_id, "name": "Depot"}


def received_endpoints(path, basename, row, model, **fields):
    """The list and detail of one kind of object partners sent us (read-only)."""
    return [
        Endpoint(
            f"{basename}-list",
            "get",
            lambda w: f"/api/v1/{path}/",
            Role.VIEWER,
            ours=lambda w: getattr(rows(w), row).pk,
            more=more_received(model, **fields),
        ),
        Endpoint(
            f"{basename}-detail",
            "get",
            lambda w: f"/api/v1/{path}/{getattr(rows(w), row).pk}/",
            Role.VIEWER,
        ),
    ]


ENDPOINTS = [
    Endpoint(
        "roamingpartner-list",
        "get",
        lambda w: "/api/v1/roaming-partners/",
        Role.VIEWER,
        ours=lambda w: w.roaming_partner.pk,
        more=more_partners,
    ),
    Endpoint("roamingpartner-detail", "get", partner_url, Role.VIEWER),
    Endpoint(
        "roamingpartner-detail",
        "patch",
        partner_url,
        Role.ADMIN,
        body=lambda w: {"status": "suspended", "tariff": w.tariff.pk},
    ),
    Endpoint("roamingpartner-detail", "put", partner_url, Role.ADMIN, body=partner_body),
    Endpoint("roamingpartner-detail", "delete", partner_url, Role.ADMIN, ok=(204,)),
    Endpoint(
        "organization-roamingpartner-list",
        "get",
        lambda w: f"/api/v1/organizations/{w.org.pk}/roaming-partners/",
        Role.VIEWER,
        ours=lambda w: w.roaming_partner.pk,
        more=more_partners,
    ),
    Endpoint(
        "organization-roamingpartner-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/roaming-partners/",
        Role.ADMIN,
        body=partner_body,
        ok=(201,),
    ),
    Endpoint(
        "roamingactivity-list",
        "get",
        lambda w: "/api/v1/roaming-activity/",
        Role.VIEWER,
        ours=lambda w: w.roaming_activity.pk,
        more=more_activity,
    ),
    Endpoint(
        "roamingactivity-detail",
        "get",
        lambda w: f"/api/v1/roaming-activity/{w.roaming_activity.pk}/",
        Role.VIEWER,
    ),
    # Partner actions. The world's partner never registered: what needs a registration is a
    # 409 for whoever may ask; issuing token A and unregistering work at any time.
    Endpoint("roamingpartner-issue-token", "post", action_url("issue-token"), Role.ADMIN),
    Endpoint(
        "roamingpartner-connect",
        "post",
        action_url("connect"),
        Role.ADMIN,
        # Refused before any request leaves: private addresses are not called in tests.
        body=lambda w: {"versions_url": "http://127.0.0.1:9/versions", "token": "token-a"},
        ok=(400,),
    ),
    Endpoint("roamingpartner-rotate", "post", action_url("rotate"), Role.ADMIN, ok=(409,)),
    Endpoint("roamingpartner-unregister", "post", action_url("unregister"), Role.ADMIN),
    Endpoint("roamingpartner-sync", "post", action_url("sync"), Role.ADMIN, ok=(409,)),
    Endpoint(
        "roamingpartner-retry-pushes", "post", action_url("retry-pushes"), Role.ADMIN, ok=(409,)
    ),
    Endpoint(
        "roamingpartnerinvoice-reconcile",
        "post",
        action_url("reconcile"),
        Role.ADMIN,
        body=lambda w: {
            "month": "2026-03",
            "basis": "incl_vat",
            "invoice_reference": "INV-1",
            "lines": [{"cdr_id": "CDR1", "amount": "3.57", "invoice_reference": "INV-1"}],
        },
    ),
    Endpoint(
        "roamingpartnercommand-commands",
        "post",
        action_url("commands"),
        Role.ADMIN,
        # A valid command, refused before any request leaves: the partner never registered.
        body=lambda w: {"command": "STOP_SESSION", "session_id": "S1"},
        ok=(409,),
    ),
    # Our OCPI profile.
    Endpoint(
        "roamingprofile-list",
        "get",
        lambda w: "/api/v1/roaming-profiles/",
        Role.VIEWER,
        ours=lambda w: rows(w).profile.pk,
        more=more_profiles,
    ),
    Endpoint("roamingprofile-detail", "get", profile_url, Role.VIEWER),
    Endpoint("roamingprofile-detail", "put", profile_url, Role.ADMIN, body=profile_body),
    Endpoint(
        "roamingprofile-detail",
        "patch",
        profile_url,
        Role.ADMIN,
        body=lambda w: {"website": "https://depot.example.com"},
    ),
    Endpoint(
        "organization-roamingprofile-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/roaming-profiles/",
        Role.ADMIN,
        body=lambda w: {"country_code": "NL", "party_id": "ZZ9", "name": "Second"},
        # The world's organization has its profile already: one per organization.
        ok=(409,),
    ),
    # What CPO partners sent us.
    *received_endpoints(
        "partner-sessions", "partnersession", "session", PartnerSession, start=WHEN
    ),
    *received_endpoints(
        "partner-cdrs", "partnercdr", "cdr", PartnerCdr, start=WHEN, end=WHEN, currency="EUR"
    ),
    *received_endpoints("partner-locations", "partnerlocation", "location", PartnerLocation),
    *received_endpoints(
        "partner-tariffs", "partnertariff", "tariff", PartnerTariff, currency="EUR"
    ),
]
