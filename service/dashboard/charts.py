"""Charts drawn on the server as SVG: no script, readable without one, printable.

Each chart is a bar per day (stacked when it has several series) with a title and a text
summary for screen readers, and the numbers are also in the bars' tooltips.
"""

from __future__ import annotations

from datetime import date
from itertools import count

from markupsafe import Markup, escape

from service.dashboard.queries import Series

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 560, 180, 36, 28, 12
COLOURS = {
    "succeeded": "#1b7f3b",
    "failed": "#b3261e",
    "opened": "#b3261e",
    "closed": "#1b7f3b",
    "minutes waited": "#1f5fa8",
}
_ids = count(1)


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value % 1 else str(int(value))


def bar_chart(title: str, series: Series, days: list[date], unit: str) -> Markup:
    chart_id = f"chart-{next(_ids)}"
    names = sorted(series) or []
    totals = [sum(series[name].get(day, 0.0) for name in names) for day in days]
    top = max(totals, default=0.0) or 1.0
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = plot_w / max(len(days), 1)
    parts: list[str] = []
    for i, day in enumerate(days):
        x = PAD_LEFT + i * slot + slot * 0.15
        base: float = PAD_TOP + plot_h
        for name in names:
            value = series[name].get(day, 0.0)
            if value <= 0:
                continue
            h = plot_h * value / top
            base -= h
            tip = f"{day.isoformat()}: {_number(value)} {unit} {name}"
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS.get(name, "#555")}"><title>{escape(tip)}</title></rect>'
            )
        if i % 2 == 0 or len(days) <= 7:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                f'class="axis">{day.strftime("%d %b")}</text>'
            )
    axis = (
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 8}" y2="{PAD_TOP + plot_h}" '
        'class="rule"/>'
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" text-anchor="end" class="axis">'
        f"{_number(top)}</text>"
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + plot_h}" text-anchor="end" class="axis">0</text>'
    )
    summary = _summary(series, names, unit)
    legend = "".join(
        f'<span class="key"><span class="swatch sw-{n.replace(" ", "-")}"></span>{escape(n)}</span>'
        for n in names
    )
    svg = (
        f'<figure class="chart"><figcaption id="{chart_id}">{escape(title)}</figcaption>'
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{chart_id}" '
        f'aria-describedby="{chart_id}-d" preserveAspectRatio="xMidYMid meet">'
        f'<desc id="{chart_id}-d">{escape(summary)}</desc>{axis}{"".join(parts)}</svg>'
        f'<p class="legend">{legend}<span class="summary">{escape(summary)}</span></p></figure>'
    )
    return Markup(svg)  # noqa: S704 (every text in it is escaped above)


def _summary(series: Series, names: list[str], unit: str) -> str:
    if not any(series[name] for name in names):
        return "Nothing recorded in these days."
    parts = [f"{_number(sum(series[name].values()))} {name}" for name in names]
    if unit == "minutes":
        waits = [v for name in names for v in series[name].values()]
        low, high = _number(min(waits)), _number(max(waits))
        return f"average wait per day between {low} and {high} minutes"
    return ", ".join(parts) + f" {unit} in these days"
