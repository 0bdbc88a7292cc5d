"""Charts drawn on the server as inline SVG (pygal): no script, nothing loaded from elsewhere."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pygal
from pygal.style import Style

# The portal's palette (portal.css): brand blue, green and amber all pass WCAG AA on white.
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1c2430",
    foreground_strong="#1c2430",
    foreground_subtle="#d5dbe3",
    colors=("#0b5cad", "#156b2f", "#8a5200", "#5b2d8a"),
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
)

KINDS = {"bar": pygal.Bar, "line": pygal.Line}
# Beyond this many points on the x axis, only every MAJOR_EVERY-th label is drawn.
CROWDED = 31
MAJOR_EVERY = 7


@dataclass(frozen=True)
class Series:
    """One named row of values; None is a gap (a day without data)."""

    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its title, the inline SVG, and the same numbers as table rows."""

    title: str
    svg: str
    x_title: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]


def render_chart(
    kind: str,
    *,
    title: str,
    x_title: str,
    y_title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    formatter: Callable[[float], str],
) -> Chart:
    """A bar or line chart as inline SVG, with a table of the same numbers for screen readers."""
    crowded = len(labels) > CROWDED
    chart = KINDS[kind](
        style=STYLE,
        title=title,
        x_title=x_title,
        y_title=y_title,
        # pygal's default loads its tooltip script from a CDN: the portal loads nothing from
        # elsewhere, and the chart reads the same without it.
        js=[],
        disable_xml_declaration=True,
        show_legend=len(series) > 1,
        legend_at_bottom=True,
        x_label_rotation=45 if len(labels) > 10 else 0,
        show_minor_x_labels=not crowded,
        x_labels_major_every=MAJOR_EVERY if crowded else None,
        value_formatter=lambda value: "" if value is None else formatter(value),
        allow_interruptions=True,
        include_x_axis=True,
        height=360,
        width=800,
    )
    chart.x_labels = list(labels)
    for one in series:
        chart.add(one.name, list(one.values))
    chart.add_xml_filter(_offline_and_labelled(title))
    rows = [
        (label, ["–" if one.values[i] is None else formatter(one.values[i]) for one in series])
        for i, label in enumerate(labels)
    ]
    return Chart(
        title=title,
        svg=chart.render(),
        x_title=x_title,
        columns=[one.name for one in series],
        rows=rows,
    )


def _offline_and_labelled(title: str):
    """An XML filter: no script and no comment left, and the SVG named for assistive tech."""

    def apply(root):
        # pygal still writes its inline config script and comments with its home page's URL;
        # neither does anything in a page without pygal's script.
        for parent in list(root.iter()):
            for child in list(parent):
                tag = child.tag if isinstance(child.tag, str) else ""
                if not tag or tag.rsplit("}", 1)[-1] == "script":
                    parent.remove(child)
        root.set("role", "img")
        root.set("aria-label", title)
        return root

    return apply
