"""Small inline-SVG charts for the HTML report (no plotting dependency): grouped bars and a scatter."""

from __future__ import annotations

import math
from html import escape

PALETTE = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5", "#9c6b4e",
           "#9498a0")
FONT = 'font-family="sans-serif" font-size="11"'


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi]."""
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    return [start + i * step for i in range(math.ceil((hi - start) / step) + 1)]


def _label(v: float) -> str:
    return f"{v:g}" if abs(v) >= 1e-9 else "0"


def legend(names: list[str], x: float, y: float) -> str:
    parts = []
    for i, name in enumerate(names):
        c = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{y + i * 15}" width="10" height="10" fill="{c}"/>'
                     f'<text x="{x + 14}" y="{y + i * 15 + 9}" {FONT}>{escape(name)}</text>')
    return "".join(parts)


def bar_chart(title: str, groups: list[str], series: dict[str, list[float | None]], *, width: int = 440,
              height: int = 220, zero: bool = True) -> str:
    """Grouped bars: one group per entry of `groups`, one bar per series (method). None/NaN: no bar."""
    left, right, top, bottom = 44, 120, 22, 26
    values = [v for vs in series.values() for v in vs if v is not None and math.isfinite(v)]
    lo = 0.0 if zero or not values else min(values)
    hi = max(values) if values else 1.0
    ticks = _ticks(lo, hi)
    lo, hi = ticks[0], ticks[-1]
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - lo) / (hi - lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
           f'<text x="{left}" y="14" {FONT} font-weight="bold">{escape(title)}</text>']
    for t in ticks:
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(t):.1f}" y2="{y(t):.1f}" stroke="#ddd"/>'
                   f'<text x="{left - 4}" y="{y(t) + 4:.1f}" text-anchor="end" {FONT}>{_label(t)}</text>')
    names = list(series)
    group_w = plot_w / max(1, len(groups))
    bar_w = group_w * 0.8 / max(1, len(names))
    for g, group in enumerate(groups):
        gx = left + g * group_w + group_w * 0.1
        out.append(f'<text x="{left + (g + 0.5) * group_w:.1f}" y="{height - 8}" text-anchor="middle" '
                   f'{FONT}>{escape(group)}</text>')
        for s, name in enumerate(names):
            v = series[name][g]
            if v is None or not math.isfinite(v):
                continue
            x = gx + s * bar_w
            y0, y1 = y(max(lo, min(v, hi))), y(lo)
            out.append(f'<rect x="{x:.1f}" y="{y0:.1f}" width="{bar_w * 0.92:.1f}" height="{max(0.0, y1 - y0):.1f}" '
                       f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(name)} {escape(group)}: {v:.4g}</title>'
                       f'</rect>')
    out.append(legend(names, width - right + 10, top))
    out.append("</svg>")
    return "".join(out)


def scatter(title: str, points: dict[str, list[tuple[float, float, str]]], *, xlabel: str, ylabel: str,
            width: int = 440, height: int = 300, diagonal: bool = True) -> str:
    """Scatter of (x, y, tooltip) points per series; NaN points are skipped; y = x drawn when `diagonal`."""
    left, right, top, bottom = 44, 120, 22, 36
    finite = [(x, y) for pts in points.values() for x, y, _ in pts if math.isfinite(x) and math.isfinite(y)]
    xs = [p[0] for p in finite] or [0.0, 1.0]
    ys = [p[1] for p in finite] or [0.0, 1.0]
    lo, hi = min(min(xs), min(ys)), max(max(xs), max(ys))
    ticks = _ticks(lo, hi)
    lo, hi = ticks[0], ticks[-1]
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + plot_w * (v - lo) / (hi - lo)

    def py(v: float) -> float:
        return top + plot_h * (1 - (v - lo) / (hi - lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
           f'<text x="{left}" y="14" {FONT} font-weight="bold">{escape(title)}</text>']
    for t in ticks:
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#eee"/>'
                   f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eee"/>'
                   f'<text x="{left - 4}" y="{py(t) + 4:.1f}" text-anchor="end" {FONT}>{_label(t)}</text>'
                   f'<text x="{px(t):.1f}" y="{top + plot_h + 13}" text-anchor="middle" {FONT}>{_label(t)}</text>')
    if diagonal:
        out.append(f'<line x1="{px(lo):.1f}" y1="{py(lo):.1f}" x2="{px(hi):.1f}" y2="{py(hi):.1f}" '
                   'stroke="#999" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" {FONT}>{escape(xlabel)}'
               f'</text><text x="10" y="{top + plot_h / 2:.1f}" text-anchor="middle" {FONT} '
               f'transform="rotate(-90 10 {top + plot_h / 2:.1f})">{escape(ylabel)}</text>')
    for s, (name, pts) in enumerate(points.items()):
        c = PALETTE[s % len(PALETTE)]
        for x, y, tip in pts:
            if math.isfinite(x) and math.isfinite(y):
                out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{c}" fill-opacity="0.75">'
                           f'<title>{escape(name)} {escape(tip)}: ({x:.2f}, {y:.2f})</title></circle>')
    out.append(legend(list(points), width - right + 10, top))
    out.append("</svg>")
    return "".join(out)
