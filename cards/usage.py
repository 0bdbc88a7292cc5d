"""How cards were used, as the app that records it tells: the card pages ask, sessions answer.

cards sits below sessions_app and cannot read sessions; sessions_app fills this registry in
its AppConfig.ready() with when a card was last used and a panel of its recent sessions.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import DateTimeField, Expression, Value

# An expression over IdToken rows (OuterRef("pk") is the card): when it was last used.
LastUsed = Callable[[], Expression]
# The context a panel adds to a card's page, from the organization and the card.
PanelContext = Callable[..., dict]


@dataclass(frozen=True)
class CardPanel:
    """A section of a card's page that another app fills: its template and its context."""

    template_name: str
    context: PanelContext


class CardUsage:
    """The registry: one way to tell when a card was last used, and the card page's panels."""

    def __init__(self):
        self._last_used: LastUsed | None = None
        self._panels: list[CardPanel] = []

    def register_last_used(self, expression: LastUsed) -> None:
        """Tell the card pages how to find when a card was last used."""
        self._last_used = expression

    def register_panel(self, template_name: str, context: PanelContext) -> None:
        """Add a section to every card's page (once per template)."""
        if all(panel.template_name != template_name for panel in self._panels):
            self._panels.append(CardPanel(template_name, context))

    def last_used(self) -> Expression:
        """When each card was last used, to annotate cards with; null if nobody tells."""
        if self._last_used is None:
            return Value(None, output_field=DateTimeField())
        return self._last_used()

    def panels(self, organization, card) -> tuple[list[str], dict]:
        """The templates of the card page's panels, and the context they need."""
        context = {}
        for panel in self._panels:
            context.update(panel.context(organization, card))
        return [panel.template_name for panel in self._panels], context


card_usage = CardUsage()
