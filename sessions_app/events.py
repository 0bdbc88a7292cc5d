"""Events of charging sessions, emitted after commit by `sessions_app.services`.

Each event carries ids and small values only: organization_id and session_id always.
"""

# A session began on a connector: organization_id, station_id, connector_id, session_id.
SESSION_STARTED = "session.started"
# A session ended and is complete, ready to be rated: the same keys as SESSION_STARTED.
SESSION_STOPPED = "session.stopped"
# A person settled a session held for review, so it may be rated now: organization_id,
# session_id, outcome (ReviewOutcome: released or corrected).
SESSION_REVIEWED = "session.reviewed"
# Billing of a session was stopped (its credit, if any, committed with it; see
# sessions_app.hooks): organization_id, session_id.
SESSION_BILLING_STOPPED = "session.billing_stopped"
# A session was held for review because its readings cannot be right (at start, at stop or
# when billing rated it): organization_id, station_id, session_id, reason.
SESSION_HELD_FOR_REVIEW = "session.held_for_review"
# A driver's id token was refused at a station (Authorize, or a transaction started with it):
# organization_id, station_id, status (AuthorizationStatus).
AUTHORIZATION_REJECTED = "authorization.rejected"
