"""Domain events relayed to webhooks and mail: the after-commit sends of alerting."""
