"""The cards' roaming flag (may charge at roaming partners): API, portal, admin, CSV import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cards.models import IdToken
from organizations.choices import Role
from roaming.choices import Module
from roaming.models import OcpiPush
from tests.admin.helpers import admin_url
from tests.apiclients import client_as
from tests.factories import IdTokenFactory
from tests.portalclients import org_url, portal_client
from tests.roaming.emsp_objects import cpo_partner, emsp_profile

pytestmark = pytest.mark.django_db

TOKENS_RECEIVER = "https://ocpi.cpo.example/ocpi/2.2.1/cpo/tokens/"


@pytest.fixture
def partner(org):
    emsp_profile(org)
    return cpo_partner(
        org, endpoints=[{"identifier": "tokens", "role": "RECEIVER", "url": TOKENS_RECEIVER}]
    )


def owed_uids():
    return list(OcpiPush.objects.filter(module=Module.TOKENS).values_list("object_key", flat=True))


def test_a_new_card_does_not_roam_unless_asked(org):
    assert IdTokenFactory(organization=org).roaming is False


# --- API ------------------------------------------------------------------------------------


def test_the_api_creates_a_roaming_card_and_owes_it_to_the_cpo_partners(org, partner):
    operator = client_as(org, Role.OPERATOR)
    response = operator.post(
        f"/api/v1/organizations/{org.pk}/id-tokens/",
        {"uid": "04aa", "roaming": True},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["roaming"] is True
    assert IdToken.objects.get().roaming is True
    assert owed_uids() == ["04AA"]


def test_the_api_switches_roaming_off_and_filters_on_it(org):
    roaming = IdTokenFactory(organization=org, uid="04A1", roaming=True)
    IdTokenFactory(organization=org, uid="04A2")
    operator = client_as(org, Role.OPERATOR)
    listed = operator.get("/api/v1/id-tokens/", {"roaming": "true"})
    assert [row["uid"] for row in listed.data["results"]] == ["04A1"]
    response = operator.patch(f"/api/v1/id-tokens/{roaming.pk}/", {"roaming": False}, format="json")
    assert response.status_code == 200, response.data
    roaming.refresh_from_db()
    assert roaming.roaming is False
    assert operator.get("/api/v1/id-tokens/", {"roaming": "maybe"}).status_code == 400


def test_a_viewer_cannot_switch_roaming_on(org):
    card = IdTokenFactory(organization=org)
    response = client_as(org, Role.VIEWER).patch(
        f"/api/v1/id-tokens/{card.pk}/", {"roaming": True}, format="json"
    )
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.roaming is False


def test_an_outsider_cannot_switch_roaming_on(org, other_org):
    card = IdTokenFactory(organization=org)
    response = client_as(other_org, Role.OWNER).patch(
        f"/api/v1/id-tokens/{card.pk}/", {"roaming": True}, format="json"
    )
    assert response.status_code == 404
    card.refresh_from_db()
    assert card.roaming is False


# --- portal ---------------------------------------------------------------------------------


def card_form(**changes):
    data = {
        "uid": "04112233",
        "label": "New card",
        "type": "ISO14443",
        "holder_name": "",
        "holder_email": "",
        "status": "Accepted",
        "expires_at": "",
        "parent_id_tag": "",
        "max_concurrent_transactions": "1",
    }
    data.update(changes)
    return data


def test_the_portal_form_switches_roaming_on_and_the_card_page_says_so(org, partner):
    card = IdTokenFactory(organization=org, uid="04112233")
    client = portal_client(org, Role.OPERATOR)
    page = org_url(org, f"cards/{card.pk}/")
    assert 'name="roaming"' in client.get(page).content.decode()
    response = client.post(page, card_form(roaming="on"))
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.roaming is True
    assert owed_uids() == ["04112233"]
    assert "may charge at roaming partners" in client.get(page).content.decode()


def test_an_unticked_box_switches_roaming_off(org):
    card = IdTokenFactory(organization=org, uid="04112233", roaming=True)
    response = portal_client(org, Role.OPERATOR).post(
        org_url(org, f"cards/{card.pk}/"), card_form()
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.roaming is False


def test_an_outsider_cannot_change_the_flag_in_the_portal(org, other_org):
    card = IdTokenFactory(organization=org, uid="04112233")
    response = portal_client(other_org, Role.OWNER).post(
        org_url(org, f"cards/{card.pk}/"), card_form(roaming="on")
    )
    assert response.status_code == 404
    card.refresh_from_db()
    assert card.roaming is False


def test_the_csv_import_sets_the_flag_and_an_empty_cell_keeps_it(org):
    IdTokenFactory(organization=org, uid="04A1", roaming=True)
    content = b"uid,roaming\n04A1,\n04A2,true\n04A3,false\n"
    response = portal_client(org, Role.OPERATOR).post(
        org_url(org, "cards/import/"),
        {"file": SimpleUploadedFile("cards.csv", content, content_type="text/csv")},
    )
    assert response.status_code == 200, response.content[:500]
    flags = dict(IdToken.objects.for_org(org).values_list("uid", "roaming"))
    assert flags == {"04A1": True, "04A2": True, "04A3": False}


# --- admin ----------------------------------------------------------------------------------


def test_support_sees_and_changes_the_flag_in_the_admin(superuser_client, org):
    card = IdTokenFactory(organization=org, uid="04AABBCC")
    change = admin_url(card, "change")
    assert 'name="roaming"' in superuser_client.get(change).content.decode()
    response = superuser_client.post(
        change,
        {
            "organization": org.pk,
            "uid": "04AABBCC",
            "type": "ISO14443",
            "status": "Accepted",
            "max_concurrent_transactions": "1",
            "roaming": "on",
        },
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.roaming is True
    listed = superuser_client.get(admin_url(IdToken, "changelist"), {"roaming__exact": "1"})
    assert "04AABBCC" in listed.content.decode()
