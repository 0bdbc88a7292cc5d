"""CSV export of list endpoints (`?format=csv`), streamed row by row with the list's filters."""

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework.renderers import BaseRenderer, JSONRenderer

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2000

Column = tuple[str, str | Callable[[object], object]]


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` through content negotiation; renders only errors (lists stream)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # A list answers with its own streamed response; what reaches the renderer is an error
        # (a bad filter, a 401), written as `field,message` lines.
        out = _Echo()
        writer = csv.writer(out)
        lines = [writer.writerow(["field", "message"])]
        for field, messages in _flatten(data or {}):
            lines.append(writer.writerow([field, messages]))
        return "".join(lines).encode(self.charset)


def _flatten(data, prefix="") -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _flatten(value, f"{prefix}{key}" if not prefix else f"{prefix}.{key}")
    elif isinstance(data, list):
        yield prefix or "detail", " ".join(str(item) for item in data)
    else:
        yield prefix or "detail", str(data)


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value):
        return value


def cell(value) -> str:
    """One value as CSV text: ISO times in UTC, plain decimals, formulas defused."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def value_of(row, accessor) -> object:
    """Follow a dotted attribute path (None-safe), or call the accessor with the row."""
    if callable(accessor):
        return accessor(row)
    for attribute in accessor.split("."):
        row = getattr(row, attribute, None)
        if row is None:
            return None
    return row


def csv_lines(rows: Iterable, columns: Sequence[Column]) -> Iterator[str]:
    """The header line, then one line per row."""
    writer = csv.writer(_Echo())
    yield writer.writerow([header for header, _ in columns])
    for row in rows:
        yield writer.writerow([cell(value_of(row, accessor)) for _, accessor in columns])


def csv_response(rows: Iterable, columns: Sequence[Column], filename: str):
    """A streamed CSV download."""
    response = StreamingHttpResponse(csv_lines(rows, columns), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class CsvExportMixin:
    """`?format=csv` (or `Accept: text/csv`) on the list: every filtered row, streamed."""

    # Subclasses declare `csv_columns`: (header, dotted attribute path or callable) pairs;
    # headers use the same names as the JSON fields and filters.
    csv_columns: Sequence[Column] = ()

    def get_renderers(self):
        renderers = super().get_renderers()
        if self.action == "list":
            renderers.append(CSVRenderer())
        return renderers

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # Errors answer in JSON even when CSV was asked for: a client parses one error format.
        renderer = getattr(self.request, "accepted_renderer", None)
        if renderer is not None and renderer.format == "csv":
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format != "csv":
            return super().list(request, *args, **kwargs)
        queryset = self.filter_queryset(self.get_queryset())
        # iterator() keeps one chunk in memory; prefetches run per chunk.
        rows = queryset.iterator(chunk_size=CHUNK_ROWS)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        return csv_response(rows, self.csv_columns, f"{self.basename}s-{stamp}.csv")
