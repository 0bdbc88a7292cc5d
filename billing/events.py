"""Events of billing, emitted after commit by `billing.services`; ids and small values only."""

# A session was rated and its charge detail record stored: organization_id, session_id,
# cdr_id, total (str, Decimal with the currency's places), currency.
CDR_CREATED = "cdr.created"
