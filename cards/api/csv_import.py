"""CSV import of id tokens: read the file, check every row with the API's rules, plan the writes.

The columns are the card's JSON field names (those of the CSV export). `uid` is required and
is the key: a uid the organization already has updates that card, a new one creates a card.
Read-only columns of an export (`id`, `organization`, `created`, `updated`) are ignored, so an
export imports as it is, into the same organization or another one. A column left out of the
file leaves that field of an existing card alone (a new card gets the API's default); an empty
cell means: no expiry, unlimited transactions, no access groups, an empty text, and for `type`
and `status` (which have no empty value) the same as leaving the column out.
"""

import csv
import io
from dataclasses import dataclass

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from cards.api.serializers import IdTokenImportRowSerializer, IdTokenSerializer
from cards.models import AccessGroup, IdToken, normalize_uid
from cards.services import CardWrite, cards_by_uid
from core.api.csv import FORMULA_STARTS
from organizations.models import Organization

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000

CREATED, UPDATED, ERROR = "created", "updated", "error"
OUTCOMES = (CREATED, UPDATED, ERROR)

_meta = IdTokenSerializer.Meta
# Taken from the serializer, so the import and the API cannot disagree on what is writable.
WRITABLE_COLUMNS = [name for name in _meta.fields if name not in _meta.read_only_fields]
IGNORED_COLUMNS = list(_meta.read_only_fields)
REQUIRED_COLUMNS = ["uid"]
# An empty cell is null here; in the other text columns it is an empty text.
NULLABLE_COLUMNS = {"expires_at", "max_concurrent_transactions"}
# No empty value exists: an empty cell keeps the card's value (or the default for a new card).
KEEP_WHEN_EMPTY = {"type", "status", "roaming"}


class CsvFileError(Exception):
    """The file as a whole cannot be imported: encoding, size, header, no rows."""


@dataclass
class RowResult:
    """What became of one row of the file."""

    line: int
    uid: str
    outcome: str
    errors: dict[str, list[str]]


@dataclass
class ImportPlan:
    """Every row's outcome, and the writes to make if no row failed."""

    results: list[RowResult]
    creates: list[CardWrite]
    updates: list[CardWrite]
    update_fields: list[str]

    def count(self, outcome: str) -> int:
        return sum(1 for result in self.results if result.outcome == outcome)

    @property
    def ok(self) -> bool:
        return self.count(ERROR) == 0

    def report(self, *, dry_run: bool, written: bool) -> dict:
        """The answer to the client: counts, and each row's line, uid, outcome and errors."""
        return {
            "dry_run": dry_run,
            "written": written,
            "total": len(self.results),
            "created": self.count(CREATED),
            "updated": self.count(UPDATED),
            "failed": self.count(ERROR),
            "rows": [vars(result) for result in self.results],
        }


