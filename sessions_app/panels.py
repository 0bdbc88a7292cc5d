"""Panels a higher app adds to the session page, registered in its AppConfig.ready()."""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

# A panel is called with the request and the ChargingSession, and answers (template name,
# context) to be shown, or None. The template is included in the page; its context joins the
# page's, so its keys must not clash with the page's or another panel's (billing's: `price`).
# Model-free, so an AppConfig may import it.
SessionPanel = Callable[[HttpRequest, Any], tuple[str, dict] | None]

session_panels: list[SessionPanel] = []


def register_session_panel(panel: SessionPanel) -> SessionPanel:
    """Show `panel` on every session page, after those registered before it."""
    if panel not in session_panels:
        session_panels.append(panel)
    return panel


def add_panels(context: dict, request: HttpRequest, session) -> None:
    """Add to the session page's context its panels' templates, as `panels`, and their context."""
    context["panels"] = []
    for panel in session_panels:
        shown = panel(request, session)
        if shown is None:
            continue
        template, extra = shown
        if clash := context.keys() & extra.keys():
            raise ValueError(f"{template} would replace {sorted(clash)} of the session page")
        context["panels"].append(template)
        context.update(extra)
