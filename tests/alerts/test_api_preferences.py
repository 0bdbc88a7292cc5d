"""The caller's notification preferences over the API, one per organization they belong to."""

import pytest

from alerts.models import NotificationPreference
from organizations.choices import Role
from tests.apiclients import client_for, key_client, member
from tests.factories import SiteFactory, make_api_key

pytestmark = pytest.mark.django_db


def url(org):
    return f"/api/v1/organizations/{org.pk}/notification-preference/"


@pytest.fixture
def user(org):
    return member((org, Role.VIEWER))


def test_the_defaults_are_answered_before_anything_is_stored(org, user):
    response = client_for(user).get(url(org))
    assert response.status_code == 200
    assert response.data == {
        "organization": org.pk,
        "email_enabled": True,
        "min_severity": "high",
        "digest_below": "medium",
        "notify_resolved": False,
        "sites": [],
    }
    assert not NotificationPreference.objects.exists()


def test_a_member_replaces_their_preferences(org, user):
    site = SiteFactory(organization=org)
    response = client_for(user).put(
        url(org),
        {
            "email_enabled": True,
            "min_severity": "low",
            "digest_below": "high",
            "notify_resolved": True,
            "sites": [site.pk],
        },
        format="json",
    )
    assert response.status_code == 200, response.data
    stored = NotificationPreference.objects.get(membership__user=user)
    assert (stored.min_severity, stored.digest_below, stored.notify_resolved) == (
        "low",
        "high",
        True,
    )
    assert list(stored.sites.all()) == [site]
    assert response.data["sites"] == [site.pk]


def test_a_patch_changes_one_field_and_keeps_the_rest(org, user):
    client = client_for(user)
    client.patch(url(org), {"notify_resolved": True}, format="json")
    response = client.patch(url(org), {"email_enabled": False}, format="json")
    assert response.data["notify_resolved"] is True
    assert response.data["email_enabled"] is False
    assert NotificationPreference.objects.count() == 1


def test_an_invalid_body_is_a_field_error(org, other_org, user):
    foreign = SiteFactory(organization=other_org)
    response = client_for(user).patch(
        url(org), {"min_severity": "loud", "sites": [foreign.pk]}, format="json"
    )
    assert response.status_code == 400
    assert set(response.data) == {"min_severity", "sites"}
    assert not NotificationPreference.objects.exists()


def test_each_member_has_their_own(org, user):
    other = member((org, Role.OWNER))
    client_for(other).patch(url(org), {"min_severity": "critical"}, format="json")
    assert client_for(user).get(url(org)).data["min_severity"] == "high"


def test_an_outsider_gets_404_and_stores_nothing(org, other_org):
    outsider = client_for(member((other_org, Role.OWNER)))
    assert outsider.get(url(org)).status_code == 404
    assert outsider.patch(url(org), {"email_enabled": False}, format="json").status_code == 404
    assert not NotificationPreference.objects.exists()


def test_an_api_key_has_no_preferences(org):
    _key, secret = make_api_key(org, role=Role.ADMIN)
    assert key_client(secret).get(url(org)).status_code == 403
