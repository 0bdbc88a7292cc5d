"""The session admin: a bounded meter value inline, and edits that leave the gateway's
readings alone."""

from datetime import UTC, datetime, timedelta

from django.contrib import admin

from sessions_app.admin import METER_VALUES_SHOWN
from sessions_app.models import ChargingSession, MeterValue
from tests.admin.helpers import admin_url, changeform_data, write_during_request
from tests.factories import ChargingSessionFactory, IdTokenFactory

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def add_meter_values(session, count):
    MeterValue.objects.bulk_create(
        MeterValue(
            station=session.station,
            session=session,
            connector_number=session.connector.connector_id,
            timestamp=START + timedelta(minutes=minute),
            value=minute * 100,
        )
        for minute in range(count)
    )


def meter_value_formset(response):
    return next(
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is MeterValue
    )


def test_change_page_shows_only_the_newest_meter_values(superuser_client, station):
    session = ChargingSessionFactory(station=station)
    add_meter_values(session, METER_VALUES_SHOWN + 10)

    response = superuser_client.get(admin_url(session, "change"))

    shown = [form.instance.timestamp for form in meter_value_formset(response).forms]
    assert len(shown) == METER_VALUES_SHOWN
    assert shown[0] == START + timedelta(minutes=METER_VALUES_SHOWN + 9)
    assert shown == sorted(shown, reverse=True)
    assert START not in shown


def test_change_page_links_to_the_full_meter_value_list(superuser_client, station):
    session = ChargingSessionFactory(station=station)
    add_meter_values(session, METER_VALUES_SHOWN + 10)

    response = superuser_client.get(admin_url(session, "change"))

    page = response.content.decode()
    assert f"{admin_url(MeterValue, 'changelist')}?session__id__exact={session.pk}" in page
    assert f"All {METER_VALUES_SHOWN + 10} meter values" in page


def test_meter_value_list_filtered_by_session_lists_only_its_values(superuser_client, station):
    session = ChargingSessionFactory(station=station)
    other = ChargingSessionFactory(station=station, connector=station.connectors.last())
    add_meter_values(session, 3)
    add_meter_values(other, 2)

    response = superuser_client.get(
        admin_url(MeterValue, "changelist"), {"session__id__exact": session.pk}
    )

    assert response.status_code == 200
    assert {value.session_id for value in response.context["cl"].result_list} == {session.pk}
    assert len(response.context["cl"].result_list) == 3


def test_saving_a_session_keeps_the_energy_the_gateway_writes_during_the_request(
    superuser_client, station, monkeypatch
):
    session = ChargingSessionFactory(station=station)
    add_meter_values(session, 3)
    data = changeform_data(superuser_client.get(admin_url(session, "change")))
    write_during_request(
        monkeypatch,
        admin.site._registry[ChargingSession],
        lambda: ChargingSession.objects.filter(pk=session.pk).update(
            energy_wh=4200, last_power_w=11000
        ),
    )

    response = superuser_client.post(admin_url(session, "change"), data)

    session.refresh_from_db()
    assert response.status_code == 302
    assert session.energy_wh == 4200
    assert session.last_power_w == 11000


def test_stop_billing_asks_for_a_reason_first(superuser_client, station):
    session = ChargingSessionFactory(station=station)
    response = superuser_client.post(
        admin_url(ChargingSession, "changelist"),
        {"action": "stop_billing", "_selected_action": [session.pk]},
    )
    assert response.status_code == 200
    assert b'name="reason"' in response.content
    session.refresh_from_db()
    assert not session.billing_stopped


def test_stop_billing_records_who_stopped_it_and_why(superuser_client, station):
    session = ChargingSessionFactory(station=station)
    response = superuser_client.post(
        admin_url(ChargingSession, "changelist"),
        {
            "action": "stop_billing",
            "_selected_action": [session.pk],
            "apply": "yes",
            "reason": "Faulty cable, goodwill",
        },
    )
    session.refresh_from_db()
    assert response.status_code == 302
    assert (session.billing_stopped, session.billable) == (True, False)
    assert session.billing_stopped_by.username == "support"
    assert session.billing_stopped_reason == "Faulty cable, goodwill"
    assert session.billing_stopped_at is not None


def test_billing_flags_are_not_edited_by_hand(superuser_client, station):
    session = ChargingSessionFactory(station=station)
    data = changeform_data(superuser_client.get(admin_url(session, "change")))
    assert "billing_stopped" not in data and "billable" not in data


def test_card_of_another_organization_is_refused(superuser_client, station, other_org):
    session = ChargingSessionFactory(station=station)
    foreign_card = IdTokenFactory(organization=other_org)
    data = changeform_data(superuser_client.get(admin_url(session, "change")))
    data["id_token"] = foreign_card.pk

    response = superuser_client.post(admin_url(session, "change"), data)

    session.refresh_from_db()
    assert response.status_code == 200
    assert "id_token" in response.context["adminform"].form.errors
    assert session.id_token is None


def test_measured_fields_are_not_editable(superuser_client, station):
    session = ChargingSessionFactory(station=station)

    response = superuser_client.get(admin_url(session, "change"))

    form = response.context["adminform"].form
    for name in ("energy_wh", "meter_start", "meter_stop", "state", "start", "stop"):
        assert name not in form.fields
