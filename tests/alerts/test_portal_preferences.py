"""My notifications: each member sets which alerts of the organization are mailed to them."""

import pytest

from alerts.choices import Severity
from alerts.models import NotificationPreference
from organizations.choices import Role
from organizations.models import Membership
from tests.apiclients import member
from tests.factories import SiteFactory
from tests.portalclients import ROLES, org_url

pytestmark = pytest.mark.django_db

PAGE = "alerts/preferences/"


@pytest.fixture
def viewer(org, client):
    user = member((org, Role.VIEWER))
    client.force_login(user)
    client.user = user
    return client


def preference_data(**changes):
    data = {
        "email_enabled": "on",
        "min_severity": Severity.MEDIUM,
        "digest_below": Severity.MEDIUM,
        "notify_resolved": "on",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_every_member_may_set_their_own_notifications(org, client, role):
    user = member((org, role))
    client.force_login(user)
    response = client.post(org_url(org, PAGE), preference_data())
    assert response.status_code == 302
    assert NotificationPreference.objects.get(membership__user=user).min_severity == "medium"


def test_the_page_shows_the_defaults_and_stores_nothing_until_saved(viewer, org):
    response = viewer.get(org_url(org, PAGE))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["min_severity"].value() == Severity.HIGH
    assert form["email_enabled"].value() is True
    assert not NotificationPreference.objects.exists()


def test_a_member_narrows_their_mails_to_sites_of_the_organization(viewer, org):
    depot = SiteFactory(organization=org, name="Depot")
    SiteFactory(organization=org, name="Harbour")
    viewer.post(org_url(org, PAGE), preference_data(sites=[depot.pk], notify_resolved=""))
    preference = NotificationPreference.objects.get(membership__user=viewer.user)
    assert list(preference.sites.all()) == [depot]
    assert preference.notify_resolved is False


def test_saving_again_changes_the_same_preference(viewer, org):
    viewer.post(org_url(org, PAGE), preference_data())
    viewer.post(org_url(org, PAGE), preference_data(min_severity=Severity.CRITICAL))
    preference = NotificationPreference.objects.get()
    assert preference.min_severity == Severity.CRITICAL


def test_another_organizations_site_is_refused(viewer, org, other_org):
    foreign = SiteFactory(organization=other_org, name="Outside")
    response = viewer.post(org_url(org, PAGE), preference_data(sites=[foreign.pk]))
    assert response.status_code == 400
    assert "sites" in response.context["form"].errors
    assert "Outside" not in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_the_site_choices_are_the_organizations_only(viewer, org, other_org):
    SiteFactory(organization=org, name="Depot")
    SiteFactory(organization=other_org, name="Outside")
    body = viewer.get(org_url(org, PAGE)).content.decode()
    assert "Depot" in body
    assert "Outside" not in body


def test_a_member_of_two_organizations_keeps_one_preference_in_each(org, other_org, client):
    user = member((org, Role.VIEWER), (other_org, Role.VIEWER))
    client.force_login(user)
    client.post(org_url(org, PAGE), preference_data(min_severity=Severity.LOW))
    client.post(org_url(other_org, PAGE), preference_data(min_severity=Severity.CRITICAL))
    chosen = dict(
        NotificationPreference.objects.values_list("membership__organization", "min_severity")
    )
    assert chosen == {org.pk: Severity.LOW, other_org.pk: Severity.CRITICAL}


def test_an_outsider_cannot_open_or_write_our_preferences_page(org, other_org, client):
    outsider = member((other_org, Role.OWNER))
    client.force_login(outsider)
    assert client.get(org_url(org, PAGE)).status_code == 404
    assert client.post(org_url(org, PAGE), preference_data()).status_code == 404
    assert not NotificationPreference.objects.filter(
        membership__in=Membership.objects.filter(organization=org)
    ).exists()