def decode(content: bytes) -> str:
    """The file's text: UTF-8, with or without the byte order mark spreadsheets write."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFileError(
            _(
                "The file is not UTF-8 text (byte %(byte)s is not valid UTF-8). "
                "Save it as 'CSV UTF-8'."
            )
            % {"byte": error.start + 1}
        ) from None


def read_csv(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header's column names and the rows, each with the file line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise CsvFileError(_("The file is empty."))
        # A quoted cell may span lines: a row starts on the line after the previous row ended.
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if len(rows) == MAX_ROWS:
                    raise CsvFileError(
                        _("The file has more than %(max_rows)s rows; split it.")
                        % {"max_rows": MAX_ROWS}
                    )
                rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        raise CsvFileError(
            _("Line %(line)s: %(error)s.") % {"line": reader.line_num, "error": error}
        ) from None
    if not rows:
        raise CsvFileError(_("The file has a header line but no rows."))
    return check_header(header), rows


def check_header(header: list[str]) -> list[str]:
    """The column names, lower-cased; CsvFileError for an unknown, nameless or repeated one."""
    columns = [name.strip().lower() for name in header]
    if len(columns) == 1 and ";" in columns[0]:
        raise CsvFileError(_("Separate the columns with commas, not semicolons."))
    problems = []
    nameless = [str(number) for number, name in enumerate(columns, 1) if not name]
    if nameless:
        problems.append(
            _("Columns without a name: %(columns)s.") % {"columns": ", ".join(nameless)}
        )
    repeated = sorted({name for name in columns if name and columns.count(name) > 1})
    if repeated:
        problems.append(_("Columns named twice: %(columns)s.") % {"columns": ", ".join(repeated)})
    known = WRITABLE_COLUMNS + IGNORED_COLUMNS
    unknown = [name for name in columns if name and name not in known]
    if unknown:
        problems.append(
            _("Unknown columns: %(unknown)s. Known: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(known)}
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        problems.append(
            _("Required columns missing: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    if problems:
        raise CsvFileError(" ".join(problems))
    return columns


def cell_value(column: str, cell: str):
    """A cell as the serializer takes it (None for an empty nullable one)."""
    value = cell.strip()
    # The export writes `'` before a text that a spreadsheet would run as a formula.
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
        value = value[1:]
    if value == "" and column in NULLABLE_COLUMNS:
        return None
    return value


def row_data(columns: list[str], cells: list[str]) -> dict:
    """The row as the body the API would take: imported columns only, empty cells resolved."""
    data = {}
    for column, cell in zip(columns, cells, strict=True):
        if column in IGNORED_COLUMNS or (column in KEEP_WHEN_EMPTY and not cell.strip()):
            continue
        data[column] = cell_value(column, cell)
    return data


def plain(detail) -> dict[str, list[str]]:
    """DRF's error detail as {field: [message, ...]}."""
    if not isinstance(detail, dict):
        detail = {"non_field_errors": detail}
    return {
        field: [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]
        for field, messages in detail.items()
    }


def check_row(serializer, columns: list[str], line: int, cells: list[str]):
    """The row's result (created, or error) and its validated data (None if it failed)."""
    if len(cells) != len(columns):
        at = columns.index("uid")
        uid = normalize_uid(cells[at]) if at < len(cells) else ""
        message = _("The row has %(cells)s cells; the header has %(columns)s.") % {
            "cells": len(cells),
            "columns": len(columns),
        }
        return RowResult(line, uid, ERROR, {"non_field_errors": [message]}), None
    data = row_data(columns, cells)
    uid = normalize_uid(data["uid"])
    try:
        validated = serializer.run_validation(data)
    except ValidationError as error:
        return RowResult(line, uid, ERROR, plain(error.detail)), None
    return RowResult(line, uid, CREATED, {}), validated


def plan_import(organization: Organization, content: bytes) -> ImportPlan:
    """Check every row of the file as the API would check the card; write nothing."""
    if len(content) > MAX_BYTES:
        raise CsvFileError(
            _("The file is larger than %(megabytes)s MB; split it.")
            % {"megabytes": MAX_BYTES // (1024 * 1024)}
        )
    columns, rows = read_csv(decode(content))
    groups = {group.name: group for group in AccessGroup.objects.for_org(organization)}
    serializer = IdTokenImportRowSerializer(
        context={"organization_id": organization.pk, "access_groups_by_name": groups}
    )

    results, valid, first_line = [], [], {}
    for line, cells in rows:
        result, validated = check_row(serializer, columns, line, cells)
        if result.uid in first_line:
            result.errors.setdefault("uid", []).append(
                _("The uid is also on line %(line)s.") % {"line": first_line[result.uid]}
            )
            result.outcome = ERROR
        elif result.uid:
            first_line[result.uid] = line
        results.append(result)
        if result.outcome != ERROR:
            valid.append((result, validated))

    # After validation, so only clean uids reach the database; a query per 500, none per row.
    existing = cards_by_uid(organization.pk, [result.uid for result, _validated in valid])
    creates, updates = [], []
    for result, validated in valid:
        card_groups = validated.pop("access_groups", None)
        token = existing.get(result.uid)
        if token is None:
            creates.append((IdToken(organization=organization, **validated), card_groups))
        else:
            for name, value in validated.items():
                setattr(token, name, value)
            updates.append((token, card_groups))
            result.outcome = UPDATED

    # The uid is the key, and the groups live in the through table.
    not_on_the_row = {"uid", "access_groups"}
    update_fields = [c for c in WRITABLE_COLUMNS if c in columns and c not in not_on_the_row]
    return ImportPlan(results, creates, updates, update_fields)
