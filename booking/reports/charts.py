"""Bar charts as inline SVG, drawn on the server: no JavaScript, nothing from another host.

Each chart is an image with a title and a description (role="img", aria-labelledby); every
bar carries its label and value as text, so nothing is told by colour alone. The numbers are
also in the table next to the chart, which screen readers use.
"""

from dataclasses import dataclass

from markupsafe import Markup, escape

BAR = "#0b4f8a"  # the accent colour: 8.6:1 against white
TEXT = "#1b1b1b"
WIDTH = 640
LABEL_WIDTH = 250
VALUE_WIDTH = 70
ROW = 30
BAR_HEIGHT = 20
MAX_LABEL = 30  # at 14 px, what fits in LABEL_WIDTH


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # None: suppressed (small number), no bar drawn
    text: str  # the value as shown, e.g. "12" or "< 5"


def _short(label: str) -> str:
    """Long labels keep their start and end (the office in "Service (Office)"); the table
    beside the chart has them in full."""
    if len(label) <= MAX_LABEL:
        return label
    head = (MAX_LABEL - 1) // 2
    return label[:head] + "…" + label[-(MAX_LABEL - 1 - head) :]


def bar_chart(chart_id: str, title: str, description: str, bars: list[Bar]) -> Markup:
    """A horizontal bar chart; `chart_id` makes the title and description ids unique."""
    top = max((bar.value for bar in bars if bar.value is not None), default=0) or 1
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = ROW * max(len(bars), 1) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" font-family="sans-serif" font-size="14">',  # no style: the CSP
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for index, bar in enumerate(bars):
        y = 5 + index * ROW
        middle = y + BAR_HEIGHT / 2 + 5
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle:.0f}" text-anchor="end" fill="{TEXT}">'
            f"{escape(_short(bar.label))}</text>"
        )
        length = 0.0
        if bar.value:
            length = max(area * bar.value / top, 2.0)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{BAR}"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{middle:.0f}" fill="{TEXT}">'
            f"{escape(bar.text)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
