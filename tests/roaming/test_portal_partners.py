"""Portal: the roaming partners page and a partner's page. Viewers see, admins act; a token A
is shown once; stored tokens never; outsiders get 404."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from organizations.choices import Role
from roaming.choices import Module, PartnerRole, PartnerStatus, PushStatus
from roaming.models import ModuleSync, OcpiPush, RoamingPartner, RoamingProfile
from roaming.ocpi import push, registration, tokens
from roaming.ocpi.client import PartnerError
from roaming.ocpi.registration import RegistrationError
from roaming.ocpi.v221 import receiving
from roaming.ocpi.v221.cpo import tokens as cpo_tokens
from tests.apiclients import member
from tests.factories import OrganizationFactory, TariffFactory
from tests.portalclients import ROLES, org_url, portal_client
from tests.roaming.conftest import make_profile

pytestmark = pytest.mark.django_db

STORED_TOKEN = "their-token-we-call-them-with-0123456789"
EARLIER = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

ADMIN_ACTIONS = [
    "issue-token",
    "connect",
    "rotate",
    "unregister",
    "suspend",
    "reactivate",
    "sync",
    "retry-pushes",
    "edit",
]


def make_partner(org, party_id="MSP", **fields):
    fields.setdefault("name", "Mobility NL")
    return RoamingPartner.objects.create(
        organization=org, country_code="NL", party_id=party_id, **fields
    )


def registered(partner, **fields):
    """The partner as the credentials handshake leaves it."""
    partner.status = PartnerStatus.ACTIVE
    partner.credentials_token = STORED_TOKEN
    partner.incoming_token_hash = tokens.token_hash(f"our-token-for-{partner.party_id}")
    partner.incoming_token_hint = "them"
    partner.version = "2.2.1"
    partner.registered_at = EARLIER
    partner.endpoints = [
        {"identifier": "tokens", "role": "SENDER", "url": "https://partner.example/tokens"},
        {"identifier": "cdrs", "role": "RECEIVER", "url": "https://partner.example/cdrs"},
    ]
    for name, value in fields.items():
        setattr(partner, name, value)
    partner.save()
    return partner


@pytest.fixture
def partner(org):
    return make_partner(org)


@pytest.fixture
def profile(org):
    return make_profile(org, "DE", "ABC")


@pytest.fixture
def admin(org):
    return portal_client(org, Role.ADMIN)


@pytest.fixture
def viewer(org):
    return portal_client(org, Role.VIEWER)


def partners_url(org):
    return org_url(org, "roaming/partners/")


def partner_url(partner, suffix=""):
    return org_url(partner.organization, f"roaming/partners/{partner.pk}/{suffix}")


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- seeing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_partners_page_and_a_partners_page_render_for_every_role(org, partner, role):
    client = portal_client(org, role)
    listing = client.get(partners_url(org))
    detail = client.get(partner_url(partner))
    assert listing.status_code == detail.status_code == 200
    assert [p.pk for p in listing.context["partners"]] == [partner.pk]
    assert listing.context["section"] == detail.context["section"] == "roaming"


def test_a_viewer_sees_no_form_to_act(org, partner, profile, viewer):
    for response in (viewer.get(partners_url(org)), viewer.get(partner_url(partner))):
        body = response.content.decode()
        assert "partner_form" not in response.context
        assert '<form method="post" action="/o/' not in body.replace("logout", "")
        assert "Issue token A" not in body


def test_an_admin_sees_the_forms_to_act(org, partner, profile, admin):
    body = admin.get(partner_url(partner)).content.decode()
    assert "Issue token A" in body
    assert 'name="versions_url"' in body
    assert "Add partner" in admin.get(partners_url(org)).content.decode()


def test_the_list_shows_state_version_sync_errors_and_pushes(org, partner, viewer):
    registered(partner, last_error="HTTP 500 from the partner")
    ModuleSync.objects.create(
        organization=org,
        partner=partner,
        module=Module.CDRS,
        last_success_at=EARLIER,
        last_failure_at=LATER,
        last_error="timeout",
    )
    OcpiPush.objects.create(
        organization=org, partner=partner, module=Module.CDRS, object_key="1", status="failed"
    )
    OcpiPush.objects.create(organization=org, partner=partner, module=Module.CDRS, object_key="2")
    response = viewer.get(partners_url(org))
    [shown] = response.context["partners"]
    assert (shown.pushes_owed, shown.pushes_failed) == (1, 1)
    assert shown.last_sync == EARLIER
    assert shown.healthy is False
    body = response.content.decode()
    assert "2.2.1" in body
    assert "HTTP 500 from the partner" in body
    assert 'data-health="failing"' in body


def test_a_partner_whose_modules_last_succeeded_is_healthy(org, partner, viewer):
    registered(partner)
    ModuleSync.objects.create(
        organization=org,
        partner=partner,
        module=Module.CDRS,
        last_success_at=LATER,
        last_failure_at=EARLIER,
    )
    assert 'data-health="ok"' in viewer.get(partners_url(org)).content.decode()


def test_a_partners_page_shows_each_modules_interfaces_and_last_exchanges(org, partner, viewer):
    registered(partner)
    ModuleSync.objects.create(
        organization=org,
        partner=partner,
        module=Module.CDRS,
        last_success_at=EARLIER,
        last_failure_at=LATER,
        last_error="HTTP 503",
        sent=4,
        received=1,
    )
    response = viewer.get(partner_url(partner))
    modules = {state.module: state for state in response.context["modules"]}
    assert list(modules) == ["cdrs", "tokens"]
    assert modules["cdrs"].interfaces == ("RECEIVER",)
    assert (modules["cdrs"].sent, modules["cdrs"].received) == (4, 1)
    assert modules["cdrs"].healthy is False
    assert modules["tokens"].interfaces == ("SENDER",)
    assert "HTTP 503" in response.content.decode()


def test_a_hubs_page_lists_the_parties_it_speaks_for(org, viewer):
    hub = make_partner(org, party_id="HUB", role=PartnerRole.HUB, name="Hub")
    hub.roles = [
        {
            "role": "EMSP",
            "country_code": "NL",
            "party_id": "AAA",
            "business_details": {"name": "A"},
        },
        {"role": "CPO", "country_code": "FR", "party_id": "BBB", "business_details": {"name": "B"}},
    ]
    hub.save()
    response = viewer.get(partner_url(hub))
    assert [(p["country_code"], p["party_id"], p["role"]) for p in response.context["parties"]] == [
        ("NL", "AAA", "EMSP"),
        ("FR", "BBB", "CPO"),
    ]
    assert "2 parties" in viewer.get(partners_url(org)).content.decode()


def test_a_stored_token_is_never_shown(org, partner, admin):
    registered(partner)
    for response in (admin.get(partners_url(org)), admin.get(partner_url(partner))):
        assert STORED_TOKEN not in response.content.decode()
        assert "our-token-for-MSP" not in response.content.decode()
    assert "ends in …them" in admin.get(partner_url(partner)).content.decode()


def test_the_partners_page_reads_in_a_fixed_number_of_queries(
    org, profile, admin, django_assert_max_num_queries
):
    tariff = TariffFactory(organization=org)
    for number in range(8):
        one = registered(make_partner(org, party_id=f"P{number:02d}", tariff=tariff))
        ModuleSync.objects.create(organization=org, partner=one, module=Module.CDRS)
        OcpiPush.objects.create(organization=org, partner=one, module="cdrs", object_key="1")
    # Session, user, membership, profile, partners, their modules, the tariffs of the form, the
    # header's organization switcher, and a few of the admin forms.
    with django_assert_max_num_queries(12):
        response = admin.get(partners_url(org))
    assert len(response.context["partners"]) == 8


# --- tenancy and roles -----------------------------------------------------------------------


def test_an_outsider_gets_404_for_the_partners_pages(org, other_org, partner):
    outsider = portal_client(other_org, Role.OWNER)
    assert outsider.get(partners_url(org)).status_code == 404
    assert outsider.get(partner_url(partner)).status_code == 404
    response = outsider.post(partner_url(partner, "suspend/"))
    assert response.status_code == 404
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.PENDING


def test_another_organizations_partner_is_404_under_our_url(org, other_org, admin):
    theirs = make_partner(other_org, name="Theirs")
    url = org_url(org, f"roaming/partners/{theirs.pk}/")
    assert admin.get(url).status_code == 404
    assert admin.post(f"{url}suspend/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == PartnerStatus.PENDING


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
@pytest.mark.parametrize("action", ADMIN_ACTIONS)
def test_only_admins_act_on_a_partner(org, partner, role, action):
    response = portal_client(org, role).post(partner_url(partner, f"{action}/"))
    assert response.status_code == 403
    partner.refresh_from_db()
    assert (partner.status, partner.incoming_token_hash) == (PartnerStatus.PENDING, None)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OPERATOR])
def test_only_admins_add_partners_or_change_the_profile(org, role):
    client = portal_client(org, role)
    new = {"new-name": "X", "new-country_code": "NL", "new-party_id": "XXX", "new-role": "EMSP"}
    assert client.post(org_url(org, "roaming/partners/new/"), new).status_code == 403
    profile = {"profile-country_code": "DE", "profile-party_id": "ABC"}
    assert client.post(org_url(org, "roaming/profile/"), profile).status_code == 403
    assert not RoamingPartner.objects.exists()
    assert not RoamingProfile.objects.exists()


def test_actions_need_a_post(org, partner, admin):
    assert admin.get(partner_url(partner, "issue-token/")).status_code == 405


def test_actions_need_the_csrf_token(org, partner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member((org, Role.ADMIN)))
    assert client.post(partner_url(partner, "issue-token/")).status_code == 403
    partner.refresh_from_db()
    assert partner.incoming_token_hash is None


# --- profile and partners --------------------------------------------------------------------


def test_an_admin_sets_up_the_roaming_profile(org, admin):
    response = admin.post(
        org_url(org, "roaming/profile/"),
        {
            "profile-country_code": "de",
            "profile-party_id": "abc",
            "profile-name": "Stadtwerke",
            "profile-cpo_enabled": "on",
        },
    )
    assert response.status_code == 302
    profile = RoamingProfile.objects.get(organization=org)
    assert (profile.country_code, profile.party_id) == ("DE", "ABC")
    assert (profile.cpo_enabled, profile.emsp_enabled) == (True, False)


def test_a_party_another_organization_holds_is_refused(org, other_org, admin):
    make_profile(other_org, "DE", "ABC")
    response = admin.post(
        org_url(org, "roaming/profile/"),
        {"profile-country_code": "DE", "profile-party_id": "ABC"},
    )
    assert response.status_code == 400
    assert response.context["profile_form"].errors
    assert not RoamingProfile.objects.filter(organization=org).exists()


def test_a_bad_party_id_is_a_field_error(org, admin):
    response = admin.post(
        org_url(org, "roaming/profile/"), {"profile-country_code": "DE", "profile-party_id": "A-"}
    )
    assert response.status_code == 400
    assert "party_id" in response.context["profile_form"].errors


def test_an_admin_adds_a_partner_with_a_tariff_of_the_organization(org, admin):
    tariff = TariffFactory(organization=org)
    response = admin.post(
        org_url(org, "roaming/partners/new/"),
        {
            "new-name": "Mobility NL",
            "new-country_code": "nl",
            "new-party_id": "msp",
            "new-role": "EMSP",
            "new-tariff": tariff.pk,
        },
    )
    partner = RoamingPartner.objects.get()
    assert response.status_code == 302
    assert response["Location"] == partner_url(partner)
    assert (partner.organization, partner.country_code, partner.party_id) == (org, "NL", "MSP")
    assert (partner.tariff, partner.status) == (tariff, PartnerStatus.PENDING)


def test_a_tariff_of_another_organization_cannot_be_published(org, other_org, admin):
    theirs = TariffFactory(organization=other_org)
    response = admin.post(
        org_url(org, "roaming/partners/new/"),
        {
            "new-name": "X",
            "new-country_code": "NL",
            "new-party_id": "XXX",
            "new-role": "EMSP",
            "new-tariff": theirs.pk,
        },
    )
    assert response.status_code == 400
    assert "tariff" in response.context["partner_form"].errors
    assert not RoamingPartner.objects.exists()


def test_the_same_party_and_role_twice_is_a_field_error(org, partner, admin):
    response = admin.post(
        org_url(org, "roaming/partners/new/"),
        {"new-name": "Again", "new-country_code": "NL", "new-party_id": "MSP", "new-role": "EMSP"},
    )
    assert response.status_code == 400
    assert response.context["partner_form"].errors == {
        "party_id": ["The organization already has a EMSP partner NL*MSP."]
    }


def test_an_admin_changes_the_published_tariff(org, partner, admin):
    tariff = TariffFactory(organization=org)
    response = admin.post(
        partner_url(partner, "edit/"),
        {
            "name": "Mobility",
            "country_code": "NL",
            "party_id": "MSP",
            "role": "EMSP",
            "tariff": tariff.pk,
        },
    )
    assert response.status_code == 302
    partner.refresh_from_db()
    assert (partner.name, partner.tariff) == ("Mobility", tariff)


# --- the handshake ---------------------------------------------------------------------------


def test_token_a_is_shown_once_with_our_versions_url(org, partner, profile, admin):
    response = admin.post(partner_url(partner, "issue-token/"), follow=True)
    token = response.context["token_a"]
    partner.refresh_from_db()
    assert partner.incoming_token_hash == tokens.token_hash(token)
    body = response.content.decode()
    assert token in body
    assert registration.versions_url(org) in body
    again = admin.get(partner_url(partner))
    assert again.context["token_a"] is None
    assert token not in again.content.decode()


def test_token_a_is_refused_for_a_registered_partner(org, partner, profile, admin):
    registered(partner)
    response = admin.post(partner_url(partner, "issue-token/"), follow=True)
    assert response.context["token_a"] is None
    assert "rotate the tokens, or unregister it first" in " ".join(messages_of(response))
    partner.refresh_from_db()
    assert partner.incoming_token_hash == tokens.token_hash("our-token-for-MSP")


def test_token_a_needs_the_roaming_profile(org, partner, admin):
    response = admin.post(partner_url(partner, "issue-token/"), follow=True)
    assert "roaming profile" in " ".join(messages_of(response))
    partner.refresh_from_db()
    assert partner.incoming_token_hash is None


def test_connect_passes_the_url_and_token_to_the_handshake(
    org, partner, profile, admin, monkeypatch
):
    calls = []

    def connect(partner, *, url, token_a):
        calls.append((url, token_a))
        partner.status, partner.version = PartnerStatus.ACTIVE, "2.2.1"
        partner.save()
        return partner

    monkeypatch.setattr(registration, "connect", connect)
    response = admin.post(
        partner_url(partner, "connect/"),
        {"versions_url": "https://partner.example/versions", "token": "token-a"},
        follow=True,
    )
    assert calls == [("https://partner.example/versions", "token-a")]
    assert "Connected to Mobility NL with OCPI 2.2.1." in messages_of(response)


def test_a_partners_refusal_is_shown_in_its_words(org, partner, profile, admin, monkeypatch):
    def refuse(partner, *, url, token_a):
        raise RegistrationError("HTTP 401: unknown token")

    monkeypatch.setattr(registration, "connect", refuse)
    response = admin.post(
        partner_url(partner, "connect/"),
        {"versions_url": "https://partner.example/versions", "token": "wrong"},
        follow=True,
    )
    assert "The partner could not be reached or refused: HTTP 401: unknown token" in messages_of(
        response
    )


def test_connect_without_url_or_token_shows_the_field_errors(org, partner, profile, admin):
    response = admin.post(partner_url(partner, "connect/"), {"versions_url": "not a url"})
    assert response.status_code == 400
    assert set(response.context["connect_form"].errors) == {"versions_url", "token"}


def test_rotate_and_unregister_call_the_handshake(org, partner, profile, admin, monkeypatch):
    registered(partner)
    calls = []
    monkeypatch.setattr(registration, "rotate", lambda p: calls.append("rotate") or p)
    monkeypatch.setattr(registration, "unregister", lambda p: calls.append("unregister") or p)
    admin.post(partner_url(partner, "rotate/"))
    admin.post(partner_url(partner, "unregister/"))
    assert calls == ["rotate", "unregister"]


def test_rotation_needs_a_registered_partner(org, partner, profile, admin, monkeypatch):
    monkeypatch.setattr(registration, "rotate", lambda p: pytest.fail("must not rotate"))
    response = admin.post(partner_url(partner, "rotate/"), follow=True)
    assert "not registered" in " ".join(messages_of(response))


def test_suspending_and_reactivating_a_registered_partner(org, partner, admin):
    registered(partner)
    admin.post(partner_url(partner, "suspend/"))
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.SUSPENDED
    admin.post(partner_url(partner, "reactivate/"))
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.ACTIVE


def test_a_partner_never_registered_is_pending_after_reactivation(org, partner, admin):
    admin.post(partner_url(partner, "suspend/"))
    admin.post(partner_url(partner, "reactivate/"))
    partner.refresh_from_db()
    assert partner.status == PartnerStatus.PENDING


def test_sync_pulls_what_the_partner_publishes(org, partner, profile, admin, monkeypatch):
    registered(partner)
    monkeypatch.setattr(
        receiving,
        "pull_partner_data",
        lambda p: [
            receiving.Pulled(Module.LOCATIONS, stored=3),
            receiving.Pulled(Module.CDRS, error="HTTP 500"),
        ],
    )
    monkeypatch.setattr(
        cpo_tokens, "pull_tokens", lambda p: cpo_tokens.TokenPull(received=5, stored=5, refused=0)
    )
    shown = messages_of(admin.post(partner_url(partner, "sync/"), follow=True))
    assert "Synced. Stored: locations: 3, cdrs: 0, tokens: 5." in shown
    assert "cdrs could not be pulled: HTTP 500" in shown


def test_a_failed_token_pull_is_reported(org, partner, profile, admin, monkeypatch):
    registered(partner)
    monkeypatch.setattr(receiving, "pull_partner_data", lambda p: [])

    def fail(p):
        raise PartnerError("HTTP 503")

    monkeypatch.setattr(cpo_tokens, "pull_tokens", fail)
    shown = messages_of(admin.post(partner_url(partner, "sync/"), follow=True))
    assert "tokens could not be pulled: HTTP 503" in shown


def test_retrying_failed_pushes_owes_them_again_and_sends_them(
    org, partner, profile, admin, monkeypatch, django_capture_on_commit_callbacks
):
    registered(partner)
    sent = []
    monkeypatch.setattr(push, "deliver", lambda push_id: sent.append(push_id) or "sent")
    failed = OcpiPush.objects.create(
        organization=org,
        partner=partner,
        module=Module.CDRS,
        object_key="7",
        status=PushStatus.FAILED,
        attempts=10,
        last_error="HTTP 500",
    )
    with django_capture_on_commit_callbacks(execute=True):
        shown = messages_of(admin.post(partner_url(partner, "retry-pushes/"), follow=True))
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (PushStatus.PENDING, 0, "")
    assert sent == [failed.pk]
    assert "1 failed push sent again." in shown


def test_a_failed_push_already_owed_again_is_not_sent_twice(
    org, partner, admin, monkeypatch, django_capture_on_commit_callbacks
):
    registered(partner)
    sent = []
    monkeypatch.setattr(push, "deliver", lambda push_id: sent.append(push_id) or "sent")
    OcpiPush.objects.create(
        organization=org, partner=partner, module="cdrs", object_key="7", status="failed"
    )
    owed = OcpiPush.objects.create(organization=org, partner=partner, module="cdrs", object_key="7")
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(partner_url(partner, "retry-pushes/"))
    assert list(OcpiPush.objects.values_list("pk", flat=True)) == [owed.pk]
    assert sent == [owed.pk]


# --- a real handshake through the portal, over HTTP ------------------------------------------


def test_two_organizations_connect_through_their_portals(ocpi_settings, transactional_db):
    cpo = OrganizationFactory(slug="stadtwerke-cpo")
    emsp = OrganizationFactory(slug="mobility-nl")
    make_profile(cpo, "DE", "CPO")
    make_profile(emsp, "NL", "MSP")
    emsp_at_cpo = make_partner(cpo, "MSP", name="Mobility NL")
    cpo_at_emsp = RoamingPartner.objects.create(
        organization=emsp, name="Stadtwerke", country_code="DE", party_id="CPO", role="CPO"
    )
    cpo_admin, emsp_admin = portal_client(cpo, Role.ADMIN), portal_client(emsp, Role.ADMIN)

    issued = cpo_admin.post(partner_url(emsp_at_cpo, "issue-token/"), follow=True)
    response = emsp_admin.post(
        partner_url(cpo_at_emsp, "connect/"),
        {"versions_url": registration.versions_url(cpo), "token": issued.context["token_a"]},
        follow=True,
    )

    assert "Connected to Stadtwerke with OCPI 2.2.1." in messages_of(response)
    emsp_at_cpo.refresh_from_db()
    cpo_at_emsp.refresh_from_db()
    assert emsp_at_cpo.status == cpo_at_emsp.status == PartnerStatus.ACTIVE
    states = {state.module for state in response.context["modules"]}
    assert "credentials" in states


def test_a_suspended_partner_is_reactivated_before_a_new_token_a(org, partner, profile, admin):
    registered(partner, status=PartnerStatus.SUSPENDED)
    page = admin.get(partner_url(partner)).content.decode()
    assert "Issue token A" not in page
    response = admin.post(partner_url(partner, "issue-token/"), follow=True)
    assert "reactivate it first" in " ".join(messages_of(response))
    partner.refresh_from_db()
    assert partner.incoming_token_hash == tokens.token_hash("our-token-for-MSP")


def test_changing_our_party_warns_that_registered_partners_need_a_rotation(
    org, partner, profile, admin
):
    registered(partner)
    response = admin.post(
        org_url(org, "roaming/profile/"),
        {"profile-country_code": "DE", "profile-party_id": "XYZ", "profile-cpo_enabled": "on"},
        follow=True,
    )
    assert "Registered partners learn the new party or roles when tokens are rotated." in (
        messages_of(response)
    )
    profile.refresh_from_db()
    assert profile.party_id == "XYZ"


def test_an_invalid_profile_change_shows_the_stored_profile(org, profile, admin):
    response = admin.post(
        org_url(org, "roaming/profile/"), {"profile-country_code": "DE", "profile-party_id": "A-"}
    )
    assert response.status_code == 400
    assert response.context["profile"].party_id == "ABC"
