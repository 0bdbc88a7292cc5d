"""OCPI 2.2.1 Sessions, sender interface of our CPO role: partners' drivers charging with us.

A partner sees only the sessions of its own drivers (`roaming_partner`). The outbox key is
the session's id: the whole Session is PUT when it starts, when it ends and whenever the
partner never had it; while it runs, its kWh, periods and cost are PATCHed (every few
minutes, by roaming.tasks.push_active_sessions).
"""

from django.db.models import Prefetch
from django.urls import path

from billing.choices import CdrKind
from billing.models import ChargeDetailRecord
from roaming.choices import InterfaceRole, Module, PushStatus
from roaming.models import OcpiPush, RoamingPartner
from roaming.ocpi import push
from roaming.ocpi.client import module_url
from roaming.ocpi.push import token_party
from roaming.ocpi.server import OcpiView, paginate
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.mapping import cpo_party, session_to_ocpi, token_of, tokens_by_uid
from sessions_app.choices import SessionState
from sessions_app.models import ChargingSession

# What a PATCH of a running session carries (OCPI: last_updated always).
RUNNING_FIELDS = ("kwh", "charging_periods", "total_cost", "status", "last_updated")


def sessions_of(partner: RoamingPartner):
    """The sessions of the partner's drivers at our stations, ready to map."""
    return (
        ChargingSession.objects.filter(
            organization_id=partner.organization_id, roaming_partner=partner
        )
        .select_related(
            "organization", "station", "connector__evse", "remote_start", "roaming_partner__tariff"
        )
        .prefetch_related(
            Prefetch(
                "cdrs",
                queryset=ChargeDetailRecord.objects.filter(kind=CdrKind.CHARGE),
                to_attr="charge_records",
            )
        )
        .order_by("pk")
    )


class SessionsView(OcpiView):
    """GET the partner's sessions, paginated, filtered on last_updated."""

    module = Module.SESSIONS
    http_method_names = ["get"]

    def get(self, request):
        cpo_party(self.profile)
        answer = paginate(request, sessions_of(self.partner), lambda row: row, date_field="updated")
        tokens = tokens_by_uid(self.partner, [session.id_tag for session in answer.data])
        answer.data = [
            session_to_ocpi(session, self.profile, self.partner, token_of(tokens, session.id_tag))
            for session in answer.data
        ]
        return answer


def build_push(owed: OcpiPush, profile) -> push.Call | None:
    """The session as it stands: PUT whole, or PATCHed while running once the partner has it."""
    if not profile.cpo_enabled:
        return None
    partner = owed.partner
    session = sessions_of(partner).filter(pk=int(owed.object_key)).first()
    if session is None:
        return None
    body = schemas.check("Session", session_to_ocpi(session, profile, partner))
    base = partner.endpoint(Module.SESSIONS, InterfaceRole.RECEIVER)
    url = module_url(base, profile.country_code, profile.party_id, session.pk)
    if session.state == SessionState.ACTIVE and _sent_before(owed):
        patch = {key: body[key] for key in RUNNING_FIELDS if key in body}
        patch = schemas.check("Session", patch, partial=True)
        return push.Call("PATCH", url, patch, to_party=token_party(body))
    return push.Call("PUT", url, body, to_party=token_party(body))


def _sent_before(owed: OcpiPush) -> bool:
    """Whether the partner already has the session (a push of it went through)."""
    return OcpiPush.objects.filter(
        partner=owed.partner,
        module=Module.SESSIONS,
        object_key=owed.object_key,
        status=PushStatus.SENT,
    ).exists()


push.register_builder(Module.SESSIONS, build_push)

urlpatterns = [path("", SessionsView.as_view(), name="cpo-sessions")]
