"""Where the bars of a bar chart go; the templates draw them as inline SVG (no chart library).

The geometry is plain arithmetic kept out of Jinja: one bar per value in a chart of fixed width
(so a week and a month scale alike), the largest bar reaching the top, with a few labels under
the axis. Each bar carries its label and formatted value, for its tooltip and for the table
that repeats the chart's numbers for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

WIDTH = 360.0
"""In SVG user units; the chart scales to its container (see ``.chart-wide``)."""
PLOT_TOP = 14.0
PLOT_BOTTOM = 92.0
HEIGHT = 106.0
_LABEL_ROOM = 36.0
"""About the width of a short label ("06/12", "seg."): closer ticks would overlap."""

Anchor = Literal["start", "middle", "end"]


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    text: str
    """The value, formatted for the reader."""


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str
    anchor: Anchor = "middle"


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: list[Bar]
    ticks: list[Tick]
    width: float
    height: float
    baseline: float
    top_text: str
    """The largest value, formatted: the height the tallest bar stands for."""


def bar_chart(points: Sequence[tuple[str, float, str]], top_text: str, every: int = 1) -> BarChart:
    """``points``: (label, value, formatted value) in order; a tick under every ``every``-th
    bar and under the last one."""
    top = max([value for _, value, _ in points] + [0.0]) or 1.0
    step = WIDTH / max(len(points), 1)
    gap = min(4.0, step / 4)
    room = PLOT_BOTTOM - PLOT_TOP
    bars: list[Bar] = []
    ticks: list[Tick] = []
    for index, (label, value, text) in enumerate(points):
        height = round(room * max(value, 0.0) / top, 1)
        x = round(index * step, 2)
        bars.append(
            Bar(x + gap / 2, round(PLOT_BOTTOM - height, 1), step - gap, height, label, text)
        )
        if index % every == 0 or index == len(points) - 1:
            ticks.append(Tick(round(x + step / 2, 2), label))
    if len(ticks) >= 2 and ticks[-1].x - ticks[-2].x < _LABEL_ROOM:
        ticks.pop(-2)
    if ticks and step < _LABEL_ROOM:  # narrow bars: keep the outer labels inside the chart
        ticks[0] = Tick(0.0, ticks[0].label, "start") if ticks[0].x < _LABEL_ROOM else ticks[0]
        ticks[-1] = Tick(WIDTH, ticks[-1].label, "end")
    return BarChart(bars, ticks, WIDTH, HEIGHT, PLOT_BOTTOM, top_text)
