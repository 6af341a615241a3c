"""One self-contained HTML page: headline cards, sections of interactive charts and tables.

Charts are plotly figures. plotly.js is inlined once per page from the plotly package itself
(no CDN, no server): the page opens from disk, offline, in any current browser.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dispatch.distribution import install_hint
from dispatch.errors import InputError
from dispatch.files import write_atomic

if TYPE_CHECKING:
    import plotly.graph_objects as go

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def plotly() -> Any:
    """``plotly.graph_objects``, or a one-line error naming the extra to install."""
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise InputError(f"reports need plotly: {install_hint('report')}") from None
    return go


def subplots(**kwargs: Any) -> go.Figure:
    """``plotly.subplots.make_subplots`` (plotly checked first)."""
    plotly()
    from plotly.subplots import make_subplots

    return make_subplots(**kwargs)


def style(figure: go.Figure, height: int, title: str = "") -> go.Figure:
    """The house style: white background, the page's font, a title at the top left."""
    if title:
        figure.update_layout(title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}})
    figure.update_layout(
        template="plotly_white",
        height=height,
        font={"family": FONT, "size": 12},
        margin={"l": 70, "r": 30, "t": 70 if title else 50, "b": 60},
        hoverlabel={"font": {"family": FONT}},
        separators=".,",
    )
    return figure


@dataclass(frozen=True)
class Card:
    """A headline number: its label, the formatted value and a line saying what it means."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Table:
    """A formatted table: every cell already text; ``numeric`` columns align right."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()
    caption: str = ""
    collapsed: bool = False  # long lists: shown on a click, under their caption


@dataclass(frozen=True)
class Section:
    """A titled part of the page: text, then tables, then charts."""

    title: str
    intro: str = ""
    tables: tuple[Table, ...] = ()
    figures: tuple[go.Figure, ...] = ()
    subsections: tuple[Section, ...] = field(default_factory=tuple)


CSS = """
body{font-family:FONT;color:#1f2933;margin:0;background:#f5f7fa}
main{max-width:1280px;margin:auto;padding:24px 32px 48px;background:#fff}
h1{font-size:1.7em;margin:0 0 4px}h2{margin:36px 0 8px;border-bottom:1px solid #e4e7eb;
padding-bottom:4px}h3{margin:24px 0 6px}
.facts{color:#52606d;margin:0 0 18px}.facts span{margin-right:18px;white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:12px}
.card{border:1px solid #e4e7eb;border-radius:8px;padding:12px 14px;background:#fbfcfd}
.card .label{color:#52606d;font-size:.85em}.card .value{font-size:1.5em;font-weight:600;
margin:2px 0}.card .note{color:#7b8794;font-size:.8em}
table{border-collapse:collapse;margin:10px 0 18px;font-size:.92em}
th,td{padding:4px 10px;border-bottom:1px solid #e4e7eb;text-align:left}
th{background:#f5f7fa;font-weight:600}td.num,th.num{text-align:right;
font-variant-numeric:tabular-nums}caption{caption-side:top;text-align:left;color:#52606d;
padding:4px 0}.chart{margin:8px 0 20px}p.intro{max-width:900px;color:#323f4b}
""".replace("FONT", FONT)


def _table(table: Table) -> str:
    numeric = table.numeric or (False,) * len(table.columns)

    def cell(tag: str, text: str, is_number: bool) -> str:
        kind = ' class="num"' if is_number else ""
        return f"<{tag}{kind}>{html.escape(text)}</{tag}>"

    head = "".join(cell("th", c, n) for c, n in zip(table.columns, numeric, strict=True))
    body = "".join(
        "<tr>" + "".join(cell("td", v, n) for v, n in zip(row, numeric, strict=True)) + "</tr>"
        for row in table.rows
    )
    rows = f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
    if table.collapsed:
        summary = f"{html.escape(table.caption or 'table')} ({len(table.rows)})"
        return f"<details><summary>{summary}</summary><table>{rows}</table></details>"
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}{rows}</table>"


def _section(section: Section, level: int, counter: list[int]) -> str:
    parts = [f"<h{level}>{html.escape(section.title)}</h{level}>"]
    if section.intro:
        parts.append(f'<p class="intro">{html.escape(section.intro)}</p>')
    parts += [_table(t) for t in section.tables]
    for figure in section.figures:
        counter[0] += 1
        div = figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{counter[0]}",
            config=PLOT_CONFIG,
        )
        parts.append(f'<div class="chart">{div}</div>')
    parts += [_section(s, level + 1, counter) for s in section.subsections]
    return "\n".join(parts)


def render(
    title: str, facts: Sequence[str], cards: Sequence[Card], sections: Sequence[Section]
) -> str:
    """The whole page as a string, plotly.js inlined once."""
    plotly()
    from plotly.offline import get_plotlyjs

    counter = [0]
    body = "\n".join(_section(s, 2, counter) for s in sections)
    card_html = "".join(
        f'<div class="card"><div class="label">{html.escape(c.label)}</div>'
        f'<div class="value">{html.escape(c.value)}</div>'
        f'<div class="note">{html.escape(c.note)}</div></div>'
        for c in cards
    )
    fact_html = "".join(f"<span>{html.escape(f)}</span>" for f in facts)
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style>"
        f"<script>{get_plotlyjs()}</script></head><body><main>"
        f"<h1>{html.escape(title)}</h1><p class='facts'>{fact_html}</p>"
        f"<div class='cards'>{card_html}</div>\n{body}\n</main></body></html>\n"
    )


def write_page(page: str, path: str | Path) -> Path:
    """Write the page atomically (whole or not at all); return its path."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"{target.parent}: cannot make the folder ({error.strerror})") from None
    return write_atomic(target, lambda p: p.write_text(page, encoding="utf-8"))
