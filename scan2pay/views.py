"""Scan2Pay pages: the public page of a connector, and the operator's sticker sheet of a site."""

from django.conf import settings
from django.db.models import Prefetch
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from organizations.choices import Role
from scan2pay.prices import price_words
from scan2pay.qr import pay_path, pay_url, qr_svg
from scan2pay.selectors import pay_status, payable_tariff, scan2pay_connector
from stations.models import ChargingStation, Connector
from stations.site_views import SiteTabView

PAGE_TEMPLATE = "scan2pay/page.html"


@method_decorator(never_cache, name="dispatch")
class PayPageView(View):
    """A connector's public page (no login): which charger, its status, the price in words."""

    def get(self, request, pay_code):
        connector = scan2pay_connector(pay_code)
        if connector is None:
            # An unknown code and a site with Scan2Pay off answer the same page: nothing about
            # the organization, the site or whether the code exists is told.
            return render(request, PAGE_TEMPLATE, {"connector": None}, status=404)
        station = connector.station
        tariff = payable_tariff(connector)
        price = (
            price_words(tariff, station.organization.timezone, power_kw=connector.max_power_kw)
            if tariff
            else None
        )
        context = {
            "connector": connector,
            "station": station,
            "site": station.site,
            "status": pay_status(connector),
            "tariff": tariff if price else None,
            "price": price,
        }
        return render(request, PAGE_TEMPLATE, context)


class StickerSheetView(SiteTabView):
    """Scan2Pay stickers of a site, to print: one per connector, with its QR code and code."""

    template_name = "scan2pay/stickers.html"
    required_role = Role.OPERATOR
    site_kwarg = "pk"
    tab = "stickers"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        connectors = Connector.objects.select_related("evse").order_by("connector_id")
        stations = (
            ChargingStation.objects.for_org(self.organization)
            .filter(site=self.get_site())
            .order_by("ocpp_id")
            .prefetch_related(Prefetch("connectors", queryset=connectors))
        )
        stickers = []
        # With Scan2Pay off the pages answer 404: no sticker is printed for them.
        for station in stations if self.get_site().scan2pay_enabled else ():
            for connector in station.connectors.all():
                url = pay_url(connector)
                stickers.append(
                    {
                        "station": station,
                        "connector": connector,
                        "url": url,
                        "short_url": url.split("://", 1)[1],
                        "qr": qr_svg(url, title=url),
                        "path": pay_path(connector),
                    }
                )
        context.update(stickers=stickers, base_url=settings.PORTAL_BASE_URL)
        return context
