"""Give every organization that exists already the default alert rules, switched on.

New organizations get them from the organization.created subscriber (alerts.services
.install_default_rules); this does the same for the ones created before alerting existed. The
values are copied here, not imported, so the migration keeps meaning what it meant when written.
"""

from django.db import migrations

# (kind, name, severity, extra fields): alerts.services.DEFAULT_RULES as of this migration.
DEFAULT_RULES = (
    (
        "station_offline",
        "Station offline",
        "high",
        {"delay_minutes": 15, "escalate_after_minutes": 60},
    ),
    ("connector_faulted", "Connector faulted", "high", {"escalate_after_minutes": 60}),
    ("station_rejected", "Station rejected at boot or connection", "medium", {}),
    (
        "authorization_failures",
        "Repeated failed authorizations",
        "medium",
        {"failure_count": 5, "window_minutes": 10},
    ),
    ("session_stuck", "Session stuck", "medium", {"delay_minutes": 30, "max_session_hours": 24}),
    ("start_failed", "Remote start failed", "medium", {"start_timeout_seconds": 120}),
    ("session_implausible", "Implausible session", "low", {}),
    ("firmware_failed", "Firmware update failed", "high", {}),
    ("diagnostics_failed", "Diagnostics upload failed", "low", {}),
    ("security_event", "Security or station event", "high", {}),
    ("meter_silent", "Energy meter silent", "medium", {"delay_minutes": 15}),
    ("site_over_capacity", "Site over grid capacity", "critical", {"delay_minutes": 0}),
)


def install_default_rules(apps, schema_editor):
    Organization = apps.get_model("organizations", "Organization")
    AlertRule = apps.get_model("alerts", "AlertRule")
    # An organization with any rule made its own choices already.
    have = set(AlertRule.objects.values_list("organization_id", flat=True).distinct())
    AlertRule.objects.bulk_create(
        AlertRule(organization_id=org_id, kind=kind, name=name, severity=severity, **extra)
        for org_id in Organization.objects.exclude(pk__in=have).values_list("pk", flat=True)
        for kind, name, severity, extra in DEFAULT_RULES
    )


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0001_initial"),
        ("organizations", "0005_cards_moved_to_cards_app"),
    ]

    # Going back leaves the rules: they may have been edited since, and the table goes with
    # 0001 anyway.
    operations = [migrations.RunPython(install_default_rules, migrations.RunPython.noop)]
