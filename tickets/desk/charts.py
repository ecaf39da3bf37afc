"""Small server-side SVG charts for the admin dashboard (no scripts, no CDN).

Colours come from ``currentColor`` and CSS classes (``static/desk/desk.css`` maps them
to Wagtail's theme variables), so the charts follow the light and dark admin themes.
Each chart carries its numbers as rows for the visually hidden table beside it.
"""

from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

WIDTH, HEIGHT = 600, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 40, 10, 10, 30


@dataclass
class Chart:
    title: str
    caption: str
    label_header: str
    series_names: list[str]
    rows: list[tuple[str, list]]  # (label, one value per series)
    svg: SafeString = field(default=SafeString(""))

    @property
    def is_empty(self) -> bool:
        return not self.rows


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step:
            return step
    return value


def _frame(label: str, body: str) -> SafeString:
    return mark_safe(  # noqa: S308 - every interpolated text is escaped by the callers
        f'<svg role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" class="chart-svg" '
        f'xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _axes(top: float, unit: str = "") -> str:
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = []
    for fraction in (0, 0.5, 1):
        y = PAD_TOP + inner_h * (1 - fraction)
        parts.append(
            f'<line class="chart-grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}" stroke="currentColor" stroke-opacity="0.2"/>'
            f'<text x="{PAD_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="currentColor">{escape(_fmt(top * fraction))}{unit}</text>'
        )
    return "".join(parts)


def line_chart(
    title, caption, labels, series, *, label_header=None, label_every=7
) -> Chart:
    """Lines over ``labels`` (e.g. days); ``series`` is ``[(name, values), …]``. The
    axis names the first, the last and every ``label_every``-th label."""
    rows = [
        (label, [values[i] for _, values in series]) for i, label in enumerate(labels)
    ]
    top = _nice_max(max((v or 0 for _, values in series for v in values), default=0))
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    step = inner_w / max(len(labels) - 1, 1)
    body = [_axes(top)]
    for index, (name, values) in enumerate(series, start=1):
        points = " ".join(
            f"{PAD_LEFT + i * step:.1f},{PAD_TOP + inner_h * (1 - (v or 0) / top):.1f}"
            for i, v in enumerate(values)
        )
        dash = ' stroke-dasharray="6 4"' if index % 2 == 0 else ""
        body.append(
            f'<polyline class="chart-series-{index}" fill="none" stroke="currentColor" '
            f'stroke-width="2"{dash} points="{points}"><title>{escape(name)}</title>'
            f"</polyline>"
        )
    for i, label in enumerate(labels):
        if i in (0, len(labels) - 1) or i % label_every == 0:
            body.append(
                f'<text x="{PAD_LEFT + i * step:.1f}" y="{HEIGHT - 8}" font-size="11" '
                f'text-anchor="middle" fill="currentColor">{escape(label)}</text>'
            )
    legend_x = PAD_LEFT + 8
    for index, (name, _) in enumerate(series, start=1):
        dash = ' stroke-dasharray="6 4"' if index % 2 == 0 else ""
        y = PAD_TOP + 6 + (index - 1) * 16
        body.append(
            f'<line class="chart-series-{index}" x1="{legend_x}" x2="{legend_x + 20}" '
            f'y1="{y}" y2="{y}" stroke="currentColor" stroke-width="2"{dash}/>'
            f'<text x="{legend_x + 26}" y="{y + 4}" font-size="11" '
            f'fill="currentColor">{escape(name)}</text>'
        )
    aria = f"{title}: " + "; ".join(
        gettext("%(name)s %(total)s in total")
        % {"name": name, "total": sum(v or 0 for v in values)}
        for name, values in series
    )
    if label_header is None:
        label_header = gettext("Day")
    chart = Chart(title, caption, label_header, [n for n, _ in series], rows)
    chart.svg = _frame(aria, "".join(body))
    return chart


def bar_chart(
    title, caption, labels, values, *, series_name, label_header, unit="", top=None
) -> Chart:
    """Vertical bars, one per label; ``None`` values are drawn as "no data"."""
    rows = [(label, [value]) for label, value in zip(labels, values, strict=True)]
    top = top or _nice_max(max((v or 0 for v in values), default=0))
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = inner_w / max(len(labels), 1)
    bar_w = min(60, slot * 0.6)
    body = [_axes(top, unit)]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = PAD_LEFT + i * slot + (slot - bar_w) / 2
        h = inner_h * (value or 0) / top
        body.append(
            f'<rect class="chart-series-1" x="{x:.1f}" y="{PAD_TOP + inner_h - h:.1f}" '
            f'width="{bar_w:.1f}" height="{h:.1f}" fill="currentColor">'
            f"<title>{escape(label)}: {escape(_fmt(value))}{unit}</title></rect>"
            f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - 8}" font-size="11" '
            f'text-anchor="middle" fill="currentColor">{escape(label)}</text>'
            f'<text x="{x + bar_w / 2:.1f}" y="{max(PAD_TOP + inner_h - h - 4, 12):.1f}" '
            f'font-size="11" text-anchor="middle" fill="currentColor">'
            f"{escape(_fmt(value))}</text>"
        )
    aria = f"{title}: " + "; ".join(
        f"{label} {_fmt(value)}{unit}"
        for label, value in zip(labels, values, strict=True)
    )
    chart = Chart(title, caption, label_header, [series_name], rows)
    chart.svg = _frame(aria, "".join(body))
    return chart
