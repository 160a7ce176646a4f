"""A line chart drawn on the server as SVG geometry (no script, no CDN): the template only places it."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 40
MIN_LABEL_GAP = 48


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str
    value: float
    provisional: bool


@dataclass
class LineChart:
    width: int = WIDTH
    height: int = HEIGHT
    line: str = ""  # SVG polyline points
    dots: list[Dot] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_lines: list[tuple[float, str]] = field(default_factory=list)
    left: int = LEFT
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM


def rate_chart(points: list[tuple[str, float | None, bool]], every: int = 4) -> LineChart:
    """Weeks (oldest first) with a rate 0..1 or None (no village needed coverage), and whether the
    week is still provisional. Gaps break nothing: the line joins the weeks that have a rate."""
    chart = LineChart()
    span_x = WIDTH - LEFT - RIGHT
    span_y = HEIGHT - TOP - BOTTOM
    step = span_x / max(1, len(points) - 1)
    for pct in (0, 25, 50, 75, 100):
        chart.y_lines.append((round(TOP + span_y * (1 - pct / 100), 1), f"{pct}%"))
    coords = []
    for i, (week, rate, provisional) in enumerate(points):
        x = round(LEFT + i * step, 1)
        if i % every == 0 or i == len(points) - 1:
            if chart.x_labels and x - chart.x_labels[-1][0] < MIN_LABEL_GAP:
                chart.x_labels.pop()  # the newest week's label wins over a crowded neighbour
            chart.x_labels.append((x, week[5:]))
        if rate is None:
            continue
        y = round(TOP + span_y * (1 - rate), 1)
        coords.append(f"{x},{y}")
        chart.dots.append(Dot(x, y, week, rate, provisional))
    chart.line = " ".join(coords)
    return chart
