"""REST API of the cards app: access groups, id tokens and their CSV import."""
