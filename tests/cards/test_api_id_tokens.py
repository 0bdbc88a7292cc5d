"""Id tokens (RFID cards) over the API: fields, writes, block/unblock, filters, CSV export."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cards.api.serializers import IdTokenSerializer
from cards.choices import IdTokenStatus
from cards.models import IdToken
from organizations.choices import Role
from sessions_app.authorization import authorize
from sessions_app.choices import AuthorizationStatus
from tests.apiclients import client_for, member
from tests.factories import (
    AccessGroupFactory,
    ChargingSessionFactory,
    ChargingStationFactory,
    IdTokenFactory,
    SiteFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/id-tokens/"
FIELDS = [
    "id",
    "organization",
    "uid",
    "type",
    "label",
    "holder_name",
    "holder_email",
    "status",
    "expires_at",
    "parent_id_tag",
    "max_concurrent_transactions",
    "roaming",
    "access_groups",
    "created",
    "updated",
]


def nested(org):
    return f"/api/v1/organizations/{org.pk}/id-tokens/"


def detail(token, suffix=""):
    return f"{LIST}{token.pk}/{suffix}"


@pytest.fixture
def operator(org):
    return client_for(member((org, Role.OPERATOR)))


@pytest.fixture
def viewer(org):
    return client_for(member((org, Role.VIEWER)))


@pytest.fixture
def staff(org):
    return AccessGroupFactory(organization=org, name="Staff")


@pytest.fixture
def card(org, staff):
    return IdTokenFactory(
        organization=org,
        uid="04AABB01",
        label="Erika's card",
        holder_name="Erika Mustermann",
        holder_email="erika@example.com",
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
        parent_id_tag="FLEET1",
        max_concurrent_transactions=2,
        access_groups=[staff],
    )


def uids(response):
    assert response.status_code == 200, response.data
    return [row["uid"] for row in response.data["results"]]


def csv_rows(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_a_card_is_shown_with_every_field(viewer, org, staff, card):
    data = viewer.get(detail(card)).data
    assert list(data) == FIELDS
    assert {key: data[key] for key in FIELDS if key not in ("created", "updated")} == {
        "id": card.pk,
        "organization": org.pk,
        "uid": "04AABB01",
        "type": "ISO14443",
        "label": "Erika's card",
        "holder_name": "Erika Mustermann",
        "holder_email": "erika@example.com",
        "status": "Accepted",
        "expires_at": "2027-01-01T00:00:00Z",
        "parent_id_tag": "FLEET1",
        "max_concurrent_transactions": 2,
        "roaming": False,
        "access_groups": [staff.pk],
    }


def test_an_operator_creates_a_card_with_its_uid_upper_cased(operator, org, staff):
    response = operator.post(
        nested(org),
        {"uid": " 04ccdd02 ", "label": "Spare", "access_groups": [staff.pk]},
        format="json",
    )
    assert response.status_code == 201, response.data
    created = IdToken.objects.get(pk=response.data["id"])
    assert (created.organization, created.uid, created.label) == (org, "04CCDD02", "Spare")
    assert list(created.access_groups.all()) == [staff]
    assert (created.status, created.max_concurrent_transactions) == ("Accepted", 1)


def test_a_uid_already_used_in_the_organization_is_a_field_error_in_any_case(operator, org, card):
    response = operator.post(nested(org), {"uid": "04aabb01"}, format="json")
    assert response.status_code == 400
    assert response.data == {"uid": ["A card with this uid already exists in this organization."]}
    assert IdToken.objects.for_org(org).count() == 1


def test_a_uid_used_by_another_organization_is_free(operator, org, other_org):
    IdTokenFactory(organization=other_org, uid="04AABB01")
    assert operator.post(nested(org), {"uid": "04AABB01"}, format="json").status_code == 201


def test_changing_a_cards_uid_to_another_cards_uid_is_a_field_error(operator, org, card):
    other = IdTokenFactory(organization=org, uid="04EEFF03")
    response = operator.patch(detail(other), {"uid": "04AABB01"}, format="json")
    assert response.status_code == 400
    assert "uid" in response.data
    other.refresh_from_db()
    assert other.uid == "04EEFF03"


def test_a_put_that_keeps_the_cards_own_uid_replaces_its_fields(operator, org, card):
    response = operator.put(
        detail(card),
        {"uid": "04AABB01", "label": "Renamed", "status": "Expired", "access_groups": []},
        format="json",
    )
    assert response.status_code == 200, response.data
    card.refresh_from_db()
    assert (card.label, card.status) == ("Renamed", "Expired")
    assert not card.access_groups.exists()


def test_an_access_group_of_another_organization_is_a_field_error(operator, org, other_org):
    theirs = AccessGroupFactory(organization=other_org)
    response = operator.post(
        nested(org), {"uid": "04CC", "access_groups": [theirs.pk]}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {
        "access_groups": [f'No access group "{theirs.pk}" in this organization.']
    }
    assert not IdToken.objects.filter(uid="04CC").exists()


def test_access_groups_given_as_an_object_instead_of_a_list_are_refused(operator, staff, card):
    response = operator.patch(detail(card), {"access_groups": {str(staff.pk): 1}}, format="json")
    assert response.status_code == 400
    assert list(response.data) == ["access_groups"]
    assert list(card.access_groups.all()) == [staff]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("holder_email", "not-an-email"),
        ("status", "Lost"),
        ("type", "Magic"),
        ("max_concurrent_transactions", 0),
        ("expires_at", "next tuesday"),
        ("uid", "X" * 37),
    ],
)
def test_a_bad_value_is_a_field_error(operator, org, field, value):
    body = {"uid": "04CC", field: value}
    response = operator.post(nested(org), body, format="json")
    assert response.status_code == 400
    assert list(response.data) == [field]


def test_cards_are_not_created_on_the_flat_list(operator):
    assert operator.post(LIST, {"uid": "04CC"}, format="json").status_code == 405


def test_deleting_a_card_keeps_its_sessions(operator, org, card):
    session = ChargingSessionFactory(
        station=ChargingStationFactory(organization=org), id_token=card
    )
    assert operator.delete(detail(card)).status_code == 204
    session.refresh_from_db()
    assert session.id_token is None


def test_a_blocked_card_is_refused_by_stations(operator, org, staff, card):
    station = ChargingStationFactory(organization=org, site=SiteFactory(organization=org))
    station.access_groups.add(staff)
    response = operator.post(detail(card, "block/"))
    assert response.status_code == 200, response.data
    assert response.data["status"] == "Blocked"
    assert authorize(station, "04AABB01").status == AuthorizationStatus.BLOCKED


def test_blocking_a_blocked_card_answers_200_and_writes_nothing(operator, card):
    IdToken.objects.filter(pk=card.pk).update(status=IdTokenStatus.BLOCKED)
    card.refresh_from_db()
    response = operator.post(detail(card, "block/"))
    assert response.status_code == 200
    assert response.data["status"] == "Blocked"
    assert IdToken.objects.get(pk=card.pk).updated == card.updated


def test_unblocking_a_blocked_card_accepts_it_again(operator, card):
    IdToken.objects.filter(pk=card.pk).update(status=IdTokenStatus.BLOCKED)
    response = operator.post(detail(card, "unblock/"))
    assert response.status_code == 200
    assert response.data["status"] == "Accepted"
    card.refresh_from_db()
    assert card.status == IdTokenStatus.ACCEPTED


def test_unblocking_an_expired_card_leaves_it_expired(operator, card):
    IdToken.objects.filter(pk=card.pk).update(status=IdTokenStatus.EXPIRED)
    response = operator.post(detail(card, "unblock/"))
    assert response.status_code == 200
    assert response.data["status"] == "Expired"


def test_a_viewer_cannot_block_a_card(viewer, card):
    assert viewer.post(detail(card, "block/")).status_code == 403
    card.refresh_from_db()
    assert card.status == IdTokenStatus.ACCEPTED


def test_an_outsider_cannot_see_or_block_our_card(outsider_user, card):
    outsider = client_for(outsider_user)
    assert outsider.get(detail(card)).status_code == 404
    assert outsider.post(detail(card, "block/")).status_code == 404
    assert card.uid not in uids(outsider.get(LIST))
    card.refresh_from_db()
    assert card.status == IdTokenStatus.ACCEPTED


def test_cards_filter_by_uid_in_any_case(viewer, org, card):
    IdTokenFactory(organization=org, uid="04AABB0100")
    assert uids(viewer.get(LIST, {"uid": "04aabb01"})) == ["04AABB01"]


def test_cards_filter_by_status_and_type(viewer, org, card):
    IdTokenFactory(organization=org, uid="B1", status="Blocked", type="KeyCode")
    IdTokenFactory(organization=org, uid="B2", status="Blocked")
    assert uids(viewer.get(LIST, {"status": "Blocked"})) == ["B1", "B2"]
    assert uids(viewer.get(LIST, {"status": "Blocked", "type": "KeyCode"})) == ["B1"]


def test_cards_filter_by_access_group(viewer, org, staff, card):
    IdTokenFactory(organization=org, uid="04NOGROUP")
    assert uids(viewer.get(LIST, {"access_group": staff.pk})) == ["04AABB01"]


def test_filtering_by_an_access_group_of_another_organization_is_refused(viewer, other_org):
    theirs = AccessGroupFactory(organization=other_org)
    response = viewer.get(LIST, {"access_group": theirs.pk})
    assert response.status_code == 400
    assert "access_group" in response.data


@pytest.mark.parametrize("term", ["aabb", "erika's", "MUSTERMANN"])
def test_the_search_matches_uid_label_or_holder_name(viewer, org, card, term):
    IdTokenFactory(organization=org, uid="04FF", label="Other", holder_name="Max")
    assert uids(viewer.get(LIST, {"search": term})) == ["04AABB01"]


def test_the_expiry_range_is_half_open(viewer, org, card):
    IdTokenFactory(organization=org, uid="LATER", expires_at=datetime(2027, 6, 1, tzinfo=UTC))
    IdTokenFactory(organization=org, uid="NEVER", expires_at=None)
    window = {"expires_after": "2027-01-01T00:00:00Z", "expires_before": "2027-06-01T00:00:00Z"}
    assert uids(viewer.get(LIST, window)) == ["04AABB01"]
    assert uids(viewer.get(LIST, {"expires_after": "2027-01-01T00:00:01Z"})) == ["LATER"]


def test_cards_order_by_label(viewer, org):
    IdTokenFactory(organization=org, uid="A", label="zeta")
    IdTokenFactory(organization=org, uid="B", label="alpha")
    assert uids(viewer.get(LIST, {"ordering": "label"})) == ["B", "A"]
    assert uids(viewer.get(LIST, {"ordering": "-label"})) == ["A", "B"]


def test_the_csv_export_has_the_json_field_names_and_groups_by_name(viewer, org, staff, card):
    night = AccessGroupFactory(organization=org, name="Night")
    card.access_groups.add(night)
    rows = csv_rows(viewer.get(LIST, {"format": "csv"}))
    assert rows[0] == FIELDS
    exported = dict(zip(rows[0], rows[1], strict=True))
    assert {key: exported[key] for key in FIELDS if key not in ("created", "updated")} == {
        "id": str(card.pk),
        "organization": str(org.pk),
        "uid": "04AABB01",
        "type": "ISO14443",
        "label": "Erika's card",
        "holder_name": "Erika Mustermann",
        "holder_email": "erika@example.com",
        "status": "Accepted",
        "expires_at": "2027-01-01T00:00:00+00:00",
        "parent_id_tag": "FLEET1",
        "max_concurrent_transactions": "2",
        "roaming": "false",
        "access_groups": "Night;Staff",
    }
    assert len(rows) == 2


def test_the_csv_export_follows_the_filters(viewer, org, card):
    IdTokenFactory(organization=org, uid="04BLOCKED", status="Blocked")
    rows = csv_rows(viewer.get(LIST, {"format": "csv", "status": "Blocked"}))
    assert [row[2] for row in rows[1:]] == ["04BLOCKED"]


def test_the_nested_csv_export_holds_that_organizations_cards_only(org, other_org, card):
    IdTokenFactory(organization=other_org, uid="04THEIRS")
    both = client_for(member((org, Role.VIEWER), (other_org, Role.VIEWER)))
    assert [row[2] for row in csv_rows(both.get(nested(org), {"format": "csv"}))[1:]] == [
        "04AABB01"
    ]
    flat = csv_rows(both.get(LIST, {"format": "csv"}))
    assert sorted(row[2] for row in flat[1:]) == ["04AABB01", "04THEIRS"]


def test_the_csv_export_costs_the_same_queries_for_many_cards(viewer, org, staff):
    IdTokenFactory(organization=org, access_groups=[staff])

    def export_queries():
        with CaptureQueriesContext(connection) as queries:
            rows = csv_rows(viewer.get(LIST, {"format": "csv"}))
        return len(queries), len(rows) - 1

    few, one = export_queries()
    for _ in range(30):
        IdTokenFactory(organization=org, access_groups=[staff])
    many, thirty_one = export_queries()
    assert (one, thirty_one) == (1, 31)
    assert many == few


def test_a_twin_saved_between_the_check_and_the_insert_is_a_field_error(
    operator, org, card, monkeypatch
):
    # The uniqueness check passes, then the database refuses the row: a race with another
    # request that saved the same uid in between.
    checks = iter([False, True])
    monkeypatch.setattr(IdTokenSerializer, "uid_taken", lambda self, uid: next(checks))
    response = operator.post(nested(org), {"uid": "04AABB01", "label": "Twin"}, format="json")
    assert response.status_code == 400
    assert response.data == {"uid": ["A card with this uid already exists in this organization."]}
    assert IdToken.objects.for_org(org).count() == 1
