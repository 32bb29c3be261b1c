"""Charts as server-rendered SVG: pure functions from numbers to markup, no JavaScript, nothing to load.

The pages' CSP (`style-src 'self'`, `script-src 'self'`) refuses inline scripts and style attributes, so
the markup carries geometry only and class names (`bar s0`, `line s1`); colours live in
static/dashboard/analytics.css, shared with the HTML legend's swatches. Every text that reaches the
markup is escaped. The viewBox is small (400 units wide) so that text stays readable once the chart is
shrunk to a phone's width by `width="100%"`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 400
HEIGHT = 220
LEFT = 44  # room for the y axis' labels
RIGHT = 8
TOP = 12
BOTTOM = 30  # room for the x axis' labels
MAX_X_LABELS = 5  # more would overlap once shrunk to a phone (larger text there)
MAX_SERIES = 6  # the stylesheet's palette: s0 … s5


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]


def bar_chart(
    labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str, empty_text: str
) -> str:
    """Grouped vertical bars: one group per label, one bar per series; heights proportional to values."""
    if _is_empty(labels, series):
        return _empty(title, desc, empty_text)
    top = nice_ceiling(max(v for s in series for v in s.values))
    group = _plot_width() / len(labels)
    bar = group * 0.8 / len(series)
    parts = []
    for i, s in enumerate(series[:MAX_SERIES]):
        for j, value in enumerate(s.values):
            height = _scale(value, top)
            x = LEFT + j * group + group * 0.1 + i * bar
            parts.append(
                f'<rect class="bar s{i}" x="{x:.2f}" y="{_y0() - height:.2f}" width="{bar:.2f}" '
                f'height="{height:.2f}"><title>{escape(s.name)} · {escape(labels[j])}: '
                f"{_number(value)}</title></rect>"
            )
    x_labels = [(LEFT + (j + 0.5) * group, label) for j, label in enumerate(labels)]
    return _frame(title, desc, _axes(top, x_labels) + "".join(parts))


def line_chart(
    labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str, empty_text: str
) -> str:
    """One line per series over the labels (days or months), with a dot at each point."""
    if _is_empty(labels, series):
        return _empty(title, desc, empty_text)
    top = nice_ceiling(max(v for s in series for v in s.values))
    step = _plot_width() / max(len(labels) - 1, 1)
    # A single point (a one-day period) sits in the middle rather than on the axis.
    xs = [LEFT + (j * step if len(labels) > 1 else _plot_width() / 2) for j in range(len(labels))]
    parts = []
    for i, s in enumerate(series[:MAX_SERIES]):
        points = [(xs[j], _y0() - _scale(v, top)) for j, v in enumerate(s.values)]
        path = " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
        parts.append(f'<polyline class="line s{i}" points="{path}"/>')
        for (x, y), label, value in zip(points, labels, s.values, strict=False):
            parts.append(
                f'<circle class="dot s{i}" cx="{x:.2f}" cy="{y:.2f}" r="2.5"><title>{escape(s.name)} · '
                f"{escape(label)}: {_number(value)}</title></circle>"
            )
    return _frame(title, desc, _axes(top, list(zip(xs, labels, strict=True))) + "".join(parts))


def legend(names: Sequence[str]) -> str:
    """The visible key of a chart, in HTML (readable at any width): a swatch of each series' colour."""
    items = "".join(
        f'<li><span class="swatch s{i}" aria-hidden="true"></span>{escape(name)}</li>'
        for i, name in enumerate(names[:MAX_SERIES])
    )
    return f'<ul class="legend">{items}</ul>'


def nice_ceiling(value: float) -> float:
    """The axis' top: the value rounded up to 1, 2, 2.5 or 5 times a power of ten (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # unreachable: value <= 10 * power by definition of power


def _is_empty(labels: Sequence[str], series: Sequence[Series]) -> bool:
    return not labels or not series or all(v <= 0 for s in series for v in s.values)


def _plot_width() -> float:
    return WIDTH - LEFT - RIGHT


def _y0() -> float:
    return HEIGHT - BOTTOM


def _scale(value: float, top: float) -> float:
    # Negative values have no meaning in these charts (counts, shares, amounts): drawn as nothing.
    return max(value, 0) / top * (HEIGHT - TOP - BOTTOM)


def _axes(top: float, x_labels: list[tuple[float, str]]) -> str:
    parts = []
    for fraction in (0, 0.5, 1):
        y = _y0() - fraction * (HEIGHT - TOP - BOTTOM)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.2f}" x2="{WIDTH - RIGHT}" y2="{y:.2f}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 4}" y="{y + 4:.2f}" text-anchor="end">'
            f"{_number(top * fraction)}</text>"
        )
    every = max(1, math.ceil(len(x_labels) / MAX_X_LABELS))
    for j, (x, label) in enumerate(x_labels):
        if j % every == 0:
            # A line's last point sits on the right edge: a centred label there would be cut off.
            anchor = "end" if x >= WIDTH - RIGHT - 0.5 else "middle"
            parts.append(
                f'<text class="tick" x="{x:.2f}" y="{HEIGHT - 10}" text-anchor="{anchor}">'
                f"{escape(label)}</text>"
            )
    return "".join(parts)


def _frame(title: str, desc: str, body: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{body}</svg>"
    )


def _empty(title: str, desc: str, empty_text: str) -> str:
    note = (
        f'<text class="empty" x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" text-anchor="middle">'
        f"{escape(empty_text)}</text>"
    )
    return _frame(title, f"{desc} {empty_text}".strip(), note)


def _number(value: float) -> str:
    """Whole numbers without decimals, others with at most one (tooltips and ticks)."""
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.1f}"
