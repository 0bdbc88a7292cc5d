"""Lists in headless Chromium: sorting by a column header, the CSV in that order, empty filters."""

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from demo.seed import DEMO_PASSWORD, DEMO_USERNAME
from sessions_app.models import ChargingSession
from tests.browser.conftest import login, screenshot
from tests.sessions_app.test_session_csv_export import HEADER as CSV_HEADER

pytestmark = [
    pytest.mark.browser,
    # WhiteNoise's static files and the CSV export stream from sync iterators under ASGI.
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]


def shown_ids(page) -> list[int]:
    return [
        int(pk)
        for pk in page.locator("#session-table tr[data-session]").evaluate_all(
            "rows => rows.map(row => row.dataset.session)"
        )
    ]


def test_clicking_a_header_sorts_the_sessions_and_the_csv_follows(page, demo):
    """Energy header: ascending, then descending; the URL and the CSV link keep the order."""
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    page.goto(demo.url("sessions/"))
    newest_first = shown_ids(page)
    assert len(newest_first) > 2

    header = page.locator("#session-table th").filter(has=page.locator('a[data-sort="energy_wh"]'))
    header.locator("a").click()
    expect(page).to_have_url(re.compile(r"[?&]ordering=-energy_wh(&|$)"))
    header = page.locator("#session-table th").filter(has=page.locator('a[data-sort="energy_wh"]'))
    expect(header).to_have_attribute("aria-sort", "descending")
    most_energy_first = shown_ids(page)
    assert most_energy_first != newest_first
    energies = dict(
        ChargingSession.objects.filter(pk__in=most_energy_first).values_list("pk", "energy_wh")
    )
    assert [energies[pk] for pk in most_energy_first] == sorted(energies.values(), reverse=True)[
        : len(most_energy_first)
    ]
    screenshot(page, "sessions-sorted-by-energy")

    # Clicking again reverses the order.
    header.locator("a").click()
    expect(page).to_have_url(re.compile(r"[?&]ordering=energy_wh(&|$)"))
    expect(
        page.locator("#session-table th").filter(has=page.locator('a[data-sort="energy_wh"]'))
    ).to_have_attribute("aria-sort", "ascending")

    export = page.locator("a[data-export-csv]")
    assert "ordering=energy_wh" in export.get_attribute("href")
    with page.expect_download() as download_info:
        export.click()
    rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text("utf-8"))))
    assert rows[0] == CSV_HEADER
    exported = [int(row[CSV_HEADER.index("energy_wh")]) for row in rows[1:]]
    assert exported == sorted(exported)
    assert page.script_errors == []


def test_a_filter_matching_nothing_says_so_and_clearing_it_brings_the_rows_back(page, demo):
    login(page, DEMO_USERNAME, DEMO_PASSWORD)
    page.goto(demo.url("sessions/?ordering=-energy_wh"))
    before = shown_ids(page)
    assert before
    # A card uid nobody has: nothing matches.
    page.get_by_label("Card uid").fill("NO-SUCH-CARD")
    page.get_by_role("button", name="Filter").click()
    summary = page.locator("[data-list-summary]")
    expect(summary).to_contain_text("No sessions match these filters.")
    # The sort survives the filter form.
    assert "ordering=-energy_wh" in page.url
    screenshot(page, "sessions-no-match")

    summary.get_by_role("link", name="Clear filters").click()
    expect(summary).not_to_contain_text("No sessions match")
    assert "id_tag" not in page.url and "ordering=-energy_wh" in page.url
    assert shown_ids(page) == before
    assert page.script_errors == []
