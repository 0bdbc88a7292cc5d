"""Fixtures of the configuration baselines tests."""

import pytest


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """A block whose on-commit work (the drift check after stored settings) runs at its end."""

    def block():
        return django_capture_on_commit_callbacks(execute=True)

    return block
