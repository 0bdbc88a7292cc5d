"""Portal page of a station's events: what its monitors raised and its security events."""

from django.views.generic import ListView

from stations.filtersets import StationEventFilterSet
from stations.station_events import events_of
from stations.views import StationMixin


class StationEventListView(StationMixin, ListView):
    """A station's events and security events, newest first, by kind, severity and cleared."""

    template_name = "stations/station_event_list.html"
    context_object_name = "events"
    paginate_by = 50

    def get_queryset(self):
        # A value the filters do not know is shown as the form's error and filters nothing.
        self.filterset = StationEventFilterSet(
            self.request.GET or None, queryset=events_of(self.get_station())
        )
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filtered = any(self.request.GET.get(name) for name in self.filterset.filters)
        context.update(filterset=self.filterset, filtered=filtered)
        return context
