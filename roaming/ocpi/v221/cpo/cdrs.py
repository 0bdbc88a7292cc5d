"""OCPI 2.2.1 CDRs, sender interface of our CPO role: what partners' drivers' sessions cost.

A CDR is our charge record of a partner's driver's session, priced by billing with the tariff
published to that partner; a partner sees only its own. It is POSTed once when billing writes
it (outbox key: the record's id; a failed POST is retried, and receivers treat a repeat as
the same CDR).
"""

from django.urls import path

from billing.choices import CdrKind
from billing.models import ChargeDetailRecord
from roaming.choices import InterfaceRole, Module
from roaming.models import OcpiPush, RoamingPartner
from roaming.ocpi import push
from roaming.ocpi.push import token_party
from roaming.ocpi.server import OcpiView, paginate
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.mapping import cdr_to_ocpi, cpo_party, token_of, tokens_by_uid


def cdrs_of(partner: RoamingPartner):
    """The charge records of the partner's drivers' sessions, ready to map."""
    return (
        ChargeDetailRecord.objects.filter(
            organization_id=partner.organization_id,
            roaming_partner=partner,
            kind=CdrKind.CHARGE,
            session__stop__isnull=False,
        )
        .select_related(
            "session__station__site", "session__connector__evse", "session__remote_start"
        )
        .order_by("pk")
    )


class CdrsView(OcpiView):
    """GET the partner's CDRs, paginated, filtered on last_updated (when written)."""

    module = Module.CDRS
    http_method_names = ["get"]

    def get(self, request):
        cpo_party(self.profile)
        answer = paginate(request, cdrs_of(self.partner), lambda row: row, date_field="created")
        tokens = tokens_by_uid(self.partner, [cdr.session.id_tag for cdr in answer.data])
        answer.data = [
            cdr_to_ocpi(cdr, self.profile, self.partner, token_of(tokens, cdr.session.id_tag))
            for cdr in answer.data
        ]
        return answer


def build_push(owed: OcpiPush, profile) -> push.Call | None:
    """The CDR, POSTed to the partner's CDRs receiver."""
    if not profile.cpo_enabled:
        return None
    partner = owed.partner
    record = cdrs_of(partner).filter(pk=int(owed.object_key)).first()
    if record is None:
        return None
    body = schemas.check("CDR", cdr_to_ocpi(record, profile, partner))
    url = partner.endpoint(Module.CDRS, InterfaceRole.RECEIVER)
    return push.Call("POST", url, body, to_party=token_party(body))


push.register_builder(Module.CDRS, build_push)

urlpatterns = [path("", CdrsView.as_view(), name="cpo-cdrs")]
