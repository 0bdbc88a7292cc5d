"""The card admin: uids stored upper-cased and unique regardless of case."""

from cards.models import IdToken
from tests.admin.helpers import admin_url
from tests.factories import IdTokenFactory


def test_card_uid_is_stored_upper_cased(superuser_client, org):
    response = superuser_client.post(
        admin_url(IdToken, "add"),
        {"organization": org.pk, "uid": " 04aabbcc ", "type": "ISO14443", "status": "Accepted"},
    )

    assert response.status_code == 302
    assert IdToken.objects.get().uid == "04AABBCC"


def test_card_uid_differing_only_in_case_is_a_duplicate(superuser_client, org):
    IdTokenFactory(organization=org, uid="04AABBCC")

    response = superuser_client.post(
        admin_url(IdToken, "add"),
        {"organization": org.pk, "uid": "04aabbcc", "type": "ISO14443", "status": "Accepted"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert IdToken.objects.count() == 1
