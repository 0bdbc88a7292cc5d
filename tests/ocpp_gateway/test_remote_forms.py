"""The portal's command forms, derived from the parameter serializers: yes/no inputs."""

import pytest

from ocpp_gateway.remote import get_command
from ocpp_gateway.remote.forms import CommandForm
from tests.factories import ChargingStationFactory

pytestmark = pytest.mark.django_db


def form(data=None):
    station = ChargingStationFactory(ocpp_version="ocpp2.0.1")
    return CommandForm(
        get_command("customer_information"),
        station,
        data,
        connectors=list(station.connectors.all()),
    )


def test_a_boolean_parameter_is_a_yes_no_choice_that_keeps_its_default():
    unbound = form()
    assert not unbound.unsupported
    report, clear = unbound.fields["report"], unbound.fields["clear"]
    assert (report.initial, clear.initial) == ("true", "false")
    assert [value for value, _ in report.choices] == ["true", "false"]


def test_a_no_reaches_the_serializer_as_false():
    bound = form({"report": "false", "clear": "true", "id_token": "04AA"})
    assert bound.is_valid(), bound.errors
    params = bound.params()
    assert (params["report"], params["clear"]) == ("false", "true")
    serializer = get_command("customer_information").params(
        data=params, context={"station": bound.station}
    )
    serializer.is_valid()
    assert (serializer.validated_data["report"], serializer.validated_data["clear"]) == (
        False,
        True,
    )
