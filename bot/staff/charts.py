"""Small server-side SVG bar charts (no JavaScript, readable when printed for a review)."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR = 18
GAP = 6
LABEL_W = 150
WIDTH = 640
COLORS = ("#2f6f9f", "#c0392b", "#d98a1e", "#3c8d5a", "#7a5c99", "#5b6770")


def hbar(items: list[tuple[str, float]], *, title: str, unit: str = "件",
         color: str = COLORS[0]) -> Markup:
    """A horizontal bar chart: one labelled bar per item."""
    peak = max((v for _, v in items), default=0) or 1
    height = len(items) * (BAR + GAP) + GAP + 4
    plot = WIDTH - LABEL_W - 70
    parts = [_open(WIDTH, height, title)]
    for i, (label, value) in enumerate(items):
        y = GAP + i * (BAR + GAP)
        width = plot * value / peak
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{y + BAR - 5}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_W}" y="{y}" width="{width:.1f}" height="{BAR}" fill="{color}">'
            f"<title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>"
            f'<text x="{LABEL_W + width + 6:.1f}" y="{y + BAR - 5}">{_fmt(value)}{escape(unit)}'
            "</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(items: list[tuple[str, float]], *, title: str, unit: str = "件",
            color: str = COLORS[0], label_every: int = 1) -> Markup:
    """A vertical bar chart over time (weeks)."""
    height, bottom, top = 220, 40, 16
    peak = max((v for _, v in items), default=0) or 1
    step = (WIDTH - 40) / max(len(items), 1)
    bar = max(step - 3, 2)
    plot = height - bottom - top
    parts = [_open(WIDTH, height, title),
             f'<line x1="30" y1="{height - bottom}" x2="{WIDTH}" y2="{height - bottom}" '
             'stroke="#999"/>',
             f'<text x="26" y="{top + 4}" text-anchor="end">{_fmt(peak)}</text>']
    for i, (label, value) in enumerate(items):
        x = 34 + i * step
        h = plot * value / peak
        parts.append(
            f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" height="{h:.1f}"'
            f' fill="{color}"><title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>'
        )
        if i % label_every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 14}" '
                         f'class="tick">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {width} {height}" width="100%" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>")


def _fmt(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
