"""Small inline SVG charts for ``report.html``: line, step and histogram panels drawn as text.

The HTML report must open offline and stay small for any number of requests, so its charts are SVG written
here (no matplotlib, no JavaScript library): a panel's size depends on the points drawn, and callers bin or
thin their series first (``thin``). Every label goes through ``html.escape``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Sequence

COLOURS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860")
_WIDTH, _HEIGHT = 420, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 58, 12, 40, 42


@dataclass(frozen=True)
class Series:
    """One line of a panel: points ``(x, y)``; a ``None`` or non-finite ``y`` breaks the line."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    step: bool = False  # drawn as a step (the value holds until the next point), for gauges
    dashed: bool = False


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def tick_label(value: float) -> str:
    """A tick's text: no trailing zeros, thousands as ``k``."""
    if value == 0:
        return "0"
    if abs(value) >= 10_000:
        return f"{value / 1000:g}k"
    return f"{value:.6g}"


def thin(xs: Sequence[float], ys: Sequence[float], most: int = 1500) -> tuple[list[float], list[float]]:
    """Every k-th point so at most about ``most`` remain (the last kept), for long time series."""
    if len(xs) <= most:
        return list(xs), list(ys)
    every = math.ceil(len(xs) / most)
    keep = list(range(0, len(xs), every))
    if keep[-1] != len(xs) - 1:
        keep.append(len(xs) - 1)
    return [xs[i] for i in keep], [ys[i] for i in keep]


class _Frame:
    """Maps data to pixels inside one panel (linear, or log base 2 on x)."""

    def __init__(self, xs: list[float], ys: list[float], *, log2_x: bool, y_max: float | None) -> None:
        self.log2_x = log2_x
        tx = [math.log2(x) for x in xs] if log2_x else xs
        self.x_low, self.x_high = (min(tx), max(tx)) if tx else (0.0, 1.0)
        if self.x_high == self.x_low:
            self.x_low, self.x_high = self.x_low - 0.5, self.x_high + 0.5
        top = y_max if y_max is not None else (max(ys) if ys else 1.0)
        self.y_ticks = nice_ticks(min(0.0, min(ys)) if ys else 0.0, top if top > 0 else 1.0)
        self.y_low, self.y_high = self.y_ticks[0], self.y_ticks[-1]
        self.plot_w = _WIDTH - _LEFT - _RIGHT
        self.plot_h = _HEIGHT - _TOP - _BOTTOM

    def px(self, x: float) -> float:
        t = math.log2(x) if self.log2_x else x
        return _LEFT + (t - self.x_low) / (self.x_high - self.x_low) * self.plot_w

    def py(self, y: float) -> float:
        return _TOP + self.plot_h - (y - self.y_low) / (self.y_high - self.y_low) * self.plot_h


def _axes(frame: _Frame, x_ticks: list[float], title: str, xlabel: str, ylabel: str) -> list[str]:
    bottom = _TOP + frame.plot_h
    out = [f'<text x="{_WIDTH / 2:.0f}" y="16" class="t">{escape(title)}</text>',
           f'<rect x="{_LEFT}" y="{_TOP}" width="{frame.plot_w}" height="{frame.plot_h}" class="frame"/>']
    for y in frame.y_ticks:
        py = frame.py(y)
        out.append(f'<line x1="{_LEFT}" x2="{_LEFT + frame.plot_w}" y1="{py:.1f}" y2="{py:.1f}" class="grid"/>')
        out.append(f'<text x="{_LEFT - 4}" y="{py + 3:.1f}" class="yl">{escape(tick_label(y))}</text>')
    for x in x_ticks:
        px = frame.px(x)
        out.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{bottom}" y2="{bottom + 4}" class="axis"/>')
        out.append(f'<text x="{px:.1f}" y="{bottom + 15}" class="xl">{escape(tick_label(x))}</text>')
    out.append(f'<text x="{_LEFT + frame.plot_w / 2:.0f}" y="{_HEIGHT - 6}" class="xl">{escape(xlabel)}</text>')
    out.append(f'<text transform="translate(13 {_TOP + frame.plot_h / 2:.0f}) rotate(-90)" class="xl">'
               f'{escape(ylabel)}</text>')
    return out


def _legend(labels: list[tuple[str, str, bool]]) -> list[str]:
    out, x = [], _LEFT
    for label, colour, dashed in labels:
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(f'<line x1="{x}" x2="{x + 16}" y1="30" y2="30" stroke="{colour}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{x + 20}" y="33" class="lg">{escape(label)}</text>')
        x += 28 + 6 * len(label)
    return out


def _svg(title: str, body: list[str]) -> str:
    return (f'<svg viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" '
            f'height="{_HEIGHT}" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
            + "".join(body) + "</svg>")


