"""Matrix rows of the cards API: access groups, id tokens, block/unblock, CSV import."""

from django.core.files.uploadedfile import SimpleUploadedFile

from organizations.choices import Role
from tests.api.matrix import Endpoint
from tests.factories import AccessGroupFactory, IdTokenFactory


def more_groups(world, n):
    # Each with a card, a site and a station, so every prefetch has rows to fetch.
    for _ in range(n):
        group = AccessGroupFactory(organization=world.org)
        IdTokenFactory(organization=world.org, access_groups=[group])
        group.sites.add(world.site)
        group.stations.add(world.station)


def more_tokens(world, n):
    for _ in range(n):
        IdTokenFactory(organization=world.org, access_groups=[world.access_group])


def group_url(suffix=""):
    return lambda w: f"/api/v1/access-groups/{w.access_group.pk}/{suffix}"


def token_url(suffix=""):
    return lambda w: f"/api/v1/id-tokens/{w.id_token.pk}/{suffix}"


def group_body(w):
    return {
        "name": "Staff and guests",
        "description": "Everybody",
        "sites": [w.site.pk],
        "stations": [w.station.pk],
    }


def token_body(w):
    return {
        "uid": w.id_token.uid,
        "type": "ISO14443",
        "label": "Fleet 1",
        "holder_name": "Erika",
        "status": "Accepted",
        "access_groups": [w.access_group.pk],
    }


def import_body(w):
    content = f"uid,label,access_groups\n04IMPORT01,Imported,{w.access_group.name}\n"
    return {"file": SimpleUploadedFile("cards.csv", content.encode(), content_type="text/csv")}


ENDPOINTS = [
    Endpoint(
        "accessgroup-list",
        "get",
        lambda w: "/api/v1/access-groups/",
        Role.VIEWER,
        ours=lambda w: w.access_group.pk,
        more=more_groups,
    ),
    Endpoint(
        "organization-accessgroup-list",
        "get",
        lambda w: f"/api/v1/organizations/{w.org.pk}/access-groups/",
        Role.VIEWER,
        more=more_groups,
    ),
    Endpoint(
        "organization-accessgroup-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/access-groups/",
        Role.ADMIN,
        body=lambda w: {"name": "Night shift", "sites": [w.site.pk]},
        ok=(201,),
    ),
    Endpoint("accessgroup-detail", "get", group_url(), Role.VIEWER),
    Endpoint("accessgroup-detail", "put", group_url(), Role.ADMIN, body=group_body),
    Endpoint(
        "accessgroup-detail",
        "patch",
        group_url(),
        Role.ADMIN,
        body=lambda w: {"description": "Staff cards"},
    ),
    Endpoint("accessgroup-detail", "delete", group_url(), Role.ADMIN, ok=(204,)),
    Endpoint(
        "accessgroup-add-cards",
        "post",
        group_url("add-cards/"),
        Role.OPERATOR,
        body=lambda w: {"uids": [w.id_token.uid]},
    ),
    Endpoint(
        "accessgroup-remove-cards",
        "post",
        group_url("remove-cards/"),
        Role.OPERATOR,
        body=lambda w: {"uids": [w.id_token.uid]},
    ),
    Endpoint(
        "idtoken-list",
        "get",
        lambda w: "/api/v1/id-tokens/",
        Role.VIEWER,
        ours=lambda w: w.id_token.pk,
        more=more_tokens,
    ),
    Endpoint(
        "organization-idtoken-list",
        "get",
        lambda w: f"/api/v1/organizations/{w.org.pk}/id-tokens/",
        Role.VIEWER,
        more=more_tokens,
    ),
    Endpoint(
        "organization-idtoken-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/id-tokens/",
        Role.OPERATOR,
        body=lambda w: {"uid": "04NEW0001", "access_groups": [w.access_group.pk]},
        ok=(201,),
    ),
    Endpoint("idtoken-detail", "get", token_url(), Role.VIEWER),
    Endpoint("idtoken-detail", "put", token_url(), Role.OPERATOR, body=token_body),
    Endpoint(
        "idtoken-detail",
        "patch",
        token_url(),
        Role.OPERATOR,
        body=lambda w: {"label": "Lost"},
    ),
    Endpoint("idtoken-detail", "delete", token_url(), Role.OPERATOR, ok=(204,)),
    Endpoint("idtoken-block", "post", token_url("block/"), Role.OPERATOR),
    Endpoint("idtoken-unblock", "post", token_url("unblock/"), Role.OPERATOR),
    Endpoint(
        "organization-idtoken-import-list",
        "post",
        lambda w: f"/api/v1/organizations/{w.org.pk}/id-tokens/import/",
        Role.OPERATOR,
        body=import_body,
        format="multipart",
    ),
]
