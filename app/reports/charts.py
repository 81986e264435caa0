"""Inline SVG charts of the daily report: the hourly arrivals/departures curve and hubs per
worst level. Plain SVG, so the page prints and opens without scripts or network."""

from __future__ import annotations

from html import escape

from app.reports.model import HourOut
from core.levels import LEVEL_COLOURS, LEVEL_NAMES_ZH

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 260, 64, 32, 16
ARRIVALS, DEPARTURES = "#1677ff", "#fa8c16"


def _axis_max(value: int) -> int:
    """A round top for the axis (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1
    power = 1
    while power * 10 <= value:
        power *= 10
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def hourly_curve(hourly: list[HourOut]) -> str:
    """Arrivals (blue) and departures (orange) per hour, 00:00–23:00 Beijing time."""
    top = _axis_max(max([h.arrivals for h in hourly] + [h.departures for h in hourly] + [0]))
    plot_w, plot_h = WIDTH - LEFT - 16, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(hourly) - 1)

    def point(index: int, value: int) -> str:
        return f"{LEFT + index * step:.1f},{TOP + plot_h * (1 - value / top):.1f}"

    parts = [
        f'<svg class="chart" role="img" aria-label="分时进出港量" viewBox="0 0 {WIDTH} {HEIGHT}">'
    ]
    for tick in range(5):
        value = top * tick // 4
        y = TOP + plot_h * (1 - tick / 4)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - 16}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,}</text>')
    for index, hour in enumerate(hourly):
        if index % 3 == 0:
            x = LEFT + index * step
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{hour.hour}</text>'
            )
    for colour, values in (
        (ARRIVALS, [h.arrivals for h in hourly]),
        (DEPARTURES, [h.departures for h in hourly]),
    ):
        points = " ".join(point(i, v) for i, v in enumerate(values))
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" points="{points}"/>'
        )
    parts.append(
        f'<rect x="{LEFT + 8}" y="{TOP}" width="12" height="4" fill="{ARRIVALS}"/>'
        f'<text x="{LEFT + 24}" y="{TOP + 6}">进港</text>'
        f'<rect x="{LEFT + 68}" y="{TOP}" width="12" height="4" fill="{DEPARTURES}"/>'
        f'<text x="{LEFT + 84}" y="{TOP + 6}">出港</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def level_bars(levels: dict[str, int]) -> str:
    """Hubs per worst level of the day, one coloured bar each, most severe first."""
    shown = [
        level for level in ("red", "orange", "yellow", "blue", "none", "unknown") if level in levels
    ]
    top = max([levels[level] for level in shown] + [1])
    bar_h, gap, label_w = 26, 10, 110
    height = len(shown) * (bar_h + gap) + gap
    label = "节点最高预警等级"
    parts = [f'<svg class="chart" role="img" aria-label="{label}" viewBox="0 0 {WIDTH} {height}">']
    for index, level in enumerate(shown):
        y = gap + index * (bar_h + gap)
        width = (WIDTH - label_w - 90) * levels[level] / top
        name, colour = escape(LEVEL_NAMES_ZH[level]), LEVEL_COLOURS[level]
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end">{name}</text>'
            f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{label_w + width + 6:.1f}" y="{y + 18}">{levels[level]:,} 个</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
