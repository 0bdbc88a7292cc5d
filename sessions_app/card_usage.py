"""What sessions tell the card pages (cards.usage): when a card was last used, its sessions."""

from django.db.models import OuterRef, Subquery

from cards.usage import card_usage
from sessions_app.models import ChargingSession


def last_used():
    """The start of the card's latest session: stations report the card a session ran on."""
    latest = ChargingSession.objects.filter(id_token=OuterRef("pk")).order_by("-start")
    return Subquery(latest.values("start")[:1])


def recent_sessions(organization, card) -> dict:
    """The card page's panel: the card's ten latest sessions in the organization."""
    sessions = (
        ChargingSession.objects.for_org(organization)
        .filter(id_token=card)
        .select_related("station", "connector")[:10]
    )
    return {"sessions": sessions}


def register() -> None:
    """Fill the cards app's registry (called from SessionsAppConfig.ready())."""
    card_usage.register_last_used(last_used)
    card_usage.register_panel("sessions_app/_card_sessions.html", recent_sessions)
