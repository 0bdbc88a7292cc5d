"""Portal pages of RFID cards: list, add, edit, block, delete and CSV import."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cards.api.serializers import IdTokenSerializer
from cards.choices import IdTokenStatus
from cards.models import IdToken
from organizations.choices import Role
from sessions_app.choices import SessionState
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
)
from tests.portalclients import ROLES, org_url, portal_client

pytestmark = pytest.mark.django_db

# As the API's card endpoints: operators and up write cards, viewers only read them.
WRITERS = [Role.OPERATOR, Role.ADMIN, Role.OWNER]
BELOW_OPERATOR = [Role.VIEWER]


@pytest.fixture
def card(org):
    return IdTokenFactory(organization=org, uid="04AABBCC", label="Fleet car 1")


@pytest.fixture
def foreign_card(other_org):
    return IdTokenFactory(organization=other_org, uid="04FFEEDD", label="Outsider card")


@pytest.fixture
def admin(org):
    return portal_client(org, Role.ADMIN)


def card_data(**changes):
    """A valid card form, as an operator sends it."""
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


def csv_file(text: str, name: str = "cards.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


# --- The list --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_card_list_renders_for_every_role(org, card, role):
    response = portal_client(org, role).get(org_url(org, "cards/"))
    assert response.status_code == 200
    assert list(response.context["cards"]) == [card]
    assert response.context["section"] == "cards"


def test_card_list_of_another_organization_is_404(org, other_org):
    assert portal_client(org, Role.OWNER).get(org_url(other_org, "cards/")).status_code == 404


def test_card_list_shows_none_of_another_organizations_cards(org, card, foreign_card):
    body = portal_client(org).get(org_url(org, "cards/")).content.decode()
    assert card.uid in body
    assert foreign_card.uid not in body


def test_outsider_sees_none_of_the_organizations_cards(org, other_org, card):
    response = portal_client(other_org, Role.OWNER).get(org_url(other_org, "cards/"))
    assert list(response.context["cards"]) == []
    assert card.uid not in response.content.decode()


def test_card_list_shows_label_type_groups_and_expiry(org):
    group = AccessGroupFactory(organization=org, name="Staff")
    IdTokenFactory(
        organization=org,
        uid="04AA",
        label="Pool car",
        access_groups=[group],
        expires_at=datetime(2030, 1, 2, 12, 0, tzinfo=UTC),
    )
    body = portal_client(org).get(org_url(org, "cards/")).content.decode()
    assert "Pool car" in body
    assert "ISO 14443 (RFID)" in body
    assert ">Staff</a>" in body
    assert "2030" in body


@pytest.mark.parametrize(
    ("status", "expires_in", "standing"),
    [
        (IdTokenStatus.ACCEPTED, None, "Accepted"),
        (IdTokenStatus.BLOCKED, None, "Blocked"),
        (IdTokenStatus.EXPIRED, None, "Expired"),
        (IdTokenStatus.ACCEPTED, timedelta(days=-1), "Expired"),
    ],
)
def test_card_badge_shows_the_cards_standing_as_stations_see_it(org, status, expires_in, standing):
    expires_at = timezone.now() + expires_in if expires_in else None
    IdTokenFactory(organization=org, status=status, expires_at=expires_at)
    body = portal_client(org).get(org_url(org, "cards/")).content.decode()
    assert f'data-standing="{standing}"' in body


def test_card_list_shows_when_a_card_was_last_used(org, card, station):
    ChargingSessionFactory(
        organization=org,
        station=station,
        id_token=card,
        start=datetime(2029, 3, 4, 5, 6, tzinfo=UTC),
    )
    response = portal_client(org).get(org_url(org, "cards/"))
    assert response.context["cards"][0].last_used == datetime(2029, 3, 4, 5, 6, tzinfo=UTC)


def test_card_list_searches_uid_and_label(org, card):
    IdTokenFactory(organization=org, uid="04DEAD", label="Visitor")
    client = portal_client(org)
    by_label = client.get(org_url(org, "cards/"), {"search": "fleet"}).context["cards"]
    by_uid = client.get(org_url(org, "cards/"), {"search": "dead"}).context["cards"]
    assert [c.uid for c in by_label] == ["04AABBCC"]
    assert [c.uid for c in by_uid] == ["04DEAD"]


def test_card_list_filters_by_status(org, card):
    blocked = IdTokenFactory(organization=org, status=IdTokenStatus.BLOCKED)
    cards = portal_client(org).get(org_url(org, "cards/"), {"status": "Blocked"}).context["cards"]
    assert list(cards) == [blocked]


def test_sorting_the_card_list_is_no_filter(org, card):
    client = portal_client(org)
    assert client.get(org_url(org, "cards/"), {"ordering": "-uid"}).context["filtered"] is False
    assert client.get(org_url(org, "cards/"), {"status": "Blocked"}).context["filtered"] is True


def test_card_list_filters_by_access_group(org, card):
    group = AccessGroupFactory(organization=org)
    member = IdTokenFactory(organization=org, access_groups=[group])
    response = portal_client(org).get(org_url(org, "cards/"), {"access_group": group.pk})
    assert list(response.context["cards"]) == [member]


def test_card_list_group_filter_offers_only_the_organizations_groups(org, other_org):
    mine = AccessGroupFactory(organization=org)
    AccessGroupFactory(organization=other_org)
    response = portal_client(org).get(org_url(org, "cards/"))
    choices = response.context["filter"].form.fields["access_group"].queryset
    assert list(choices) == [mine]


def test_card_list_refuses_another_organizations_group_as_filter(org, other_org, card):
    foreign = AccessGroupFactory(organization=other_org)
    IdTokenFactory(organization=other_org, access_groups=[foreign])
    response = portal_client(org).get(org_url(org, "cards/"), {"access_group": foreign.pk})
    assert response.status_code == 200
    assert response.context["filter"].errors
    assert list(response.context["cards"]) == []


def test_card_list_is_paginated(org):
    for _ in range(55):
        IdTokenFactory(organization=org)
    client = portal_client(org)
    first = client.get(org_url(org, "cards/"))
    second = client.get(org_url(org, "cards/"), {"page": 2})
    assert len(first.context["cards"]) == 50
    assert len(second.context["cards"]) == 5


def test_card_list_page_links_keep_the_filter(org):
    for _ in range(55):
        IdTokenFactory(organization=org, label="Pool")
    body = portal_client(org).get(org_url(org, "cards/"), {"search": "pool"}).content.decode()
    assert "?search=pool&amp;page=2" in body


def test_card_list_query_count_does_not_grow_with_cards(org, django_assert_max_num_queries):
    groups = [AccessGroupFactory(organization=org) for _ in range(3)]
    station = ChargingStationFactory(organization=org)
    for _ in range(30):
        card = IdTokenFactory(organization=org, access_groups=groups)
        ChargingSessionFactory(
            organization=org, station=station, id_token=card, state=SessionState.COMPLETED
        )
    client = portal_client(org, Role.ADMIN)
    # Session, user, membership (twice), count, cards, their groups, the group choices: 8.
    with django_assert_max_num_queries(10):
        response = client.get(org_url(org, "cards/"))
    assert len(response.context["cards"]) == 30


@pytest.mark.parametrize("role", WRITERS)
def test_card_list_offers_operators_and_up_add_import_edit_and_block(org, card, role):
    body = portal_client(org, role).get(org_url(org, "cards/")).content.decode()
    assert org_url(org, "cards/add/") in body
    assert org_url(org, "cards/import/") in body
    assert org_url(org, f"cards/{card.pk}/block/") in body


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_card_list_hides_write_buttons_below_operator(org, card, role):
    body = portal_client(org, role).get(org_url(org, "cards/")).content.decode()
    assert org_url(org, "cards/add/") not in body
    assert org_url(org, "cards/import/") not in body
    assert org_url(org, f"cards/{card.pk}/block/") not in body


# --- Add and edit ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", WRITERS)
def test_card_add_page_renders_for_operators_and_up(org, role):
    assert portal_client(org, role).get(org_url(org, "cards/add/")).status_code == 200


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_card_add_page_is_403_below_operator(org, role):
    assert portal_client(org, role).get(org_url(org, "cards/add/")).status_code == 403


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_adding_a_card_is_403_below_operator(org, role):
    response = portal_client(org, role).post(org_url(org, "cards/add/"), card_data())
    assert response.status_code == 403
    assert not IdToken.objects.exists()


@pytest.mark.parametrize("role", WRITERS)
def test_operators_and_up_add_a_card_with_its_uid_upper_cased_and_its_groups(org, role):
    group = AccessGroupFactory(organization=org)
    response = portal_client(org, role).post(
        org_url(org, "cards/add/"), card_data(uid=" 04aabb ", access_groups=[group.pk])
    )
    assert response.status_code == 302
    card = IdToken.objects.get()
    assert (card.organization, card.uid) == (org, "04AABB")
    assert list(card.access_groups.all()) == [group]


def test_outsider_cannot_add_a_card_to_the_organization(org, other_org):
    response = portal_client(other_org, Role.OWNER).post(org_url(org, "cards/add/"), card_data())
    assert response.status_code == 404
    assert not IdToken.objects.exists()


def test_adding_a_card_with_a_uid_the_organization_has_in_other_case_is_refused(org, card, admin):
    response = admin.post(org_url(org, "cards/add/"), card_data(uid="04aabbcc"))
    assert response.status_code == 400
    assert "already exists" in str(response.context["form"].errors["uid"])
    assert IdToken.objects.count() == 1


def test_a_twin_card_saved_meanwhile_is_a_form_error_not_a_crash(org, card, admin, monkeypatch):
    # The form's check passes, as when the twin is saved between the check and the write.
    monkeypatch.setattr(IdTokenSerializer, "uid_taken", lambda self, uid: False)
    response = admin.post(org_url(org, "cards/add/"), card_data(uid=card.uid))
    assert response.status_code == 400
    assert "already exists" in str(response.context["form"].errors["uid"])
    assert IdToken.objects.count() == 1


def test_a_uid_another_organization_has_is_free_here(org, foreign_card, admin):
    response = admin.post(org_url(org, "cards/add/"), card_data(uid=foreign_card.uid))
    assert response.status_code == 302
    assert IdToken.objects.for_org(org).get().uid == foreign_card.uid


def test_adding_a_card_with_a_bad_expiry_is_refused(org, admin):
    response = admin.post(org_url(org, "cards/add/"), card_data(expires_at="31.02.2027 25:00"))
    assert response.status_code == 400
    assert "expires_at" in response.context["form"].errors
    assert not IdToken.objects.exists()


def test_adding_a_card_in_another_organizations_group_is_refused(org, other_org, admin):
    foreign = AccessGroupFactory(organization=other_org)
    response = admin.post(org_url(org, "cards/add/"), card_data(access_groups=[foreign.pk]))
    assert response.status_code == 400
    assert "access_groups" in response.context["form"].errors
    assert not IdToken.objects.exists()


def test_card_form_offers_only_the_organizations_groups(org, other_org, admin):
    mine = AccessGroupFactory(organization=org)
    AccessGroupFactory(organization=other_org)
    form = admin.get(org_url(org, "cards/add/")).context["form"]
    assert list(form.fields["access_groups"].queryset) == [mine]


def test_expiry_is_typed_in_the_organizations_time_zone(org, admin):
    org.timezone = "Europe/Berlin"
    org.save()
    admin.post(org_url(org, "cards/add/"), card_data(expires_at="2030-07-01T12:00"))
    # Berlin is two hours ahead of UTC in summer.
    assert IdToken.objects.get().expires_at == datetime(2030, 7, 1, 10, 0, tzinfo=UTC)


def test_expiry_is_shown_in_the_organizations_time_zone(org, admin):
    org.timezone = "Europe/Berlin"
    org.save()
    card = IdTokenFactory(organization=org, expires_at=datetime(2030, 7, 1, 10, 0, tzinfo=UTC))
    body = admin.get(org_url(org, f"cards/{card.pk}/")).content.decode()
    assert 'value="2030-07-01T12:00"' in body


@pytest.mark.parametrize("role", ROLES)
def test_card_page_renders_for_every_role(org, card, role):
    response = portal_client(org, role).get(org_url(org, f"cards/{card.pk}/"))
    assert response.status_code == 200
    assert response.context["card"] == card


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_card_page_shows_no_form_below_operator(org, card, role):
    body = portal_client(org, role).get(org_url(org, f"cards/{card.pk}/")).content.decode()
    assert 'name="uid"' not in body
    assert org_url(org, f"cards/{card.pk}/delete/") not in body
    assert card.label in body


@pytest.mark.parametrize("role", WRITERS)
def test_card_page_offers_operators_and_up_the_form_block_and_delete(org, card, role):
    body = portal_client(org, role).get(org_url(org, f"cards/{card.pk}/")).content.decode()
    assert 'name="uid"' in body
    assert org_url(org, f"cards/{card.pk}/block/") in body
    assert org_url(org, f"cards/{card.pk}/delete/") in body


def test_card_page_lists_the_cards_recent_sessions(org, card, station):
    session = ChargingSessionFactory(
        organization=org, station=station, id_token=card, state=SessionState.COMPLETED
    )
    ChargingSessionFactory(organization=org, station=station)
    response = portal_client(org).get(org_url(org, f"cards/{card.pk}/"))
    assert list(response.context["sessions"]) == [session]


def test_another_organizations_card_page_is_404(org, foreign_card):
    client = portal_client(org, Role.OWNER)
    assert client.get(org_url(org, f"cards/{foreign_card.pk}/")).status_code == 404


def test_editing_another_organizations_card_is_404_and_changes_nothing(org, foreign_card, admin):
    response = admin.post(org_url(org, f"cards/{foreign_card.pk}/"), card_data(label="Taken"))
    assert response.status_code == 404
    foreign_card.refresh_from_db()
    assert foreign_card.label == "Outsider card"


@pytest.mark.parametrize("role", WRITERS)
def test_operators_and_up_edit_a_card(org, card, role):
    group = AccessGroupFactory(organization=org)
    response = portal_client(org, role).post(
        org_url(org, f"cards/{card.pk}/"),
        card_data(uid=card.uid, label="Renamed", access_groups=[group.pk]),
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.label == "Renamed"
    assert list(card.access_groups.all()) == [group]


def test_editing_a_card_keeps_its_own_uid_free(org, card, admin):
    response = admin.post(org_url(org, f"cards/{card.pk}/"), card_data(uid="04aabbcc"))
    assert response.status_code == 302


def test_editing_a_card_to_another_cards_uid_is_refused(org, card, admin):
    IdTokenFactory(organization=org, uid="04999999")
    response = admin.post(
        org_url(org, f"cards/{card.pk}/"), card_data(uid="04999999", label="Changed")
    )
    assert response.status_code == 400
    card.refresh_from_db()
    assert (card.uid, card.label) == ("04AABBCC", "Fleet car 1")


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_editing_a_card_is_403_below_operator(org, card, role):
    response = portal_client(org, role).post(
        org_url(org, f"cards/{card.pk}/"), card_data(uid=card.uid, label="Changed")
    )
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.label == "Fleet car 1"


# --- Block and unblock -----------------------------------------------------------------------


@pytest.mark.parametrize("role", WRITERS)
def test_operators_and_up_block_an_accepted_card(org, card, role):
    response = portal_client(org, role).post(
        org_url(org, f"cards/{card.pk}/block/"), {"action": "block"}
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.status == IdTokenStatus.BLOCKED


@pytest.mark.parametrize("role", WRITERS)
def test_operators_and_up_unblock_a_blocked_card(org, role):
    card = IdTokenFactory(organization=org, status=IdTokenStatus.BLOCKED)
    portal_client(org, role).post(org_url(org, f"cards/{card.pk}/block/"), {"action": "unblock"})
    card.refresh_from_db()
    assert card.status == IdTokenStatus.ACCEPTED


def test_block_without_an_action_toggles_the_block(org, card, admin):
    url = org_url(org, f"cards/{card.pk}/block/")
    admin.post(url)
    card.refresh_from_db()
    blocked = card.status
    admin.post(url)
    card.refresh_from_db()
    assert (blocked, card.status) == (IdTokenStatus.BLOCKED, IdTokenStatus.ACCEPTED)


def test_a_second_block_click_leaves_the_card_blocked(org, card, admin):
    url = org_url(org, f"cards/{card.pk}/block/")
    admin.post(url, {"action": "block"})
    admin.post(url, {"action": "block"})
    card.refresh_from_db()
    assert card.status == IdTokenStatus.BLOCKED


def test_unblocking_an_expired_card_leaves_it_expired(org, admin):
    card = IdTokenFactory(organization=org, status=IdTokenStatus.EXPIRED)
    admin.post(org_url(org, f"cards/{card.pk}/block/"), {"action": "unblock"})
    card.refresh_from_db()
    assert card.status == IdTokenStatus.EXPIRED


def test_block_returns_to_the_page_it_was_pressed_on(org, card, admin):
    back = org_url(org, "cards/?status=Accepted")
    response = admin.post(org_url(org, f"cards/{card.pk}/block/"), {"next": back})
    assert response["Location"] == back


def test_block_refuses_an_offsite_next_page(org, card, admin):
    response = admin.post(
        org_url(org, f"cards/{card.pk}/block/"), {"next": "https://evil.example/"}
    )
    assert response["Location"] == org_url(org, "cards/")


def test_block_by_get_is_405_and_changes_nothing(org, card, admin):
    assert admin.get(org_url(org, f"cards/{card.pk}/block/")).status_code == 405
    card.refresh_from_db()
    assert card.status == IdTokenStatus.ACCEPTED


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_block_is_403_below_operator(org, card, role):
    response = portal_client(org, role).post(org_url(org, f"cards/{card.pk}/block/"))
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.status == IdTokenStatus.ACCEPTED


def test_blocking_another_organizations_card_is_404(org, foreign_card, admin):
    response = admin.post(org_url(org, f"cards/{foreign_card.pk}/block/"), {"action": "block"})
    assert response.status_code == 404
    foreign_card.refresh_from_db()
    assert foreign_card.status == IdTokenStatus.ACCEPTED


def test_outsider_cannot_block_the_organizations_card(org, other_org, card):
    client = portal_client(other_org, Role.OWNER)
    assert client.post(org_url(other_org, f"cards/{card.pk}/block/")).status_code == 404
    assert client.post(org_url(org, f"cards/{card.pk}/block/")).status_code == 404
    card.refresh_from_db()
    assert card.status == IdTokenStatus.ACCEPTED


# --- Delete ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", WRITERS)
def test_operators_and_up_delete_a_card_after_confirming(org, card, role):
    client = portal_client(org, role)
    url = org_url(org, f"cards/{card.pk}/delete/")
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert not IdToken.objects.exists()


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_deleting_a_card_is_403_below_operator(org, card, role):
    response = portal_client(org, role).post(org_url(org, f"cards/{card.pk}/delete/"))
    assert response.status_code == 403
    assert IdToken.objects.filter(pk=card.pk).exists()


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_card_delete_confirmation_is_403_below_operator(org, card, role):
    response = portal_client(org, role).get(org_url(org, f"cards/{card.pk}/delete/"))
    assert response.status_code == 403


def test_deleting_another_organizations_card_is_404(org, foreign_card, admin):
    assert admin.post(org_url(org, f"cards/{foreign_card.pk}/delete/")).status_code == 404
    assert IdToken.objects.filter(pk=foreign_card.pk).exists()


# --- CSV import ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", WRITERS)
def test_import_page_shows_the_expected_columns_and_an_example(org, role):
    response = portal_client(org, role).get(org_url(org, "cards/import/"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<code>access_groups</code>" in body
    assert "04A2B3C4D5E6F7,Fleet car 1" in body


@pytest.mark.parametrize("role", BELOW_OPERATOR)
def test_import_is_403_below_operator(org, role):
    client = portal_client(org, role)
    assert client.get(org_url(org, "cards/import/")).status_code == 403
    response = client.post(org_url(org, "cards/import/"), {"file": csv_file("uid\n04AA\n")})
    assert response.status_code == 403
    assert not IdToken.objects.exists()


@pytest.mark.parametrize("role", WRITERS)
def test_operators_and_up_import_cards_and_see_the_counts(org, card, role):
    AccessGroupFactory(organization=org, name="Staff")
    text = "uid,label,access_groups\n04aabbcc,Renamed,Staff\n04000001,Visitor,\n"
    response = portal_client(org, role).post(
        org_url(org, "cards/import/"), {"file": csv_file(text)}
    )
    report = response.context["report"]
    assert response.status_code == 200
    assert (report["created"], report["updated"], report["written"]) == (1, 1, True)
    card.refresh_from_db()
    assert card.label == "Renamed"
    assert [g.name for g in card.access_groups.all()] == ["Staff"]
    assert IdToken.objects.for_org(org).filter(uid="04000001", label="Visitor").exists()


def test_import_with_a_bad_row_writes_nothing_and_names_its_line(org, card, admin):
    text = "uid,label,expires_at\n04000001,Good,\n04000002,Bad,not-a-date\n04aabbcc,Renamed,\n"
    response = admin.post(org_url(org, "cards/import/"), {"file": csv_file(text)})
    assert response.status_code == 400
    assert [row["line"] for row in response.context["failed_rows"]] == [3]
    assert "expires_at" in response.context["failed_rows"][0]["errors"]
    assert IdToken.objects.count() == 1
    card.refresh_from_db()
    assert card.label == "Fleet car 1"


def test_import_refuses_a_group_of_another_organization(org, other_org, admin):
    AccessGroupFactory(organization=other_org, name="Theirs")
    text = "uid,access_groups\n04000001,Theirs\n"
    response = admin.post(org_url(org, "cards/import/"), {"file": csv_file(text)})
    assert response.status_code == 400
    assert not IdToken.objects.exists()


def test_import_refuses_a_file_with_an_unknown_column(org, admin):
    text = "uid,colour\n04000001,red\n"
    response = admin.post(org_url(org, "cards/import/"), {"file": csv_file(text)})
    assert response.status_code == 400
    assert "Unknown columns: colour" in str(response.context["form"].errors["file"])
    assert not IdToken.objects.exists()


def test_import_check_only_reports_and_writes_nothing(org, admin):
    text = "uid,label\n04000001,Visitor\n"
    response = admin.post(org_url(org, "cards/import/"), {"file": csv_file(text), "dry_run": "on"})
    report = response.context["report"]
    assert (report["created"], report["written"], report["dry_run"]) == (1, False, True)
    assert not IdToken.objects.exists()


def test_import_writes_only_into_the_organization_of_the_url(org, other_org, admin):
    admin.post(org_url(org, "cards/import/"), {"file": csv_file("uid\n04000001\n")})
    assert IdToken.objects.get().organization == org
    assert not IdToken.objects.for_org(other_org).exists()


def test_outsider_cannot_import_into_the_organization(org, other_org):
    client = portal_client(other_org, Role.OWNER)
    response = client.post(org_url(org, "cards/import/"), {"file": csv_file("uid\n04000001\n")})
    assert response.status_code == 404
    assert not IdToken.objects.exists()
