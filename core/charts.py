"""Charts drawn on the server as inline SVG: no script, nothing loaded from elsewhere.

The SVG has no viewBox: vertical positions are pixels and horizontal ones percentages of the
plot's width, so the chart stretches to any width while its text keeps the size the style
sheet gives it in CSS pixels (a scaled viewBox made 13 px labels 4 px wide on a phone). Lines
are drawn in a nested, stretched SVG whose strokes do not scale; markers and bars are placed
in percentages. Series differ by colour, dash pattern, marker shape and bar hatching, a
legend names them in text, and each chart carries a one-sentence summary and a data table.
"""

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.utils import formats
from django.utils.html import escape
from django.utils.translation import gettext as _

# The portal's palette (portal.css): brand blue, green, amber and violet pass WCAG AA on white.
COLORS = ("#0b5cad", "#156b2f", "#8a5200", "#5b2d8a")
# Per series, so that two series differ in more than colour (greyscale print, colour blindness).
DASHES = ("", "7 4", "2 3", "9 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")
HATCHES = ("", "M0 6L6 0", "M0 0L6 6", "M0 3H6M3 0V6")

PLOT_TOP = 10
PLOT_HEIGHT = 200
# Room under the plot for one line of x labels.
X_LABELS = 26
HEIGHT = PLOT_TOP + PLOT_HEIGHT + X_LABELS
# Most x labels drawn at a desktop width, and on a phone (a media query picks the set).
WIDE_LABELS = 8
NARROW_LABELS = 3
# Beyond this many points a line series draws no marker on every point (the dash tells it).
MARKED_POINTS = 60
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
INTEGER_STEPS = (Decimal(1), Decimal(2), Decimal(5), Decimal(10))

