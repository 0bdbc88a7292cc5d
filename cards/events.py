"""Domain events the cards app emits (subscribers in higher apps react after commit)."""

# A CSV import wrote cards without saving them one by one (no model signals): data is
# `organization_id` and `uids`, the uids of every card it created or changed.
CARDS_IMPORTED = "cards.imported"
