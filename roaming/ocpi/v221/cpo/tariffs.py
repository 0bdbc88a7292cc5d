"""OCPI 2.2.1 Tariffs, sender interface of our CPO role: the tariff published to each partner.

A partner sees one tariff at most, the one set on it (`RoamingPartner.tariff`): its drivers'
sessions are priced by it. The outbox key is the tariff's id: PUT while it is the partner's,
DELETE once the partner was given another one (or none).
"""

from django.urls import path

from billing.models import Tariff
from roaming.choices import InterfaceRole, Module
from roaming.models import OcpiPush
from roaming.ocpi import push
from roaming.ocpi.client import module_url
from roaming.ocpi.server import OcpiView, paginate
from roaming.ocpi.v221 import schemas
from roaming.ocpi.v221.mapping import cpo_party, tariff_for_partner


class TariffsView(OcpiView):
    """GET the tariffs published to the partner, paginated, filtered on last_updated."""

    module = Module.TARIFFS
    http_method_names = ["get"]

    def get(self, request):
        cpo_party(self.profile)
        tariffs = Tariff.objects.filter(
            organization=self.organization, pk=self.partner.tariff_id
        ).order_by("pk")
        return paginate(
            request,
            tariffs,
            lambda tariff: tariff_for_partner(tariff, self.profile),
            date_field="updated",
        )


def build_push(owed: OcpiPush, profile) -> push.Call | None:
    """PUT the partner's tariff, or DELETE one it no longer has."""
    if not profile.cpo_enabled:
        return None
    partner = owed.partner
    base = partner.endpoint(Module.TARIFFS, InterfaceRole.RECEIVER)
    url = module_url(base, profile.country_code, profile.party_id, owed.object_key)
    if str(partner.tariff_id) != owed.object_key:
        return push.Call("DELETE", url)
    tariff = Tariff.objects.filter(
        organization_id=partner.organization_id, pk=partner.tariff_id
    ).first()
    if tariff is None:
        return None
    body = schemas.check("Tariff", tariff_for_partner(tariff, profile))
    return push.Call("PUT", url, body)


push.register_builder(Module.TARIFFS, build_push)

urlpatterns = [path("", TariffsView.as_view(), name="cpo-tariffs")]
