"""Domain events the OCPI modules emit; roaming.subscribers turns them into Celery work."""

# A partner's command was stored and answered ACCEPTED: carry it out. Data: command_id.
COMMAND_RECEIVED = "roaming.command_received"
