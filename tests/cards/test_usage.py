"""The registry through which the app that records card use (sessions) informs the card pages."""

import pytest

from cards.models import IdToken
from cards.usage import CardUsage, card_usage
from tests.factories import IdTokenFactory

pytestmark = pytest.mark.django_db


def test_a_card_is_never_used_while_no_app_tells(org):
    IdTokenFactory(organization=org)
    card = IdToken.objects.annotate(last_used=CardUsage().last_used()).get()
    assert card.last_used is None


def test_a_panel_registered_twice_shows_once():
    usage = CardUsage()
    usage.register_panel("x.html", lambda organization, card: {"a": 1})
    usage.register_panel("x.html", lambda organization, card: {"a": 2})
    assert usage.panels(None, None) == (["x.html"], {"a": 1})


def test_sessions_tell_the_card_page_the_cards_sessions(org):
    templates, context = card_usage.panels(org, IdTokenFactory(organization=org))
    assert templates == ["sessions_app/_card_sessions.html"]
    assert list(context["sessions"]) == []
