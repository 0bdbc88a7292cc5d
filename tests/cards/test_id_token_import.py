"""CSV import of cards: good rows land, bad rows are reported by line, nothing half-imported."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cards.api import csv_import
from cards.models import IdToken
from organizations.choices import Role
from tests.apiclients import client_for, member
from tests.factories import AccessGroupFactory, IdTokenFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def import_url(org, **params):
    query = "".join(f"?{key}={value}" for key, value in params.items())
    return f"/api/v1/organizations/{org.pk}/id-tokens/import/{query}"


def upload(client, org, content, **params):
    """POST the file as a multipart form, as a browser would."""
    if isinstance(content, str):
        content = content.encode()
    file = SimpleUploadedFile("cards.csv", content, content_type="text/csv")
    return client.post(import_url(org, **params), {"file": file}, format="multipart")


def cards(org):
    return {token.uid: token for token in IdToken.objects.for_org(org)}


def groups_of(token):
    return sorted(token.access_groups.values_list("name", flat=True))


def outcomes(response):
    return [(row["line"], row["uid"], row["outcome"]) for row in response.data["rows"]]


@pytest.fixture
def operator(org):
    return client_for(member((org, Role.OPERATOR)))


@pytest.fixture
def staff(org):
    return AccessGroupFactory(organization=org, name="Staff")


@pytest.fixture
def night(org):
    return AccessGroupFactory(organization=org, name="Night shift")


def test_good_rows_create_cards_with_their_fields_and_access_groups(operator, org, staff, night):
    response = upload(
        operator,
        org,
        "uid,type,label,holder_name,holder_email,status,expires_at,parent_id_tag,"
        "max_concurrent_transactions,access_groups\n"
        "04aa01,ISO15693,Erika,Erika M,erika@example.com,Blocked,2027-01-01T00:00:00Z,FLEET,"
        "3,Staff; Night shift\n"
        "04AA02,,,,,,,,,\n",
    )
    assert response.status_code == 200, response.data
    erika, plain = cards(org)["04AA01"], cards(org)["04AA02"]
    assert (erika.type, erika.label, erika.holder_name, erika.holder_email) == (
        "ISO15693",
        "Erika",
        "Erika M",
        "erika@example.com",
    )
    assert (erika.status, erika.expires_at, erika.parent_id_tag) == (
        "Blocked",
        datetime(2027, 1, 1, tzinfo=UTC),
        "FLEET",
    )
    assert erika.max_concurrent_transactions == 3
    assert groups_of(erika) == ["Night shift", "Staff"]
    # Empty cells: the API's defaults for type and status, no expiry, unlimited, no groups.
    assert (plain.type, plain.status, plain.expires_at) == ("ISO14443", "Accepted", None)
    assert plain.max_concurrent_transactions is None
    assert groups_of(plain) == []


def test_the_report_gives_each_rows_line_uid_and_outcome_and_the_counts(operator, org):
    IdTokenFactory(organization=org, uid="04OLD")
    response = upload(operator, org, "uid,label\n04new,New\n04old,Old\n")
    assert response.status_code == 200
    assert outcomes(response) == [(2, "04NEW", "created"), (3, "04OLD", "updated")]
    assert {key: response.data[key] for key in ("total", "created", "updated", "failed")} == {
        "total": 2,
        "created": 1,
        "updated": 1,
        "failed": 0,
    }
    assert (response.data["dry_run"], response.data["written"]) == (False, True)
    assert response.data["rows"][0]["errors"] == {}


def test_an_existing_uid_is_updated_in_the_columns_of_the_file_only(operator, org, staff, night):
    IdTokenFactory(
        organization=org,
        uid="04OLD",
        label="Old",
        holder_name="Keep me",
        status="Blocked",
        access_groups=[staff],
    )
    response = upload(operator, org, "uid,label,status,access_groups\n04OLD,New,,Night shift\n")
    assert response.status_code == 200, response.data
    card = cards(org)["04OLD"]
    assert (card.label, card.holder_name, card.status) == ("New", "Keep me", "Blocked")
    assert groups_of(card) == ["Night shift"]
    assert IdToken.objects.for_org(org).count() == 1


def test_an_update_without_the_access_groups_column_keeps_the_groups(operator, org, staff):
    IdTokenFactory(organization=org, uid="04OLD", access_groups=[staff])
    assert upload(operator, org, "uid,label\n04OLD,New\n").status_code == 200
    assert groups_of(cards(org)["04OLD"]) == ["Staff"]


def test_empty_cells_clear_expiry_limit_and_groups_of_an_existing_card(operator, org, staff):
    IdTokenFactory(
        organization=org,
        uid="04OLD",
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
        max_concurrent_transactions=2,
        access_groups=[staff],
    )
    content = "uid,expires_at,max_concurrent_transactions,access_groups\n04OLD,,,\n"
    assert upload(operator, org, content).status_code == 200
    card = cards(org)["04OLD"]
    assert (card.expires_at, card.max_concurrent_transactions) == (None, None)
    assert groups_of(card) == []


def test_an_update_bumps_the_updated_time(operator, org):
    old = IdTokenFactory(organization=org, uid="04OLD")
    assert upload(operator, org, "uid,label\n04OLD,New\n").status_code == 200
    assert cards(org)["04OLD"].updated > old.updated


def test_one_bad_row_writes_nothing_and_is_reported_with_its_line_and_reason(operator, org, staff):
    IdTokenFactory(organization=org, uid="04OLD", label="Old")
    response = upload(
        operator,
        org,
        "uid,label,holder_email,access_groups\n"
        "04NEW1,Fine,,Staff\n"
        "04OLD,Changed,,\n"
        "04NEW2,Bad,not-an-email,\n",
    )
    assert response.status_code == 400
    assert outcomes(response) == [
        (2, "04NEW1", "created"),
        (3, "04OLD", "updated"),
        (4, "04NEW2", "error"),
    ]
    assert response.data["rows"][2]["errors"] == {"holder_email": ["Enter a valid email address."]}
    assert (response.data["written"], response.data["failed"]) == (False, 1)
    assert set(cards(org)) == {"04OLD"}
    assert cards(org)["04OLD"].label == "Old"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("expires_at", "31.12.2027", "Datetime has wrong format."),
        ("status", "Lost", '"Lost" is not a valid choice.'),
        ("type", "Magic", '"Magic" is not a valid choice.'),
        ("max_concurrent_transactions", "0", "greater than or equal to 1"),
        ("max_concurrent_transactions", "two", "A valid integer is required."),
        ("access_groups", "Staff;Nobody;Ghosts", "No access group named 'Nobody', 'Ghosts'"),
    ],
)
def test_a_bad_cell_is_reported_with_the_apis_message(operator, org, staff, column, value, message):
    response = upload(operator, org, f"uid,{column}\n04NEW,{value}\n")
    assert response.status_code == 400
    [row] = response.data["rows"]
    assert (row["line"], row["outcome"], list(row["errors"])) == (2, "error", [column])
    assert message in row["errors"][column][0]
    assert not cards(org)


def test_a_uid_the_api_would_refuse_is_refused_by_the_import_too(operator, org):
    response = upload(operator, org, f"uid,label\n{'X' * 37},a\n ,b\n")
    assert response.status_code == 400
    too_long, blank = response.data["rows"]
    assert too_long["errors"]["uid"] == ["Ensure this field has no more than 36 characters."]
    assert blank["errors"]["uid"] == ["This field may not be blank."]


def test_a_nul_character_is_reported_on_its_row_before_any_query_uses_it(operator, org):
    # PostgreSQL refuses NUL in a string parameter: the uid must be refused before the lookup.
    response = upload(operator, org, "uid,label\n04\x00AA,a\n04BB,b\n")
    assert response.status_code == 400
    assert outcomes(response) == [(2, "04\x00AA", "error"), (3, "04BB", "created")]
    assert "Null characters are not allowed." in response.data["rows"][0]["errors"]["uid"]


def test_a_uid_twice_in_the_file_in_any_case_is_an_error(operator, org):
    response = upload(operator, org, "uid,label\n04AA,first\n04BB,other\n04aa,second\n")
    assert response.status_code == 400
    assert outcomes(response)[2] == (4, "04AA", "error")
    assert response.data["rows"][2]["errors"] == {"uid": ["The uid is also on line 2."]}
    assert not cards(org)


def test_a_row_with_too_few_or_too_many_cells_is_an_error(operator, org):
    response = upload(operator, org, "uid,label\n04AA\n04BB,b,extra\n04CC,c\n")
    assert response.status_code == 400
    assert outcomes(response) == [
        (2, "04AA", "error"),
        (3, "04BB", "error"),
        (4, "04CC", "created"),
    ]
    assert response.data["rows"][0]["errors"] == {
        "non_field_errors": ["The row has 1 cells; the header has 2."]
    }


def test_line_numbers_follow_the_file_across_blank_lines_and_multi_line_cells(operator, org):
    content = 'uid,label\n04AA,"two\nlines"\n\n04BB,x,extra\n'
    response = upload(operator, org, content)
    assert outcomes(response) == [(2, "04AA", "created"), (5, "04BB", "error")]


def test_a_dry_run_reports_and_writes_nothing(operator, org):
    IdTokenFactory(organization=org, uid="04OLD", label="Old")
    response = upload(operator, org, "uid,label\n04NEW,New\n04OLD,Changed\n", dry_run="true")
    assert response.status_code == 200, response.data
    assert outcomes(response) == [(2, "04NEW", "created"), (3, "04OLD", "updated")]
    assert (response.data["dry_run"], response.data["written"]) == (True, False)
    assert set(cards(org)) == {"04OLD"}
    assert cards(org)["04OLD"].label == "Old"


def test_a_dry_run_of_a_bad_file_reports_its_errors(operator, org):
    response = upload(operator, org, "uid,status\n04NEW,Lost\n", dry_run="true")
    assert response.status_code == 400
    assert outcomes(response) == [(2, "04NEW", "error")]


def test_a_bad_dry_run_value_is_a_field_error(operator, org):
    response = upload(operator, org, "uid\n04NEW\n", dry_run="perhaps")
    assert response.status_code == 400
    assert "dry_run" in response.data
    assert not cards(org)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("uid,colour\n04AA,red\n", "Unknown columns: colour."),
        ("label\nfoo\n", "Required columns missing: uid."),
        ("uid,label,label\n04AA,a,b\n", "Columns named twice: label."),
        ("uid,,label\n04AA,,a\n", "Columns without a name: 2."),
        ("uid;label\n04AA;a\n", "Separate the columns with commas, not semicolons."),
        # DRF's message for an empty upload, then ours for one without a line of text.
        ("", "file is empty."),
        ("\n\n", "file is empty."),
        ("uid,label\n", "The file has a header line but no rows."),
        ("uid,label\n\n,\n", "The file has a header line but no rows."),
    ],
)
def test_a_bad_file_is_a_400_before_any_row(operator, org, content, message):
    response = upload(operator, org, content)
    assert response.status_code == 400
    assert message in response.data["file"][0]
    assert "rows" not in response.data
    assert not cards(org)


def test_a_file_that_is_not_utf8_is_refused_with_a_hint(operator, org):
    response = upload(operator, org, "uid,holder_name\n04AA,Jürgen\n".encode("latin-1"))
    assert response.status_code == 400
    assert "not UTF-8" in response.data["file"][0]
    assert not cards(org)


def test_a_byte_order_mark_from_a_spreadsheet_is_accepted(operator, org):
    response = upload(operator, org, "\ufeffuid,holder_name\n04AA,Jürgen\n".encode())
    assert response.status_code == 200, response.data
    assert cards(org)["04AA"].holder_name == "Jürgen"


def test_header_names_are_trimmed_and_case_insensitive(operator, org):
    response = upload(operator, org, " UID , Label \n04AA,a\n")
    assert response.status_code == 200, response.data
    assert cards(org)["04AA"].label == "a"


def test_a_file_over_the_row_cap_is_refused(operator, org, monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_ROWS", 3)
    assert upload(operator, org, "uid\nA\nB\nC\n").status_code == 200
    response = upload(operator, org, "uid\nD\nE\nF\nG\n")
    assert response.status_code == 400
    assert response.data["file"] == ["The file has more than 3 rows; split it."]
    assert set(cards(org)) == {"A", "B", "C"}


def test_a_file_over_the_size_cap_is_refused(operator, org, monkeypatch):
    monkeypatch.setattr(csv_import, "MAX_BYTES", 20)
    response = upload(operator, org, "uid,label\n04AA,a label too long\n")
    assert response.status_code == 400
    assert "larger than" in response.data["file"][0]
    assert not cards(org)


def test_a_form_without_a_file_is_a_field_error(operator, org):
    response = operator.post(import_url(org), {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.data


def test_a_text_csv_body_is_imported_like_a_file(operator, org):
    response = operator.post(
        import_url(org), b"uid,label\n04AA,a\n", content_type="text/csv; charset=utf-8"
    )
    assert response.status_code == 200, response.data
    assert cards(org)["04AA"].label == "a"


def test_access_group_names_of_another_organization_are_unknown(operator, org, other_org):
    AccessGroupFactory(organization=other_org, name="Fleet")
    response = upload(operator, org, "uid,access_groups\n04AA,Fleet\n")
    assert response.status_code == 400
    assert "Fleet" in response.data["rows"][0]["errors"]["access_groups"][0]


def test_a_card_of_another_organization_with_the_same_uid_is_left_alone(operator, org, other_org):
    theirs = IdTokenFactory(organization=other_org, uid="04AA", label="Theirs")
    response = upload(operator, org, "uid,label\n04AA,Ours\n")
    assert outcomes(response) == [(2, "04AA", "created")]
    theirs.refresh_from_db()
    assert theirs.label == "Theirs"
    assert cards(org)["04AA"].label == "Ours"


def test_a_viewer_cannot_import(org):
    viewer = client_for(member((org, Role.VIEWER)))
    assert upload(viewer, org, "uid\n04AA\n").status_code == 403
    assert not cards(org)


def test_an_outsider_cannot_import_into_our_organization(org, outsider_user):
    assert upload(client_for(outsider_user), org, "uid\n04AA\n").status_code == 404
    assert not cards(org)


def test_an_export_imported_into_another_organization_recreates_the_same_cards(org, staff, night):
    IdTokenFactory(
        organization=org,
        uid="04AA01",
        type="ISO15693",
        label="=SUM(A1)",
        holder_name='Erika "Eri" Mustermann, Jr.',
        holder_email="erika@example.com",
        status="Blocked",
        expires_at=datetime(2027, 1, 1, 12, 30, tzinfo=UTC),
        parent_id_tag="FLEET",
        max_concurrent_transactions=None,
        access_groups=[staff, night],
    )
    IdTokenFactory(organization=org, uid="04AA02", label="line one\nline two")
    IdTokenFactory(organization=org, uid="04AA03", max_concurrent_transactions=4)
    elsewhere = OrganizationFactory()
    AccessGroupFactory(organization=elsewhere, name="Staff")
    AccessGroupFactory(organization=elsewhere, name="Night shift")
    both = client_for(member((org, Role.VIEWER), (elsewhere, Role.OPERATOR)))

    export = both.get(f"/api/v1/organizations/{org.pk}/id-tokens/", {"format": "csv"})
    content = b"".join(export.streaming_content)
    response = upload(both, elsewhere, content)

    assert response.status_code == 200, response.data
    assert response.data["created"] == 3
    fields = [f for f in csv_import.WRITABLE_COLUMNS if f != "access_groups"]

    def described(organization):
        return {
            uid: ({f: getattr(token, f) for f in fields}, groups_of(token))
            for uid, token in cards(organization).items()
        }

    assert described(elsewhere) == described(org)
    assert cards(elsewhere)["04AA01"].label == "=SUM(A1)"


def test_an_export_imported_into_its_own_organization_updates_every_card_unchanged(org, staff):
    IdTokenFactory(organization=org, uid="04AA01", label="Erika", access_groups=[staff])
    operator = client_for(member((org, Role.OPERATOR)))
    export = operator.get("/api/v1/id-tokens/", {"format": "csv"})
    before = {uid: (token.label, groups_of(token)) for uid, token in cards(org).items()}
    response = upload(operator, org, b"".join(export.streaming_content))
    assert outcomes(response) == [(2, "04AA01", "updated")]
    assert {uid: (t.label, groups_of(t)) for uid, t in cards(org).items()} == before


def test_two_thousand_rows_land_in_a_bounded_number_of_queries(operator, org, staff, night):
    existing = IdToken.objects.bulk_create(
        IdToken(organization=org, uid=f"04{number:06d}", label="old") for number in range(500)
    )
    staff.id_tokens.add(*existing[:250])
    lines = ["uid,label,status,access_groups"]
    lines += [f"04{number:06d},card {number},Accepted,Staff;Night shift" for number in range(2000)]
    content = "\n".join(lines) + "\n"

    with CaptureQueriesContext(connection) as queries:
        response = upload(operator, org, content)

    assert response.status_code == 200, response.data["rows"][:3]
    assert (response.data["created"], response.data["updated"]) == (1500, 500)
    assert IdToken.objects.for_org(org).count() == 2000
    assert staff.id_tokens.count() == night.id_tokens.count() == 2000
    assert cards(org)["04000007"].label == "card 7"
    # SQLite takes at most 999 parameters a statement, so writes go in batches; a query per
    # row would be over 2,000.
    assert len(queries) <= 80, len(queries)
