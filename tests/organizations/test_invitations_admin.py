"""The Django admin of invitations: support staff read them and may only revoke them."""

import pytest

from organizations.choices import InvitationStatus
from tests.factories import OrganizationFactory, make_invitation

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/organizations/invitation/"


def test_support_staff_revoke_pending_invitations_only(superuser_client):
    pending, _token = make_invitation(OrganizationFactory(), "a@example.com")
    declined, _token = make_invitation(
        OrganizationFactory(), "b@example.com", status=InvitationStatus.DECLINED
    )
    response = superuser_client.post(
        CHANGELIST, {"action": "revoke", "_selected_action": [pending.pk, declined.pk]}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    declined.refresh_from_db()
    assert pending.status == InvitationStatus.REVOKED
    assert declined.status == InvitationStatus.DECLINED


def test_support_staff_cannot_add_or_edit_invitations_nor_see_the_token_hash(superuser_client):
    invitation, _token = make_invitation(OrganizationFactory(), "a@example.com")
    assert superuser_client.get(f"{CHANGELIST}add/").status_code == 403
    page = superuser_client.get(f"{CHANGELIST}{invitation.pk}/change/")
    assert page.status_code == 200
    assert invitation.token_hash not in page.content.decode()
    superuser_client.post(f"{CHANGELIST}{invitation.pk}/change/", {"role": "owner"})
    invitation.refresh_from_db()
    assert invitation.role == "viewer"
