"""Settings written as `key = value` lines: 1.6 keys and 2.0.1 addresses, and what is refused."""

import pytest

from baselines.models import address_label
from baselines.notation import NotationError, parse_settings


def test_a_plain_name_is_an_ocpp_16_key():
    [setting] = parse_settings("HeartbeatInterval = 300")
    assert setting.address["component"] == ""
    assert (setting.address["variable"], setting.value) == ("HeartbeatInterval", "300")


def test_a_full_201_address_is_read_part_by_part():
    [setting] = parse_settings("EVSE[main]@1.2/Power[L1]:MaxSet = 22000")
    assert setting.address == {
        "component": "EVSE",
        "component_instance": "main",
        "evse_number": 1,
        "connector_number": 2,
        "variable": "Power",
        "variable_instance": "L1",
        "attribute_type": "MaxSet",
    }
    assert setting.label == "EVSE[main]@1.2/Power[L1]:MaxSet"


def test_a_value_keeps_everything_after_the_first_equals_sign():
    [setting] = parse_settings("CentralSystemUrl = wss://x/ocpp?a=b")
    assert setting.value == "wss://x/ocpp?a=b"


def test_comments_and_blank_lines_are_skipped():
    assert len(parse_settings("# heartbeat\n\nHeartbeatInterval = 300\n")) == 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("HeartbeatInterval 300", "Line 1: write"),
        ("HeartbeatInterval:Target = 1", "1.6 key"),
        ("Ctrlr/Var:Sometimes = 1", "Unknown attribute type"),
        ("A = 1\nA = 2", "Line 2: A is already set on line 1"),
        ("/Var = 1", "Line 1"),
        ("X" * 51 + " = 1", "longer than 50"),
        ("Comp@99999999999999999999/Var = 1", "EVSE and connector numbers go up to"),
        ("Comp@1.99999999999999999999/Var = 1", "EVSE and connector numbers go up to"),
        # A 1.6 value travels in ChangeConfiguration (500 characters, as the API refuses too).
        ("HeartbeatInterval = " + "9" * 501, "longer than 500"),
    ],
)
def test_wrong_lines_are_refused_with_their_line_number(text, fragment):
    with pytest.raises(NotationError) as error:
        parse_settings(text)
    assert fragment in " ".join(error.value.errors)


def test_labels_are_written_back_as_parsed():
    text = "OCPPCommCtrlr/HeartbeatInterval = 300\nConnector@1.1/Enabled:Target = true"
    assert [s.label for s in parse_settings(text)] == [
        "OCPPCommCtrlr/HeartbeatInterval",
        "Connector@1.1/Enabled:Target",
    ]
    assert address_label(parse_settings("Ctrlr@3/V = 1")[0].address) == "Ctrlr@3/V"


def test_a_201_value_may_be_longer_than_a_16_keys():
    [setting] = parse_settings("Ctrlr/Var = " + "x" * 501)
    assert len(setting.value) == 501
