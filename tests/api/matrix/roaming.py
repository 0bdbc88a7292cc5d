"""Matrix rows of the roaming API: partners and the daily roaming activity."""

from datetime import timedelta

from organizations.choices import Role
from roaming.models import RoamingActivity, RoamingPartner
from tests.api.matrix import Endpoint
from tests.factories import SiteFactory


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
]
