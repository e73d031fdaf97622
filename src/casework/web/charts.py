"""Server-side SVG charts in pure Python: bar charts (single, grouped or stacked), no library, no JS.

A :class:`Chart` holds categories and columns of numbers once, and gives three views of them:
an accessible inline SVG (``role="img"`` with ``<title>`` and ``<desc>``, axis labels, the
numbers formatted by the caller's locale-aware formatter), the rows of a data table and a CSV
document. Every text that reaches the SVG is escaped here.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

#: Series colours, each at least 4.5:1 against white (WCAG 1.4.11 asks 3:1 for graphics).
PALETTE = ("#0b5cad", "#b0222a", "#1e6b34", "#8a5300", "#5b3f9e", "#00687a", "#a3336b", "#4d5660")
INK = "#1b1f24"
MUTED = "#4d5660"
GRID = "#cfd6de"

Number = int | float | None
Formatter = Callable[["Column", Number], str]


@dataclass
class Column:
    """One series of values, one per category. ``kind`` tells how to format and write it."""

    key: str  # CSV header
    label: str  # shown (translated)
    values: list[Number]
    kind: str = "count"  # count | hours | share
    plot: bool = True  # drawn in the chart, or only listed in the table and CSV

    def csv_value(self, value: Number) -> str:
        if value is None:
            return ""
        if self.kind == "count":
            return str(int(value))
        if self.kind == "share":
            return f"{value:.4f}"
        return f"{value:.2f}"


@dataclass
class Chart:
    id: str  # also the CSV name: /kpi/<id>.csv
    title: str
    desc: str
    category_key: str  # CSV header of the first column
    category_label: str  # table header of the first column, and the x axis label
    categories: list[tuple[str, str]]  # (key for CSV, label shown)
    columns: list[Column]
    y_label: str
    stacked: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def plotted(self) -> list[Column]:
        return [c for c in self.columns if c.plot]

    @property
    def is_empty(self) -> bool:
        return not any(v for c in self.plotted for v in c.values)

    # ------------------------------------------------------------ table and CSV

    def table_rows(self, fmt: Formatter) -> list[list[str]]:
        return [[label, *(fmt(c, c.values[i]) for c in self.columns)] for i, (_key, label) in enumerate(self.categories)]

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([_cell(self.category_key), *(_cell(c.key) for c in self.columns)])
        for i, (key, _label) in enumerate(self.categories):
            writer.writerow([_cell(key), *(c.csv_value(c.values[i]) for c in self.columns)])
        return out.getvalue()

    # ------------------------------------------------------------ SVG

    def svg(self, fmt: Formatter, *, width: int = 640, height: int = 320) -> Markup:
        series = self.plotted
        left, right, top, bottom = 64, 16, 16, 72
        legend_h = 22 if len(series) > 1 or (self.stacked and series) else 0
        plot_w = width - left - right
        plot_h = height - top - bottom - legend_h
        totals = [
            sum(c.values[i] or 0 for c in series) if self.stacked else max((c.values[i] or 0 for c in series), default=0)
            for i in range(len(self.categories))
        ]
        integer = all(c.kind == "count" for c in series)
        ticks = nice_ticks(max(totals, default=0) if integer else max(max(totals, default=0), 1.0), integer=integer)
        top_value = ticks[-1] or 1
        n = max(1, len(self.categories))
        slot = plot_w / n
        group_w = min(slot * 0.75, 56.0 * max(1, 1 if self.stacked else len(series)))
        bar_w = group_w if self.stacked or not series else group_w / len(series)
        show_values = n * (1 if self.stacked else max(1, len(series))) <= 24
        label_every = max(1, math.ceil(n / 14))

        def y(value: float) -> float:
            return top + plot_h - (value / top_value) * plot_h

        tid, did = f"{self.id}-title", f"{self.id}-desc"
        parts: list[str] = [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'role="img" aria-labelledby="{tid} {did}" class="kpi-chart" font-size="12" font-family="system-ui, sans-serif">',
            f'<title id="{tid}">{escape(self.title)}</title>',
            f'<desc id="{did}">{escape(self.desc)}</desc>',
        ]
        # grid lines and y tick labels
        for tick in ticks:
            ty = y(tick)
            tick_text = fmt(series[0], tick) if series else str(tick)
            parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{GRID}" stroke-width="1"/>')
            parts.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="{MUTED}">{escape(tick_text)}</text>')
        # bars
        for i, (_key, label) in enumerate(self.categories):
            x0 = left + slot * i + (slot - group_w) / 2
            base = 0.0
            for j, column in enumerate(series):
                value = column.values[i] or 0
                colour = PALETTE[j % len(PALETTE)]
                if self.stacked:
                    bx, y1, y2 = x0, y(base + value), y(base)
                    base += value
                else:
                    bx, y1, y2 = x0 + bar_w * j, y(value), y(0)
                if value:
                    parts.append(
                        f'<rect x="{bx:.1f}" y="{y1:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{max(y2 - y1, 0.5):.1f}" '
                        f'fill="{colour}" stroke="#fff" stroke-width="0.5"><title>{escape(label)} · {escape(column.label)}: '
                        f"{escape(fmt(column, column.values[i]))}</title></rect>"
                    )
                if show_values and not self.stacked and column.values[i] is not None and (value or n <= 7):
                    parts.append(
                        f'<text x="{bx + bar_w / 2:.1f}" y="{y1 - 4:.1f}" text-anchor="middle" fill="{INK}">'
                        f"{escape(fmt(column, column.values[i]))}</text>"
                    )
            if show_values and self.stacked and totals[i]:
                parts.append(
                    f'<text x="{x0 + group_w / 2:.1f}" y="{y(totals[i]) - 4:.1f}" text-anchor="middle" fill="{INK}">'
                    f"{escape(fmt(series[0], totals[i]))}</text>"
                )
            if i % label_every == 0:
                cx, cy = left + slot * i + slot / 2, top + plot_h + 14
                room = 16 if n > 7 else max(16, int(slot / 7))
                short = label if len(label) <= room else label[: room - 1] + "…"
                rotate = f' transform="rotate(-30 {cx:.1f} {cy:.1f})"' if n > 7 else ""
                anchor = "end" if n > 7 else "middle"
                parts.append(f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="{anchor}" fill="{INK}"{rotate}>{escape(short)}</text>')
        # axes and their labels
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="{INK}" stroke-width="1"/>')
        parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{y(0):.1f}" stroke="{INK}" stroke-width="1"/>')
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + bottom - 6}" text-anchor="middle" fill="{INK}" font-weight="600">'
            f"{escape(self.category_label)}</text>"
        )
        parts.append(
            f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" fill="{INK}" font-weight="600" '
            f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{escape(self.y_label)}</text>'
        )
        # legend
        if legend_h:
            lx, ly = left, height - legend_h + 6
            for j, column in enumerate(series):
                colour = PALETTE[j % len(PALETTE)]
                parts.append(f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour}"/>')
                text = column.label if len(column.label) <= 24 else column.label[:23] + "…"
                parts.append(f'<text x="{lx + 16}" y="{ly + 10}" fill="{INK}">{escape(text)}</text>')
                lx += 24 + 7 * len(text)
                if lx > width - 80:
                    break
        parts.append("</svg>")
        return Markup("".join(parts))


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def nice_ticks(maximum: float, *, integer: bool = True, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (steps of 1, 2 or 5 times a power of ten)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if integer:
        step = max(1, round(step))
    ticks: list[float] = [0]
    while ticks[-1] < maximum:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def describe(intro: str, categories: Sequence[tuple[str, str]], columns: Sequence[Column], fmt: Formatter, *, limit: int = 12) -> str:
    """A text alternative: ``intro`` then each category's values, when there are few enough."""
    shown = [c for c in columns if c.plot]
    if not categories or len(categories) > limit:
        return intro
    items = []
    for i, (_key, label) in enumerate(categories):
        values = ", ".join(f"{c.label} {fmt(c, c.values[i])}" if len(shown) > 1 else fmt(c, c.values[i]) for c in shown)
        items.append(f"{label}: {values}")
    return f"{intro} " + "; ".join(items) + "."
