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
LEFT = 52  # room for the y axis' labels: five characters ("12.5k", "1.25M") at the phone's text size
RIGHT = 8
TOP = 12
BOTTOM = 30  # room for the x axis' labels
MAX_X_LABELS = 5  # more would crowd the axis even where they would fit
# The ticks' size in viewBox units on a phone (analytics.css, `.chart .tick` under 760px): the largest,
# so labels spaced for it do not overlap on a desktop either.
TICK_FONT = 15
EMPTY_FONT = 17  # the "nothing in this period" text's size on a phone (analytics.css, `.chart .empty`)
LABEL_GAP = 8  # the least room between two x labels, in viewBox units
MAX_SERIES = 6  # the stylesheet's palette: s0 … s5


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float, ...]
    # Drawn dashed (a line chart's "sent" next to "received"): two equal series stay both visible.
    dashed: bool = False


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    empty_text: str,
    decimal: str = ".",
) -> str:
    """Grouped vertical bars: one group per label, one bar per series; heights proportional to values."""
    if is_empty(labels, series):
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
    categories = "".join(_category(LEFT + (j + 0.5) * group, label, group) for j, label in enumerate(labels))
    return _frame(title, desc, _axes(top, [], decimal) + categories + "".join(parts))


def _category(x: float, label: str, room: float) -> str:
    """A bar group's label, every one drawn (a category left out would leave its bars unnamed): on two
    lines when one does not fit the group's width at a phone's text size."""
    lines = wrap(label, room - LABEL_GAP, TICK_FONT)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    if len(lines) == 1:
        return f'<text class="tick" x="{x:.2f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(label)}</text>'
    spans = "".join(
        f'<tspan x="{x:.2f}" y="{y}">{escape(line)}</tspan>'
        for y, line in zip((HEIGHT - 17, HEIGHT - 3), lines, strict=True)
    )
    return f'<text class="tick" text-anchor="middle">{spans}</text>'


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    desc: str,
    empty_text: str,
    decimal: str = ".",
) -> str:
    """One line per series over the labels (days or months), with a dot at each point."""
    if is_empty(labels, series):
        return _empty(title, desc, empty_text)
    top = nice_ceiling(max(v for s in series for v in s.values))
    step = _plot_width() / max(len(labels) - 1, 1)
    # A single point (a one-day period) sits in the middle rather than on the axis.
    xs = [LEFT + (j * step if len(labels) > 1 else _plot_width() / 2) for j in range(len(labels))]
    parts = []
    for i, s in enumerate(series[:MAX_SERIES]):
        points = [(xs[j], _y0() - _scale(v, top)) for j, v in enumerate(s.values)]
        path = " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
        dashed = " dashed" if s.dashed else ""
        parts.append(f'<polyline class="line s{i}{dashed}" points="{path}"/>')
        # A dashed series' dots are rings, larger: a dot of an equal series under them shows through.
        radius = 3.5 if s.dashed else 2.5
        for (x, y), label, value in zip(points, labels, s.values, strict=False):
            parts.append(
                f'<circle class="dot s{i}{dashed}" cx="{x:.2f}" cy="{y:.2f}" r="{radius}">'
                f"<title>{escape(s.name)} · {escape(label)}: {_number(value)}</title></circle>"
            )
    x_labels = list(zip(xs, labels, strict=True))
    return _frame(title, desc, _axes(top, x_labels, decimal) + "".join(parts))


def legend(names: Sequence[str], *, dashed: Sequence[bool] = (), lines: bool = False) -> str:
    """The visible key of a chart, in HTML (readable at any width): a swatch of each series' colour.

    A line chart's swatches are short lines (`lines`), dashed like their series (`dashed`, by position).
    """
    shape = " line" if lines else ""
    items = "".join(
        f'<li><span class="swatch s{i}{shape}{" dashed" if i < len(dashed) and dashed[i] else ""}" '
        f'aria-hidden="true"></span>{escape(name)}</li>'
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


def is_empty(labels: Sequence[str], series: Sequence[Series]) -> bool:
    """Whether the chart has nothing to draw (it then says so instead, and needs no legend)."""
    return not labels or not series or all(v <= 0 for s in series for v in s.values)


def _plot_width() -> float:
    return WIDTH - LEFT - RIGHT


def _y0() -> float:
    return HEIGHT - BOTTOM


def _scale(value: float, top: float) -> float:
    # Negative values have no meaning in these charts (counts, shares, amounts): drawn as nothing.
    return max(value, 0) / top * (HEIGHT - TOP - BOTTOM)


def _axes(top: float, x_labels: list[tuple[float, str]], decimal: str) -> str:
    parts = []
    for fraction in (0, 0.5, 1):
        y = _y0() - fraction * (HEIGHT - TOP - BOTTOM)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.2f}" x2="{WIDTH - RIGHT}" y2="{y:.2f}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 4}" y="{y + 4:.2f}" text-anchor="end">'
            f"{tick_label(top * fraction, decimal)}</text>"
        )
    for x, label, anchor in shown_x_labels(x_labels):
        parts.append(
            f'<text class="tick" x="{x:.2f}" y="{HEIGHT - 10}" text-anchor="{anchor}">{escape(label)}</text>'
        )
    return "".join(parts)