def _path(frame: _Frame, series: Series) -> str:
    """The series as one path; a gap (None) starts a new stretch."""
    parts: list[str] = []
    pen_down = False
    last_y: float | None = None
    for x, y in zip(series.xs, series.ys):
        if not _finite(y) or not _finite(x) or (frame.log2_x and x <= 0):
            pen_down = False
            continue
        px, py = frame.px(x), frame.py(float(y))  # type: ignore[arg-type]
        if not pen_down:
            parts.append(f"M{px:.1f} {py:.1f}")
            pen_down = True
        elif series.step and last_y is not None:
            parts.append(f"H{px:.1f}V{py:.1f}")
        else:
            parts.append(f"L{px:.1f} {py:.1f}")
        last_y = py
    return "".join(parts)


def line_panel(title: str, series: Sequence[Series], *, xlabel: str, ylabel: str, log2_x: bool = False,
               y_max: float | None = None, markers: bool = False) -> str:
    """One panel of lines against a shared x; ``log2_x`` puts ticks at the data's own x values."""
    xs = [float(x) for s in series for x, y in zip(s.xs, s.ys) if _finite(y) and _finite(x)]
    ys = [float(y) for s in series for y in s.ys if _finite(y)]  # type: ignore[arg-type]
    if log2_x:
        xs = [x for x in xs if x > 0]
    if not xs:
        return _svg(title, [f'<text x="{_WIDTH / 2:.0f}" y="16" class="t">{escape(title)}</text>',
                            f'<text x="{_WIDTH / 2:.0f}" y="{_HEIGHT / 2:.0f}" class="xl">no data</text>'])
    frame = _Frame(xs, ys, log2_x=log2_x, y_max=y_max)
    x_ticks = sorted(set(xs)) if log2_x else [t for t in nice_ticks(min(xs), max(xs))
                                               if frame.x_low - 1e-9 <= t <= frame.x_high + 1e-9]
    if len(x_ticks) > 12:
        x_ticks = x_ticks[:: math.ceil(len(x_ticks) / 12)]
    body = _axes(frame, x_ticks, title, xlabel, ylabel)
    legend = []
    for i, s in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        d = _path(frame, s)
        if not d:
            continue
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        body.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>')
        if markers:
            for x, y in zip(s.xs, s.ys):
                if _finite(y) and _finite(x) and not (log2_x and x <= 0):
                    cy = frame.py(float(y))  # type: ignore[arg-type]
                    body.append(f'<circle cx="{frame.px(x):.1f}" cy="{cy:.1f}" r="2.5" fill="{colour}"/>')
        legend.append((s.label, colour, s.dashed))
    if len(legend) > 1 or (legend and legend[0][0]):
        body += _legend(legend)
    return _svg(title, body)


def histogram_panel(title: str, edges: Sequence[float], counts: Sequence[int], *, xlabel: str,
                    marks: Sequence[tuple[str, float]] = ()) -> str:
    """Bars of ``counts`` between ``edges`` (len(counts) + 1), with vertical lines at ``marks`` (p50, p99)."""
    if not counts or sum(counts) == 0:
        return line_panel(title, [], xlabel=xlabel, ylabel="requests")
    frame = _Frame([edges[0], edges[-1]], [0.0, float(max(counts))], log2_x=False, y_max=None)
    x_ticks = [t for t in nice_ticks(edges[0], edges[-1]) if edges[0] - 1e-12 <= t <= edges[-1] + 1e-12]
    body = _axes(frame, x_ticks, title, xlabel, "requests")
    base = frame.py(0.0)
    for left, right, count in zip(edges[:-1], edges[1:], counts):
        if count:
            x0, x1, top = frame.px(left), frame.px(right), frame.py(float(count))
            body.append(f'<rect x="{x0:.1f}" y="{top:.1f}" width="{max(0.5, x1 - x0 - 0.4):.1f}" '
                        f'height="{base - top:.1f}" fill="{COLOURS[0]}"/>')
    legend = []
    for i, (label, value) in enumerate(marks):
        if _finite(value):
            px = frame.px(value)
            dash = ' stroke-dasharray="5 3"' if i else ""
            body.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{_TOP}" y2="{base:.1f}" stroke="{COLOURS[3]}" '
                        f'stroke-width="1.5"{dash}/>')
            legend.append((label, COLOURS[3], bool(i)))
    return _svg(title, body + _legend(legend))


CSS = """
svg { background: #fff; margin: 4px; border: 1px solid #ddd; }
svg .t { font: bold 13px sans-serif; text-anchor: middle; }
svg .xl { font: 11px sans-serif; text-anchor: middle; fill: #333; }
svg .yl { font: 10px sans-serif; text-anchor: end; fill: #333; }
svg .lg { font: 10px sans-serif; fill: #333; }
svg .frame { fill: none; stroke: #999; }
svg .grid { stroke: #eee; }
svg .axis { stroke: #999; }
"""