_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    """One named row of values; None is a gap (a day without data)."""

    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class LegendEntry:
    """A series' name and a small SVG sample of how it is drawn."""

    name: str
    swatch: str


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its title, the inline SVG, and the same numbers as table rows."""

    title: str
    svg: str
    x_title: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]
    y_title: str = ""
    legend: list[LegendEntry] = field(default_factory=list)
    summary: str = ""


def nice_ticks(low: float, high: float, *, target: int = 5, integer: bool = False) -> list:
    """Round, distinct, increasing axis values from at most 0 to at least `high`."""
    low = Decimal(str(min(0, low)))
    high = Decimal(str(max(high, low)))
    if high <= low:
        high = low + 1
    raw = (high - low) / target
    magnitude = Decimal(10) ** math.floor(math.log10(raw))
    steps = INTEGER_STEPS if integer else NICE_STEPS
    step = next((m * magnitude for m in steps if m * magnitude >= raw), 10 * magnitude)
    if integer:
        # Whole things (sessions) never get a 0.5 tick; 1, 2, 5, 10, 20 ... only.
        step = max(Decimal(1), step)
        if step != step.to_integral_value():
            step = Decimal(math.ceil(step))
    first = (low / step).to_integral_value(ROUND_FLOOR) * step
    last = (high / step).to_integral_value(ROUND_CEILING) * step
    count = int((last - first) / step)
    return [first + i * step for i in range(count + 1)]


def tick_decimals(ticks: Sequence[Decimal]) -> int:
    """How many decimals the tick labels need to stay distinct (the step's own)."""
    if len(ticks) < 2:
        return 0
    step = (ticks[1] - ticks[0]).normalize()
    return max(0, -step.as_tuple().exponent)


def _number(value: Decimal, decimals: int) -> str:
    return formats.number_format(value, decimals, use_l10n=True)


def _strides(count: int) -> tuple[int, int]:
    # On a phone the labels are spread wider than a third apart, so that the last one (aligned
    # to the right edge) clears its neighbour: still at most NARROW_LABELS of them.
    narrow = math.ceil(count / (NARROW_LABELS - 0.8)) if count > NARROW_LABELS else 1
    return math.ceil(count / WIDE_LABELS) or 1, narrow


def category_ticks(labels: Sequence[str]) -> list[tuple[float, str, bool, bool]]:
    """(position 0..1, label, shown wide, shown narrow) for labels centred in their slots."""
    count = len(labels)
    wide, narrow = _strides(count)
    ticks = []
    for i, label in enumerate(labels):
        # Counted from the end, so the newest (today) always keeps its label.
        from_end = count - 1 - i
        on_wide, on_narrow = from_end % wide == 0, from_end % narrow == 0
        if on_wide or on_narrow:
            ticks.append(((i + 0.5) / count, label, on_wide, on_narrow))
    return ticks


def render_chart(
    kind: str,
    *,
    title: str,
    x_title: str,
    y_title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    formatter: Callable[[float], str],
    positions: Sequence[float] | None = None,
    x_ticks: Sequence[tuple[float, str, bool, bool]] | None = None,
) -> Chart:
    """A bar or line chart as inline SVG, with a summary and a table of the same numbers."""
    if kind not in ("bar", "line"):
        raise ValueError(f"unknown chart kind {kind!r}")
    count = len(labels)
    if positions is None:
        positions = [(i + 0.5) / count for i in range(count)] if count else []
    if x_ticks is None:
        x_ticks = category_ticks(labels)
    values = [v for one in series for v in one.values if v is not None]
    integer = all(float(v).is_integer() for v in values)
    ticks = nice_ticks(min(values, default=0), max(values, default=0), integer=integer)
    prefix = f"chart{next(_ids)}"
    drawing = _Drawing(prefix, ticks, tick_decimals(ticks))
    parts = [f"<defs>{''.join(_defs(prefix, len(series)))}</defs>", drawing.grid()]
    if kind == "bar":
        parts.extend(drawing.bars(series, count))
    else:
        parts.extend(drawing.lines(series, positions))
    parts.append(drawing.x_labels(x_ticks))
    summary = _summary(series, labels, formatter)
    svg = (
        f'<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" width="100%" '
        f'height="{HEIGHT}" role="img" aria-label="{escape(title)}. {escape(summary)}">'
        f"{''.join(parts)}</svg>"
    )
    rows = [
        (label, ["–" if one.values[i] is None else formatter(one.values[i]) for one in series])
        for i, label in enumerate(labels)
    ]
    legend = (
        [LegendEntry(one.name, _swatch(prefix, kind, j)) for j, one in enumerate(series)]
        if len(series) > 1
        else []
    )
    return Chart(
        title=title,
        svg=svg,
        x_title=x_title,
        columns=[one.name for one in series],
        rows=rows,
        y_title=y_title,
        legend=legend,
        summary=summary,
    )


def _summary(series: Sequence[Series], labels: Sequence[str], formatter) -> str:
    """One sentence per series: its lowest and highest value and where the highest is."""
    sentences = []
    for one in series:
        known = [(v, i) for i, v in enumerate(one.values) if v is not None]
        if not known:
            sentences.append(_("%(name)s: no data.") % {"name": one.name})
            continue
        low = min(v for v, _i in known)
        high, at = max(known, key=lambda pair: pair[0])
        sentences.append(
            _("%(name)s: from %(low)s to %(high)s (highest at %(at)s).")
            % {
                "name": one.name,
                "low": formatter(low),
                "high": formatter(high),
                "at": labels[at] if labels else "",
            }
        )
    return " ".join(sentences)


def _defs(prefix: str, count: int) -> list[str]:
    """Each series' marker shape and bar hatching, with ids unique in the page."""
    shapes = {
        "circle": '<circle r="4"/>',
        "square": '<rect x="-3.5" y="-3.5" width="7" height="7"/>',
        "triangle": '<path d="M0 -5L4.5 3.5H-4.5Z"/>',
        "diamond": '<path d="M0 -5L5 0L0 5L-5 0Z"/>',
    }
    defs = []
    for j in range(count):
        color = COLORS[j % len(COLORS)]
        shape = shapes[MARKERS[j % len(MARKERS)]]
        defs.append(
            f'<symbol id="{prefix}-m{j}" overflow="visible">'
            f'<g fill="{color}" stroke="#fff" stroke-width="1">{shape}</g></symbol>'
        )
        hatch = HATCHES[j % len(HATCHES)]
        lines = f'<path d="{hatch}" stroke="#fff" stroke-width="1.5"/>' if hatch else ""
        defs.append(
            f'<pattern id="{prefix}-p{j}" width="6" height="6" patternUnits="userSpaceOnUse">'
            f'<rect width="6" height="6" fill="{color}"/>{lines}</pattern>'
        )
    return defs


def _swatch(prefix: str, kind: str, j: int) -> str:
    """A legend sample: a hatched square for bars, the dashed line with its marker for lines."""
    if kind == "bar":
        body = f'<rect x="6" y="1" width="16" height="12" fill="url(#{prefix}-p{j})"/>'
    else:
        color, dash = COLORS[j % len(COLORS)], DASHES[j % len(DASHES)]
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        body = (
            f'<line x1="0" y1="7" x2="28" y2="7" stroke="{color}" stroke-width="2.5"{dashes}/>'
            f'<use href="#{prefix}-m{j}" x="14" y="7"/>'
        )
    return (
        f'<svg class="chart-swatch" width="28" height="14" aria-hidden="true" '
        f'focusable="false">{body}</svg>'
    )


class _Drawing:
    """The SVG pieces of one chart on its y scale."""

    def __init__(self, prefix: str, ticks: list[Decimal], decimals: int):
        self.prefix = prefix
        self.ticks = ticks
        self.decimals = decimals
        self.low, self.high = float(ticks[0]), float(ticks[-1])

    def y(self, value: float) -> float:
        share = (value - self.low) / (self.high - self.low)
        return round(PLOT_TOP + PLOT_HEIGHT * (1 - share), 2)

    def grid(self) -> str:
        """A line and a label (left of the plot, in its padding) per tick."""
        parts = []
        for tick in self.ticks:
            y = self.y(float(tick))
            css = "chart-axis-line" if tick == 0 else "chart-grid"
            parts.append(f'<line class="{css}" x1="0" x2="100%" y1="{y}" y2="{y}"/>')
            parts.append(
                f'<text class="chart-tick" x="-6" y="{y}" dy="0.32em" text-anchor="end">'
                f"{escape(_number(tick, self.decimals))}</text>"
            )
        return "".join(parts)

    def bars(self, series: Sequence[Series], count: int) -> list[str]:
        """Grouped bars: one group per label, one hatched bar per series."""
        if not count:
            return []
        slot = 100 / count
        width = slot * 0.7 / len(series)
        zero = self.y(max(0.0, self.low))
        parts = []
        for j, one in enumerate(series):
            for i, value in enumerate(one.values):
                if value is None:
                    continue
                y = self.y(value)
                top, height = min(y, zero), abs(zero - y)
                x = i * slot + slot * 0.15 + j * width
                parts.append(
                    f'<rect class="chart-bar" x="{x:.3f}%" y="{top}" width="{width:.3f}%" '
                    f'height="{height}" fill="url(#{self.prefix}-p{j})"/>'
                )
        return parts

    def lines(self, series: Sequence[Series], positions: Sequence[float]) -> list[str]:
        """Each series as dashed runs between gaps, and its markers where it has few points."""
        parts = []
        for j, one in enumerate(series):
            color, dash = COLORS[j % len(COLORS)], DASHES[j % len(DASHES)]
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            points = [(positions[i], v) for i, v in enumerate(one.values) if v is not None]
            runs, run = [], []
            for i, value in enumerate(one.values):
                if value is None:
                    runs.append(run)
                    run = []
                else:
                    run.append((positions[i], value))
            runs.append(run)
            for run in runs:
                if len(run) < 2:
                    continue
                coords = " ".join(f"{p * 1000:.2f},{self.y(v) - PLOT_TOP}" for p, v in run)
                # Stretched to the plot's width; the stroke and its dashes keep their pixels.
                parts.append(
                    f'<svg x="0" y="{PLOT_TOP}" width="100%" height="{PLOT_HEIGHT}" '
                    f'viewBox="0 0 1000 {PLOT_HEIGHT}" preserveAspectRatio="none" '
                    f'overflow="visible"><polyline class="chart-line" points="{coords}" '
                    f'fill="none" stroke="{color}" stroke-width="2.5"{dashes} '
                    f'vector-effect="non-scaling-stroke" stroke-linejoin="round"/></svg>'
                )
            marked = len(series) > 1 and len(points) <= MARKED_POINTS
            lonely = {p for run in runs if len(run) == 1 for p, _v in run}
            for position, value in points:
                if marked or position in lonely:
                    parts.append(
                        f'<use href="#{self.prefix}-m{j}" x="{position * 100:.3f}%" '
                        f'y="{self.y(value)}"/>'
                    )
        return parts

    def x_labels(self, ticks: Sequence[tuple[float, str, bool, bool]]) -> str:
        """The x labels; the style sheet shows the wide set, or on a phone the narrow one."""
        y = PLOT_TOP + PLOT_HEIGHT + 18
        parts = []
        for position, label, wide, narrow in ticks:
            shown = (["wide"] if wide else []) + (["narrow"] if narrow else [])
            css = " ".join(["chart-tick", "chart-x", *shown])
            anchor = "start" if position <= 0.02 else "end" if position >= 0.98 else "middle"
            parts.append(
                f'<text class="{css}" x="{position * 100:.3f}%" y="{y}" '
                f'text-anchor="{anchor}">{escape(label)}</text>'
            )
        return "".join(parts)
