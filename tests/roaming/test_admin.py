"""The roaming admin: the partner's write-only credentials token and published tariff, every
roaming model's pages, the OCPI exchange log, and retrying failed pushes."""

from datetime import UTC, datetime

from django.apps import apps
from django.contrib import admin

from roaming.models import (
    ModuleSync,
    OcpiExchange,
    OcpiPush,
    PartnerCdr,
    PartnerLocation,
    PartnerSession,
    PartnerTariff,
    RoamingActivity,
    RoamingCommand,
    RoamingPartner,
    RoamingProfile,
    RoamingToken,
)
from roaming.ocpi import push, tokens
from tests.admin.helpers import admin_url, changeform_data
from tests.factories import SiteFactory, TariffFactory

PARTNER_TOKEN = "partner-token-0123456789abcdef"


def make_partner(org):
    return RoamingPartner.objects.create(
        organization=org,
        name="Hubject",
        country_code="DE",
        party_id="HBS",
        credentials_token=PARTNER_TOKEN,
    )


def test_partner_page_never_shows_the_credentials_token(superuser_client, org):
    partner = make_partner(org)

    response = superuser_client.get(admin_url(partner, "change"))

    page = response.content.decode()
    assert "credentials_token" not in response.context["adminform"].form.fields
    assert PARTNER_TOKEN not in page
    assert "ending in …cdef" in page


def test_new_credentials_token_replaces_the_old_one(superuser_client, org):
    partner = make_partner(org)
    data = changeform_data(superuser_client.get(admin_url(partner, "change")))
    data["new_credentials_token"] = "a-new-token-from-the-partner"

    response = superuser_client.post(admin_url(partner, "change"), data)

    partner.refresh_from_db()
    assert response.status_code == 302
    assert partner.credentials_token == "a-new-token-from-the-partner"


def test_blank_credentials_token_field_keeps_the_token(superuser_client, org):
    partner = make_partner(org)
    data = changeform_data(superuser_client.get(admin_url(partner, "change")))
    data["status"] = "active"

    response = superuser_client.post(admin_url(partner, "change"), data)

    partner.refresh_from_db()
    assert response.status_code == 302
    assert partner.status == "active"
    assert partner.credentials_token == PARTNER_TOKEN


def test_a_partner_gets_a_tariff_of_its_organization_to_publish(superuser_client, org):
    partner = make_partner(org)
    tariff = TariffFactory(organization=org)
    data = changeform_data(superuser_client.get(admin_url(partner, "change")))
    data["tariff"] = tariff.pk

    response = superuser_client.post(admin_url(partner, "change"), data)

    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.tariff == tariff


