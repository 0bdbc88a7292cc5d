"""Portal: apply a configuration baseline to stations (the buttons of the baseline's page).

The baseline pages are the baselines app's; sending is the gateway's, so the apply action is
this view, which renders the same page again when the choice is wrong.
"""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from baselines import services
from baselines.choices import RunTrigger
from baselines.views import BaselineDetailView, baseline_url
from ocpp_gateway.choices import RequestedVia
from ocpp_gateway.remote.baselines import apply_in_background
from ocpp_gateway.remote.registry import Actor
from organizations.choices import Role
from stations.models import ChargingStation


class BaselineApplyView(BaselineDetailView):
    """POST: apply the baseline to the stations ticked, or to every drifting one (operators)."""

    required_role = Role.OPERATOR
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.object = baseline = self.get_object()
        if request.POST.get("drifting"):
            stations, trigger = list(services.drifting_stations(baseline)), RunTrigger.BULK
            if not stations:
                return self.refuse(_("No station drifts from this baseline."))
        else:
            ids = [value for value in request.POST.getlist("station") if value.isdigit()]
            if not ids:
                return self.refuse(_("Choose at least one station."))
            stations = [
                station
                for station in ChargingStation.objects.for_org(self.organization).filter(pk__in=ids)
                if services.applies_to(baseline, station)
            ]
            if len(stations) != len(set(ids)):
                return self.refuse(_("Choose stations of the baseline's vendor and model."))
            trigger = RunTrigger.MANUAL if len(stations) == 1 else RunTrigger.BULK
        actor = Actor(user=request.user, role=self.membership.role, via=RequestedVia.USER)
        apply_in_background(baseline, stations, actor, trigger=trigger)
        messages.success(
            request,
            ngettext(
                "Sending the baseline to %(n)d station.",
                "Sending the baseline to %(n)d stations.",
                len(stations),
            )
            % {"n": len(stations)},
        )
        return HttpResponseRedirect(baseline_url(baseline) + "#runs")

    def refuse(self, message: str):
        context = self.get_context_data(object=self.object, apply_error=message)
        return self.render_to_response(context, status=400)
