"""Events of organizations, emitted after commit by `organizations.services`."""

# A new organization exists (its first owner with it): organization_id. Apps that give a new
# organization its defaults (alert rules) subscribe.
ORGANIZATION_CREATED = "organization.created"