def test_a_tariff_of_another_organization_is_refused_for_a_partner(
    superuser_client, org, other_org
):
    partner = make_partner(org)
    theirs = TariffFactory(organization=other_org, name="Foreign")
    data = changeform_data(superuser_client.get(admin_url(partner, "change")))
    data["tariff"] = theirs.pk

    response = superuser_client.post(admin_url(partner, "change"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "tariff": ["“Foreign (EUR)” belongs to another organization."]
    }
    partner.refresh_from_db()
    assert partner.tariff is None


# --- every roaming model renders; the exchange log; pushes retried -----------------------------

WHEN = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def partner_object(model, partner, ocpi_id="OBJ1", **fields):
    return model.objects.create(
        organization=partner.organization,
        partner=partner,
        country_code="DE",
        party_id="HBS",
        ocpi_id=ocpi_id,
        last_updated=WHEN,
        data={"id": ocpi_id},
        **fields,
    )


def build_roaming_rows(org):
    """One row of every roaming model."""
    partner = make_partner(org)
    site = SiteFactory(organization=org)
    return [
        RoamingProfile.objects.create(organization=org, country_code="DE", party_id="ABC"),
        partner,
        RoamingActivity.objects.create(
            organization=org, partner=partner, site=site, location_id=str(site.pk), date=WHEN
        ),
        partner_object(RoamingToken, partner, uid="04AA", type="RFID", contract_id="C1"),
        partner_object(PartnerLocation, partner, name="Zuidas"),
        partner_object(PartnerTariff, partner, currency="EUR"),
        partner_object(PartnerSession, partner, start=WHEN),
        partner_object(PartnerCdr, partner, start=WHEN, end=WHEN, currency="EUR"),
        RoamingCommand.objects.create(
            organization=org,
            partner=partner,
            command="START_SESSION",
            request={"response_url": "https://partner.example/r"},
            response_url="https://partner.example/r",
        ),
        OcpiPush.objects.create(organization=org, partner=partner, module="cdrs", object_key="1"),
        ModuleSync.objects.create(organization=org, partner=partner, module="cdrs"),
        OcpiExchange.objects.create(
            organization=org,
            partner=partner,
            direction="out",
            module="cdrs",
            method="POST",
            url="https://partner.example/cdrs",
            request_body='{"id": "CDR-17"}',
            http_status=200,
            ocpi_status=1000,
            response_body='{"status_code": 1000}',
        ),
    ]


def test_every_roaming_model_has_an_admin():
    roaming_models = set(apps.get_app_config("roaming").get_models())
    assert roaming_models <= set(admin.site._registry)


def test_every_roaming_admin_page_lists_and_shows_its_row(superuser_client, org):
    for obj in build_roaming_rows(org):
        changelist = superuser_client.get(admin_url(obj, "changelist"))
        assert changelist.status_code == 200, type(obj).__name__
        assert admin_url(obj, "change") in changelist.content.decode(), type(obj).__name__
        change = superuser_client.get(admin_url(obj, "change"))
        assert change.status_code == 200, type(obj).__name__


def test_system_written_roaming_rows_are_view_only(superuser_client, org):
    editable = {RoamingProfile, RoamingPartner}
    for obj in build_roaming_rows(org):
        response = superuser_client.get(admin_url(obj, "change"))
        assert response.context["has_change_permission"] is (type(obj) in editable)


def test_the_exchange_log_shows_both_bodies_and_its_retention(superuser_client, org, settings):
    settings.OCPI_LOG_RETENTION_DAYS = 14
    exchange = next(o for o in build_roaming_rows(org) if isinstance(o, OcpiExchange))
    changelist = superuser_client.get(admin_url(exchange, "changelist")).content.decode()
    assert "Kept for 14 days (OCPI_LOG_RETENTION_DAYS)" in changelist
    page = superuser_client.get(admin_url(exchange, "change")).content.decode()
    assert "&quot;id&quot;: &quot;CDR-17&quot;" in page
    assert "&quot;status_code&quot;: 1000" in page


def test_the_exchange_log_is_searched_by_body(superuser_client, org):
    exchange = next(o for o in build_roaming_rows(org) if isinstance(o, OcpiExchange))
    OcpiExchange.objects.create(
        organization=org, direction="in", method="GET", url="https://x.example/other"
    )
    response = superuser_client.get(admin_url(exchange, "changelist"), {"q": "CDR-17"})
    assert list(response.context["cl"].result_list) == [exchange]


def test_the_exchange_log_filters_by_direction_and_module(superuser_client, org):
    exchange = next(o for o in build_roaming_rows(org) if isinstance(o, OcpiExchange))
    OcpiExchange.objects.create(organization=org, direction="in", module="tokens", method="GET")
    response = superuser_client.get(
        admin_url(exchange, "changelist"), {"direction": "out", "module": "cdrs"}
    )
    assert list(response.context["cl"].result_list) == [exchange]


def test_support_retries_a_failed_push_from_the_admin(
    superuser_client, org, monkeypatch, django_capture_on_commit_callbacks
):
    partner = make_partner(org)
    partner.status = "active"
    partner.save()
    sent = []
    monkeypatch.setattr(push, "deliver", lambda push_id: sent.append(push_id) or "sent")
    failed = OcpiPush.objects.create(
        organization=org, partner=partner, module="cdrs", object_key="1", status="failed"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            admin_url(OcpiPush, "changelist"),
            {"action": "retry_now", "_selected_action": [failed.pk]},
            follow=True,
        )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert failed.status == "pending"
    assert sent == [failed.pk]


def test_the_partner_page_shows_the_registration_read_only_and_no_token(superuser_client, org):
    partner = make_partner(org)
    partner.version = "2.2.1"
    partner.incoming_token_hash = tokens.token_hash("our-token-9f3e")
    partner.incoming_token_hint = "9f3e"
    partner.endpoints = [{"identifier": "cdrs", "role": "RECEIVER", "url": "https://p.example/c"}]
    partner.save()
    response = superuser_client.get(admin_url(partner, "change"))
    page = response.content.decode()
    fields = response.context["adminform"].form.fields
    assert not {"version", "endpoints", "roles", "incoming_token_hash"} & set(fields)
    assert "https://p.example/c" in page
    assert "ending in …9f3e" in page
    assert "our-token-9f3e" not in page
    assert partner.incoming_token_hash not in page
