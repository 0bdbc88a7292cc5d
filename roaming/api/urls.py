"""Routes of the roaming API (included under /api/v1/)."""

from core.api.routers import OrganizationRouter, TenantRouter
from roaming.api.commands import PartnerCommandViewSet
from roaming.api.received import (
    PartnerCdrViewSet,
    PartnerInvoiceViewSet,
    PartnerLocationViewSet,
    PartnerSessionViewSet,
    PartnerTariffViewSet,
)
from roaming.api.tariffs import urlpatterns as tariff_patterns
from roaming.api.views import (
    OrganizationRoamingProfileViewSet,
    RoamingActivityViewSet,
    RoamingPartnerViewSet,
    RoamingProfileViewSet,
)

router = TenantRouter()
# First: the API root lists a prefix by its last registration, the partners' list.
router.register("roaming-partners", PartnerInvoiceViewSet, basename="roamingpartnerinvoice")
router.register("roaming-partners", PartnerCommandViewSet, basename="roamingpartnercommand")
router.register("roaming-partners", RoamingPartnerViewSet, basename="roamingpartner")
router.register("roaming-activity", RoamingActivityViewSet, basename="roamingactivity")
router.register("roaming-profiles", RoamingProfileViewSet, basename="roamingprofile")
# Our eMSP role: what CPO partners sent us, and their invoices.
router.register("partner-sessions", PartnerSessionViewSet, basename="partnersession")
router.register("partner-cdrs", PartnerCdrViewSet, basename="partnercdr")
router.register("partner-locations", PartnerLocationViewSet, basename="partnerlocation")
router.register("partner-tariffs", PartnerTariffViewSet, basename="partnertariff")
org_router = OrganizationRouter()
org_router.register("roaming-partners", RoamingPartnerViewSet, basename="roamingpartner")
org_router.register(
    "roaming-profiles", OrganizationRoamingProfileViewSet, basename="roamingprofile"
)

urlpatterns = router.urls + org_router.urls + tariff_patterns
