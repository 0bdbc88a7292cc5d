"""OCPI 2.2.1 Tokens of our eMSP role: our roaming cards listed, authorized, pushed to CPOs."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from cards.choices import IdTokenStatus, IdTokenType
from cards.models import IdToken
from cards.services import block_id_token, import_id_tokens
from roaming.choices import Module, PartnerRole, PushStatus
from roaming.models import OcpiPush, PartnerSession
from roaming.ocpi.v221.emsp.tokens import build_token_push, contract_id
from roaming.token_push import publish_expired_tokens
from tests.factories import IdTokenFactory
from tests.roaming.emsp_objects import (
    auth,
    cpo_partner,
    emsp_profile,
    fresh_cache,  # noqa: F401
    url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

TOKENS_RECEIVER = "https://ocpi.cpo.example/ocpi/2.2.1/cpo/tokens/"


@pytest.fixture
def emsp(org):
    emsp_profile(org)
    return org


@pytest.fixture
def partner(emsp):
    return cpo_partner(
        emsp,
        endpoints=[{"identifier": "tokens", "role": "RECEIVER", "url": TOKENS_RECEIVER}],
    )


def card(organization, **fields):
    fields.setdefault("roaming", True)
    return IdTokenFactory(organization=organization, **fields)


def tokens_page(client, organization, query=""):
    return client.get(url(organization, f"emsp/tokens/{query}"), **auth())


def authorize(client, organization, uid, body=None, query=""):
    kwargs = auth()
    # No LocationReferences: no body at all, as a CPO sends it.
    data = json.dumps(body) if body is not None else ""
    kwargs.update(data=data, content_type="application/json")
    return client.post(url(organization, f"emsp/tokens/{uid}/authorize{query}"), **kwargs)


def owed(partner):
    return sorted(
        OcpiPush.objects.filter(partner=partner, module=Module.TOKENS).values_list(
            "object_key", flat=True
        )
    )


# --- GET: the sender list -------------------------------------------------------------------


def test_the_list_has_our_roaming_cards_only_as_ocpi_tokens(client, emsp, partner, other_org):
    mine = card(emsp, uid="04AA", parent_id_tag="FLEET-7")
    card(emsp, uid="04BB", roaming=False)
    card(other_org, uid="04CC")
    response = tokens_page(client, emsp)
    assert response.status_code == 200
    data = response.json()["data"]
    assert [token["uid"] for token in data] == ["04AA"]
    token = data[0]
    assert token == {
        "country_code": "NL",
        "party_id": "MSP",
        "uid": "04AA",
        "type": "RFID",
        "contract_id": f"NL-MSP-C{mine.pk:08d}",
        "issuer": "Mobility NL",
        "group_id": "FLEET-7",
        "valid": True,
        "whitelist": "ALLOWED",
        "last_updated": mine.updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_the_list_is_paginated_with_a_link_to_the_next_page(client, emsp, partner):
    for uid in ("04A1", "04A2", "04A3"):
        card(emsp, uid=uid)
    first = tokens_page(client, emsp, "?limit=2")
    assert first["X-Total-Count"] == "3"
    assert len(first.json()["data"]) == 2
    assert 'rel="next"' in first["Link"]
    next_url = first["Link"].split(";")[0].strip("<>")
    rest = client.get(next_url[next_url.index("/ocpi/") :], **auth())
    seen = [t["uid"] for t in first.json()["data"]] + [t["uid"] for t in rest.json()["data"]]
    assert sorted(seen) == ["04A1", "04A2", "04A3"]
    assert "Link" not in rest


def test_the_list_filters_on_when_the_card_last_changed(client, emsp, partner):
    old = card(emsp, uid="04A1")
    new = card(emsp, uid="04A2")
    IdToken.objects.filter(pk=old.pk).update(updated=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = tokens_page(client, emsp, f"?date_from={since}").json()["data"]
    assert [token["uid"] for token in data] == [new.uid]


def test_a_blocked_or_expired_card_is_listed_as_not_valid(client, emsp, partner):
    card(emsp, uid="04A1", status=IdTokenStatus.BLOCKED)
    card(emsp, uid="04A2", expires_at=timezone.now() - timedelta(minutes=1))
    data = tokens_page(client, emsp).json()["data"]
    assert [(t["uid"], t["valid"]) for t in data] == [("04A1", False), ("04A2", False)]


def test_an_emaid_card_is_its_own_contract_id_and_not_rfid(emsp):
    emaid = card(emsp, uid="NLMSPC000000042", type=IdTokenType.EMAID)
    assert contract_id(emaid, emsp.roaming_profile) == "NLMSPC000000042"
    rfid = card(emsp, uid="04A1")
    assert contract_id(rfid, emsp.roaming_profile) == f"NL-MSP-C{rfid.pk:08d}"


# --- POST authorize: real-time authorization ------------------------------------------------


def test_a_roaming_card_in_good_standing_is_allowed_with_a_reference(client, emsp, partner):
    card(emsp, uid="04A1")
    response = authorize(client, emsp, "04a1")
    assert response.status_code == 200
    info = response.json()["data"]
    assert info["allowed"] == "ALLOWED"
    assert info["token"]["uid"] == "04A1"
    assert len(info["authorization_reference"]) == 36
    again = authorize(client, emsp, "04A1").json()["data"]
    assert again["authorization_reference"] != info["authorization_reference"]


@pytest.mark.parametrize(
    ("fields", "allowed"),
    [
        ({"status": IdTokenStatus.BLOCKED}, "BLOCKED"),
        ({"status": IdTokenStatus.EXPIRED}, "EXPIRED"),
        ({"expires_at": timezone.now() - timedelta(days=1)}, "EXPIRED"),
    ],
)
def test_a_card_not_in_good_standing_is_answered_with_why(client, emsp, partner, fields, allowed):
    card(emsp, uid="04A1", **fields)
    info = authorize(client, emsp, "04A1").json()["data"]
    assert (info["allowed"], info["token"]["valid"]) == (allowed, False)


def test_a_card_at_its_limit_of_running_sessions_is_not_allowed(client, emsp, partner):
    busy = card(emsp, uid="04A1", max_concurrent_transactions=1)
    PartnerSession.objects.create(
        organization=emsp,
        partner=partner,
        country_code="DE",
        party_id="CPO",
        ocpi_id="S1",
        id_token=busy,
        status="ACTIVE",
        start=timezone.now(),
        last_updated=timezone.now(),
    )
    info = authorize(client, emsp, "04A1").json()["data"]
    assert info["allowed"] == "NOT_ALLOWED"
    assert info["info"]["text"]


@pytest.mark.parametrize("uid", ["04FF", "04B0", "04C0"])
def test_unknown_not_roaming_and_outsider_cards_are_unknown_tokens(
    client, emsp, partner, other_org, uid
):
    card(emsp, uid="04B0", roaming=False)
    card(other_org, uid="04C0")
    response = authorize(client, emsp, uid)
    assert response.status_code == 404
    body = response.json()
    assert body["status_code"] == 2004
    assert "data" not in body


def test_a_card_asked_for_with_another_type_is_unknown(client, emsp, partner):
    card(emsp, uid="04A1")
    assert authorize(client, emsp, "04A1", query="?type=APP_USER").status_code == 404
    assert authorize(client, emsp, "04A1", query="?type=RFID").status_code == 200
    assert authorize(client, emsp, "04A1", query="?type=BADGE").json()["status_code"] == 2001


def test_the_location_asked_about_comes_back_when_allowed(client, emsp, partner):
    card(emsp, uid="04A1")
    where = {"location_id": "LOC1", "evse_uids": ["EVSE-1", "EVSE-2"]}
    info = authorize(client, emsp, "04A1", body=where).json()["data"]
    assert info["location"] == where


def test_authorization_is_closed_while_we_do_not_play_the_emsp_role(client, emsp, partner):
    card(emsp, uid="04A1")
    emsp.roaming_profile.emsp_enabled = False
    emsp.roaming_profile.save()
    assert authorize(client, emsp, "04A1").status_code == 404
    assert tokens_page(client, emsp).status_code == 404


# --- push to the CPOs' token receivers ------------------------------------------------------


def test_a_card_flagged_for_roaming_is_owed_to_the_cpo_partners(emsp, partner):
    new = card(emsp, uid="04A1", roaming=False)
    assert owed(partner) == []
    new.roaming = True
    new.save()
    assert owed(partner) == ["04A1"]
    push = OcpiPush.objects.get(partner=partner)
    call = build_token_push(push, emsp.roaming_profile)
    assert (call.method, call.url) == ("PUT", f"{TOKENS_RECEIVER}NL/MSP/04A1?type=RFID")
    assert (call.body["uid"], call.body["valid"]) == ("04A1", True)


def test_blocking_a_roaming_card_pushes_it_as_not_valid(emsp, partner):
    roaming = card(emsp, uid="04A1")
    OcpiPush.objects.all().delete()
    block_id_token(roaming)
    push = OcpiPush.objects.get(partner=partner)
    assert build_token_push(push, emsp.roaming_profile).body["valid"] is False


def test_a_change_partners_cannot_see_pushes_nothing(emsp, partner):
    roaming = card(emsp, uid="04A1")
    OcpiPush.objects.all().delete()
    roaming.label = "Van 3"
    roaming.holder_name = "Anna Berg"
    roaming.save()
    assert owed(partner) == []


def test_a_card_without_the_roaming_flag_is_never_pushed(emsp, partner):
    plain = card(emsp, uid="04A1", roaming=False)
    block_id_token(plain)
    assert owed(partner) == []


def test_a_card_taken_out_of_roaming_is_invalidated_where_it_was_published(emsp, partner):
    roaming = card(emsp, uid="04A1")
    OcpiPush.objects.filter(partner=partner).update(status=PushStatus.SENT)
    roaming.roaming = False
    roaming.save()
    push = OcpiPush.objects.get(partner=partner, status=PushStatus.PENDING)
    call = build_token_push(push, emsp.roaming_profile)
    assert (call.method, call.url) == ("PATCH", f"{TOKENS_RECEIVER}NL/MSP/04A1?type=RFID")
    assert call.body["valid"] is False


def test_a_card_never_published_needs_no_invalidation(emsp, partner):
    roaming = card(emsp, uid="04A1")
    roaming.roaming = False
    roaming.save()
    push = OcpiPush.objects.get(partner=partner)
    assert build_token_push(push, emsp.roaming_profile) is None


def test_a_deleted_roaming_card_is_invalidated(emsp, partner):
    roaming = card(emsp, uid="04A1")
    OcpiPush.objects.filter(partner=partner).update(status=PushStatus.SENT)
    roaming.delete()
    push = OcpiPush.objects.get(partner=partner, status=PushStatus.PENDING)
    assert build_token_push(push, emsp.roaming_profile).method == "PATCH"


def test_a_new_uid_publishes_the_card_and_invalidates_the_old_one(emsp, partner):
    roaming = card(emsp, uid="04A1")
    OcpiPush.objects.all().delete()
    roaming.uid = "04A2"
    roaming.save()
    assert owed(partner) == ["04A1", "04A2"]


def test_only_partners_with_a_tokens_receiver_are_pushed_to(emsp, partner):
    silent = cpo_partner(emsp, token="another-cpo-token-012345", party=("FR", "TTT"))
    card(emsp, uid="04A1")
    assert owed(partner) == ["04A1"]
    assert owed(silent) == []


def test_nothing_is_pushed_while_we_do_not_play_the_emsp_role(emsp, partner):
    emsp.roaming_profile.emsp_enabled = False
    emsp.roaming_profile.save()
    card(emsp, uid="04A1")
    assert owed(partner) == []


def test_imported_roaming_cards_are_pushed(emsp, partner, django_capture_on_commit_callbacks):
    imported = IdToken(organization=emsp, uid="04A9", roaming=True)
    plain = IdToken(organization=emsp, uid="04A8", roaming=False)
    with django_capture_on_commit_callbacks(execute=True):
        import_id_tokens([(imported, None), (plain, None)], [], [])
    assert owed(partner) == ["04A9"]


def test_cards_that_just_expired_are_pushed_again(emsp, partner):
    now = timezone.now()
    expired = card(emsp, uid="04A1", expires_at=now - timedelta(minutes=30))
    card(emsp, uid="04A2", expires_at=now - timedelta(days=3))
    card(emsp, uid="04A3", expires_at=now + timedelta(days=3))
    OcpiPush.objects.all().delete()
    assert publish_expired_tokens(now) == 1
    push = OcpiPush.objects.get(partner=partner)
    assert push.object_key == expired.uid
    assert build_token_push(push, emsp.roaming_profile).body["valid"] is False


def test_a_partner_that_is_no_cpo_reads_none_of_our_tokens(client, emsp):
    card(emsp, uid="04A1")
    cpo_partner(
        emsp,
        role=PartnerRole.EMSP,
        roles=[{"role": "EMSP", "country_code": "DE", "party_id": "CPO"}],
    )
    assert tokens_page(client, emsp).status_code == 403
    assert authorize(client, emsp, "04A1").status_code == 403