def tick_label(value: float, decimal: str = ".") -> str:
    """A y axis' label, at most five characters whatever the amount: 2500, 12.5k, 250k, 1.25M.

    The axis' values are 0 and half and all of a nice_ceiling (1, 2, 2.5 or 5 times a power of ten), so
    two decimals always suffice. The exact values stay in the tooltips.
    """
    suffix = ""
    # Thousands from ten thousand on: "2500" is as short as "2.5k" and reads better.
    for start, unit, letter in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(value) >= start:
            value, suffix = value / unit, letter
            break
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", decimal) + suffix


def text_width(text: str, size: float = TICK_FONT) -> float:
    """An estimate of the text's width in viewBox units, on the generous side (DejaVu Sans' widths:
    the widest of the usual fonts). Narrow characters count for about half."""
    narrow = sum(1 for c in text if c in " .,:;'’()-/|!iIjltfr")
    wide = sum(1 for c in text if c in "mwMW")
    return size * (0.36 * narrow + 0.92 * wide + 0.64 * (len(text) - narrow - wide))


def shown_x_labels(x_labels: Sequence[tuple[float, str]]) -> list[tuple[float, str, str]]:
    """(x, label, text-anchor) of the x labels drawn: evenly thinned so that no two overlap, the last one
    always drawn (the period's end) and one too close to it left out."""
    placed = [_place(x, label) for x, label in x_labels]
    first_every = max(1, math.ceil(len(placed) / MAX_X_LABELS))
    for every in range(first_every, len(placed) + 1):
        chosen = _every(placed, every)
        if _apart(chosen):
            return [(x, label, anchor) for x, label, anchor, _left, _right in chosen]
    return [placed[-1][:3]] if placed else []


def _place(x: float, label: str) -> tuple[float, str, str, float, float]:
    """The label's anchor and the span it covers: centred under its point, except at the chart's edges
    where a centred label would be cut off."""
    width = text_width(label)
    if x >= WIDTH - RIGHT - 0.5:  # a line's last point sits on the right edge
        return x, label, "end", x - width, x
    if x - width / 2 < 0:
        return x, label, "start", x, x + width
    return x, label, "middle", x - width / 2, x + width / 2


def _every(placed: list, every: int) -> list:
    chosen = placed[::every]
    if chosen[-1] is not placed[-1]:
        chosen.append(placed[-1])  # the period's end is always shown
    if len(chosen) > 2 and not _apart(chosen[-2:]):
        # Anchored at the edge, the last label reaches back: the regular one before it goes if they touch.
        del chosen[-2]
    return chosen


def _apart(chosen: list) -> bool:
    return all(b[3] - a[4] >= LABEL_GAP for a, b in zip(chosen, chosen[1:], strict=False))


def _frame(title: str, desc: str, body: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{body}</svg>"
    )


def _empty(title: str, desc: str, empty_text: str) -> str:
    lines = wrap(empty_text, WIDTH - 2 * RIGHT, EMPTY_FONT)
    first_y = HEIGHT / 2 - (len(lines) - 1) * EMPTY_FONT * 0.6  # the block centred, lines 1.2 apart
    spans = "".join(
        f'<tspan x="{WIDTH / 2:.0f}" y="{first_y + n * EMPTY_FONT * 1.2:.0f}">{escape(line)}</tspan>'
        for n, line in enumerate(lines)
    )
    note = f'<text class="empty" text-anchor="middle">{spans}</text>'
    return _frame(title, f"{desc} {empty_text}".strip(), note)


def wrap(text: str, width: float, size: float) -> list[str]:
    """The text in lines no wider than `width` (estimated), broken between words: SVG does not wrap."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _number(value: float) -> str:
    """Whole numbers without decimals, others with at most one (tooltips and ticks)."""
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.1f}"
