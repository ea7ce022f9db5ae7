"""Outputs of ``segments uplift``: ``uplift.csv``, ``uplift.html`` and its forest plots.

Figures follow the report's rules (:mod:`training.report.style`): matplotlib's object API
on the Agg canvas, a title, axis units, a legend, alt text on the page. Every file is
written to a temporary name and renamed into place; the page goes last.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import asdict, fields
from html import escape
from pathlib import Path

import numpy as np

from training.report.style import INK, SOFT, Chart, Plot, new_figure, save
from training.uplift import UpliftRow
from training.uplift_data import Joined

__all__ = ["CSV_NAME", "HTML_NAME", "LEFT_OUT", "format_value", "row_label", "write_outputs"]

CSV_NAME = "uplift.csv"
HTML_NAME = "uplift.html"
LEFT_OUT = {
    "outcomes_not_assigned": "ids in outcomes but not in the campaign's assignments",
    "in_both_arms": "ids assigned to both arms",
    "in_several_segments": "ids assigned to several segments",
    "assigned_without_outcome": "assigned ids without an outcome",
}
_AXIS = {
    "converted": "absolute uplift in conversion (percentage points, treatment - holdout)",
    "revenue": "absolute uplift in revenue per customer (outcome file's currency)",
}


def _replace_into(path: Path, write: str) -> None:
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        tmp.write_text(write, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def csv_text(rows: list[UpliftRow]) -> str:
    """One line per (metric, segment); empty cells where a value is undefined."""
    from io import StringIO

    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([f.name for f in fields(UpliftRow)])
    for row in rows:
        values = asdict(row).values()
        writer.writerow(["" if isinstance(v, float) and math.isnan(v) else v for v in values])
    return buffer.getvalue()


def forest(rows: list[UpliftRow], metric: str, campaign: str) -> Plot:
    """Point and 95 % interval per segment, the overall row as a diamond, zero marked."""
    scale = 100.0 if metric == "converted" else 1.0
    shown = [r for r in rows if r.metric == metric and not math.isnan(r.uplift)]
    fig = new_figure(8.0, 0.5 * len(shown) + 2.4)
    ax = fig.subplots()
    y = np.arange(len(shown))[::-1]
    for pos, row in zip(y, shown, strict=True):
        overall = row.segment == "all"
        ax.errorbar(
            row.uplift * scale, pos,
            xerr=[[(row.uplift - row.ci_low) * scale], [(row.ci_high - row.uplift) * scale]],
            fmt="D" if overall else "s", color=INK, ecolor=SOFT if overall else INK,
            markersize=9 if overall else 6, capsize=4,
            label="all targeted customers" if overall else None,
        )  # fmt: skip
    ax.errorbar([], [], xerr=[], fmt="s", color=INK, capsize=4, label="segment (95 % CI)")
    ax.axvline(0.0, color=SOFT, linestyle="--", linewidth=1.2, label="no effect")
    ax.set_yticks(y, [row_label(r) for r in shown])
    ax.set_ylim(-0.8, len(shown) - 0.2)
    ax.set_xlabel(_AXIS[metric])
    ax.set_title(f"Campaign {campaign!r}: uplift in {metric} per segment")
    fig.legend(loc="outside lower center", ncols=3, fontsize="small")
    alt = f"Forest plot of the uplift in {metric} per segment: " + "; ".join(
        f"{row_label(r)} {r.uplift * scale:+.2f} (95 % CI {r.ci_low * scale:+.2f} to "
        f"{r.ci_high * scale:+.2f})"
        for r in shown
    )
    caption = (
        f"Each line is a segment's 95 % interval ({'Newcombe' if scale > 1 else 'Welch'}); "
        "the diamond is every targeted customer; the dashed line is no effect."
    )
    return Plot(f"forest-{metric}", fig, alt, caption)


def row_label(row: UpliftRow) -> str:
    if row.segment == "all":
        return "all"
    return f"{row.segment} · {row.segment_name}" if row.segment_name else f"segment {row.segment}"


def format_value(value: float, metric: str, *, signed: bool = False) -> str:
    if math.isnan(value):
        return "-"
    if metric == "converted":
        return f"{value * 100:+.1f} pp" if signed else f"{value:.1%}"
    return f"{value:+,.2f}" if signed else f"{value:,.2f}"


def html_page(rows: list[UpliftRow], joined: Joined, campaign: str, charts: list[Chart]) -> str:
    """The uplift page: what was analysed, what was left out, a table and a plot per metric."""
    counts = joined.counts
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8>",
        f"<title>Uplift of {escape(campaign)}</title>",
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:1100px;margin:24px auto;"
        "padding:0 24px;color:#1a1a1a}table{border-collapse:collapse}td,th{border:1px solid "
        "#bbb;padding:4px 8px}td.n{text-align:right}img{max-width:100%;height:auto}</style>",
        f"<h1>Uplift of campaign {escape(campaign)}</h1>",
        f"<p>{counts['analysed']:,} customers analysed (treatment against holdout), from "
        f"{counts['assignment_rows']:,} assignment rows and {counts['outcome_rows']:,} "
        "outcome rows.</p><h2>Left out, never guessed</h2><ul>",
        *(f"<li>{escape(text)}: {counts.get(key, 0):,}</li>" for key, text in LEFT_OUT.items()),
        "</ul>",
    ]
    by_name = {c.name: c for c in charts}
    for metric in joined.metrics:
        parts.append(f"<h2>{escape(metric)}</h2>")
        parts.append(_html_table([r for r in rows if r.metric == metric], metric))
        chart = by_name[f"forest-{metric}"]
        parts.append(
            f'<figure><img src="{escape(chart.src)}" alt="{escape(chart.alt)}" '
            f'width="{chart.width}" height="{chart.height}"><figcaption>'
            f"{escape(chart.caption)}</figcaption></figure>"
        )
    parts.append(
        "<p>p-values of the segments are Holm-adjusted within a metric; the verdict reads the "
        "adjusted p-value at 5 %. MDE: the smallest true effect found 80 % of the time at "
        "this size.</p></html>"
    )
    return "\n".join(parts)


def _html_table(rows: list[UpliftRow], metric: str) -> str:
    head = ["segment", "n treatment", "n holdout", "treatment", "holdout", "uplift",
            "95 % CI", "relative", "p (Holm)", "MDE", "verdict"]  # fmt: skip
    body = []
    for r in rows:

        def show(value: float, *, signed: bool = True) -> str:
            return format_value(value, metric, signed=signed)

        cells = [
            row_label(r), f"{r.n_treatment:,}", f"{r.n_holdout:,}",
            show(r.treatment, signed=False), show(r.holdout, signed=False), show(r.uplift),
            f"{show(r.ci_low)} to {show(r.ci_high)}",
            "-" if math.isnan(r.relative) else f"{r.relative:+.0%}",
            "-" if math.isnan(r.p_adjusted) else f"{r.p_adjusted:.3g}",
            show(r.mde).lstrip("+"), r.verdict,
        ]  # fmt: skip
        body.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def write_outputs(rows: list[UpliftRow], joined: Joined, campaign: str, out: Path) -> Path:
    """Write the CSV, the figures and the page into ``out``; return the page's path."""
    if out.exists() and not out.is_dir():
        from training.data import DataError

        raise DataError(f"--out {out} is a file: give a folder")
    (out / "figures").mkdir(parents=True, exist_ok=True)
    charts = []
    for metric in joined.metrics:
        plot = forest(rows, metric, campaign)
        final = out / "figures" / f"{plot.name}.png"
        plot.name = f".{plot.name}.partial-{os.getpid()}"
        chart = save(plot, out)
        os.replace(out / chart.src, final)
        charts.append(Chart(final.stem, f"figures/{final.name}", chart.alt, chart.caption,
                            chart.width, chart.height))  # fmt: skip
    _replace_into(out / CSV_NAME, csv_text(rows))
    _replace_into(out / HTML_NAME, html_page(rows, joined, campaign, charts))
    return out / HTML_NAME
