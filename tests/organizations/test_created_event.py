"""A new organization is announced, so apps can give it their defaults."""

from core import events
from organizations.events import ORGANIZATION_CREATED
from organizations.services import create_organization
from tests.factories import UserFactory


def test_creating_an_organization_announces_it_after_commit(db, django_capture_on_commit_callbacks):
    heard = []
    events.subscribe(ORGANIZATION_CREATED, heard.extend)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            organization = create_organization(UserFactory(), name="Fresh Charging")
            assert heard == []
        for callback in callbacks:
            callback()
    finally:
        events.unsubscribe(ORGANIZATION_CREATED, heard.extend)
    assert [event.data for event in heard] == [{"organization_id": organization.pk}]
