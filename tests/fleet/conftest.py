"""Fixtures of the campaign tests."""

import pytest

from fleet import services
from tests.fleet.factories_campaigns import FakeRunner, make_image


@pytest.fixture
def runner(monkeypatch):
    """UpdateFirmware is answered here: these tests are about the campaign, not the socket."""
    fake = FakeRunner()
    monkeypatch.setattr(services, "execute_command", fake)
    return fake


@pytest.fixture
def image(org):
    return make_image(org)
