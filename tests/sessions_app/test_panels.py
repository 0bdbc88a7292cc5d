"""Panels of the session page (sessions_app.panels): what a higher app adds, and in what order."""

import pytest

from billing.views import session_price_panel
from sessions_app import panels


@pytest.fixture
def only(request):
    """Replace the registered panels by the ones given, for one test."""
    registered = list(panels.session_panels)

    def use(*given):
        panels.session_panels[:] = []
        for panel in given:
            panels.register_session_panel(panel)

    yield use
    panels.session_panels[:] = registered


def test_billing_registers_its_price_panel():
    assert session_price_panel in panels.session_panels


def test_panels_are_added_in_order_and_one_answering_none_is_left_out(only):
    only(
        lambda request, session: ("a.html", {"a": 1}),
        lambda request, session: None,
        lambda request, session: ("b.html", {"b": session}),
    )
    context = {"session": "S"}

    panels.add_panels(context, None, "S")

    assert context == {"session": "S", "panels": ["a.html", "b.html"], "a": 1, "b": "S"}


def test_a_panel_may_not_replace_what_the_page_shows(only):
    only(lambda request, session: ("a.html", {"session": "another"}))

    with pytest.raises(ValueError, match="session"):
        panels.add_panels({"session": "S"}, None, "S")


def test_registering_a_panel_twice_shows_it_once(only):
    def panel(request, session):
        return "a.html", {}

    only(panel, panel)

    assert panels.session_panels == [panel]
