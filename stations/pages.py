"""What apps above stations add to station and site pages, registered in AppConfig.ready()."""

from collections.abc import Callable
from typing import Any

# A part is a piece of the page that refreshes itself (htmx, at parts/<name>/): its template,
# and a function (station, organization) answering its context, which the whole page gets too.
PartContext = Callable[[Any, Any], dict]
# A panel adds to the context of the station page as it is first shown: it is called with the
# page's view (stations.views.StationPageMixin). Model-free, so an AppConfig may import it.
StationPanel = Callable[[Any], dict]

# A site notice adds to the context of every tab of a site page: called with (site,
# organization), such as the cards app's warning that no card can charge at the site.
SiteNotice = Callable[[Any, Any], dict]

station_parts: dict[str, tuple[str, PartContext]] = {}
station_panels: list[StationPanel] = []
site_notices: list[SiteNotice] = []


def register_station_part(name: str, template_name: str, context: PartContext) -> None:
    """Serve `template_name` at the station page's parts/<name>/, and its context to the page."""
    station_parts[name] = (template_name, context)


def register_station_panel(panel: StationPanel) -> StationPanel:
    """Add `panel`'s context to every station page, after those registered before it."""
    if panel not in station_panels:
        station_panels.append(panel)
    return panel


def register_site_notice(notice: SiteNotice) -> SiteNotice:
    """Add `notice`'s context to every tab of every site page."""
    if notice not in site_notices:
        site_notices.append(notice)
    return notice
