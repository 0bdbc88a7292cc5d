"""configuration_drift: a station differing from a baseline opens an alert until it matches."""

import pytest

from alerts.choices import RuleKind
from alerts.models import Alert, AlertRule
from alerts.services import install_default_rules
from tests.baselines.factories_baselines import make_baseline, report_keys
from tests.factories import ChargingStationFactory

DRIFT = RuleKind.CONFIGURATION_DRIFT


@pytest.fixture
def abb(org):
    return ChargingStationFactory(organization=org, vendor="ABB", connectors=0)


@pytest.fixture
def configuration(committed, abb):
    def report(**keys):
        with committed():
            report_keys(abb, **keys)

    return report


def test_drift_opens_an_alert_naming_the_baseline_and_keys(
    org, abb, make_rule, configuration, live_alerts
):
    rule = make_rule(org, DRIFT)
    baseline = make_baseline(org, "HeartbeatInterval = 300")
    configuration(HeartbeatInterval="900")
    [alert] = live_alerts(DRIFT, org)
    assert (alert.station, alert.rule) == (abb, rule)
    assert alert.details == {"baseline_id": baseline.pk, "keys": ["HeartbeatInterval"]}


def test_the_same_drift_reported_again_opens_nothing_more(
    org, make_rule, configuration, live_alerts
):
    make_rule(org, DRIFT)
    make_baseline(org, "HeartbeatInterval = 300")
    configuration(HeartbeatInterval="900")
    configuration(HeartbeatInterval="900")
    [alert] = live_alerts(DRIFT, org)
    assert alert.occurrences == 1


def test_matching_the_baseline_again_resolves_the_alert(org, make_rule, configuration, live_alerts):
    make_rule(org, DRIFT)
    make_baseline(org, "HeartbeatInterval = 300")
    configuration(HeartbeatInterval="900")
    configuration(HeartbeatInterval="300")
    assert live_alerts(DRIFT) == []
    assert Alert.objects.get().resolved_at is not None


def test_without_a_drift_rule_no_alert_opens(org, configuration):
    make_baseline(org, "HeartbeatInterval = 300")
    configuration(HeartbeatInterval="900")
    assert not Alert.objects.exists()


def test_new_organizations_get_a_drift_rule_by_default(org, other_org):
    AlertRule.objects.all().delete()
    install_default_rules([org.pk])
    assert AlertRule.objects.filter(organization=org, kind=DRIFT, enabled=True).exists()
    assert not AlertRule.objects.filter(organization=other_org).exists()
