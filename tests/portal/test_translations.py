"""German, French and Swedish catalogs are complete, and the compiled files match them."""

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from organizations.choices import Role
from tests.portalclients import org_url, portal_client

LOCALE = Path(settings.BASE_DIR) / "locale"
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language):
    po = catalog(language)
    assert len(po) > 0
    missing = [entry.msgid for entry in po.untranslated_entries()]
    assert missing == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_translation_is_left_fuzzy(language):
    assert [entry.msgid for entry in catalog(language).fuzzy_entries()] == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_matches_the_source(language):
    # A .po edited without running compilemessages would silently serve old translations.
    compiled = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))
    as_compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in compiled}
    for entry in catalog(language).translated_entries():
        key = (entry.msgctxt, entry.msgid)
        assert key in as_compiled, entry.msgid
        msgstr, plural = as_compiled[key]
        if entry.msgid_plural:
            assert {int(k): v for k, v in plural.items()} == {
                int(k): v for k, v in entry.msgstr_plural.items()
            }, entry.msgid
        else:
            assert msgstr == entry.msgstr, entry.msgid


# The product documents' own words (seeds 000 and 001) for the stations menu.
@pytest.mark.parametrize(
    ("language", "all_stations"),
    [("de", "Alle Stationen"), ("fr", "Toutes les stations"), ("sv", "Alla stationer")],
)
def test_the_portal_speaks_the_browsers_language(db, org, language, all_stations):
    page = portal_client(org, Role.VIEWER).get(org_url(org), HTTP_ACCEPT_LANGUAGE=language)
    body = page.content.decode()
    assert f'lang="{language}"' in body
    assert all_stations in body


def test_the_login_page_is_translated_before_anyone_logs_in(db):
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="de")
    with translation.override("de"):
        assert translation.gettext("Log in") in page.content.decode()
    assert "Anmelden" in page.content.decode()
