"""Baselines and reported settings as the tests of configuration baselines need them."""

import itertools

from baselines.models import ConfigurationBaseline
from baselines.notation import parse_settings
from baselines.services import save_baseline
from stations.device_model import (
    ReadValue,
    ReportedVariable,
    ReportPart,
    VariableAddress,
    configuration_key,
    record_configuration,
    record_report_part,
    start_report,
)

_names = itertools.count(1)


def make_baseline(organization, text="HeartbeatInterval = 300", vendor="ABB", model="", **fields):
    """A saved baseline of `organization` with the settings written in `text`."""
    baseline = ConfigurationBaseline(
        organization=organization,
        name=fields.pop("name", f"Baseline {next(_names)}"),
        vendor=vendor,
        model=model,
        **fields,
    )
    return save_baseline(baseline, parse_settings(text))


def report_keys(station, **keys):
    """The 1.6 station answered GetConfiguration for these keys (stored as the gateway does)."""
    record_configuration(
        station, [ReadValue(configuration_key(k), v) for k, v in keys.items()], complete=False
    )


def report_variables(station, *variables):
    """The 2.0.1 station sent a complete NotifyReport of (component, variable, value) triples."""
    report = start_report(station, "ConfigurationInventory")
    record_report_part(
        station,
        ReportPart(
            request_id=report.request_id,
            seq_no=0,
            more_follow=False,
            variables=[
                ReportedVariable(VariableAddress(component=c, variable=v), value=value)
                for c, v, value in variables
            ],
        ),
    )
