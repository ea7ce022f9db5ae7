"""The report page: one static HTML file, no script, no external resource.

Every value that comes from data, a spec or a names file goes through :func:`html.escape`
(segment names can be overridden by marketing and end up here verbatim).
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from matplotlib.colors import to_hex

from training.artifact import SegmentProfile
from training.report import changes, others
from training.report.choosing import eligible
from training.report.inputs import ReportInputs
from training.report.style import Chart, axis_label, segment_colours
from training.report.summary import behaviour_text, summary_section

__all__ = ["SECTIONS", "render_page"]

SECTIONS = (
    ("summary", "Summary for marketing"),
    ("data", "Data"),
    ("behaviour", "RFM and behaviour"),  # only for models trained on transactions
    ("exploration", "Exploration"),
    ("choosing-k", "Choosing k"),
    ("quality", "Quality of the chosen k"),
    ("space", "Segments in space"),
    ("profiles", "Profiles"),
    ("others", "Other algorithms"),
    ("changes", "Changes since the previous model"),  # titled by changes.title()
)
TOP_REASONS = 5
_CSS = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1a1a1a;
margin:0;background:#fafafa}
header,main,footer{max-width:1180px;margin:0 auto;padding:0 24px}
header{padding-top:24px}h1{margin:0 0 4px}h2{margin-top:48px;border-bottom:2px solid #1a1a1a}
nav ol{display:flex;flex-wrap:wrap;gap:4px 24px;padding:0;list-style:none}
.meta{color:#444}.note{color:#444;font-style:italic}
table{border-collapse:collapse;margin:12px 0;background:#fff}
th,td{border:1px solid #bbb;padding:4px 10px;text-align:left}td.n{text-align:right}
tr.chosen{font-weight:700;background:#eee}
figure{margin:24px 0;background:#fff;padding:12px;border:1px solid #ddd}
figure img{max-width:100%;height:auto;display:block}figcaption{color:#333;margin-top:8px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:16px}
.card{background:#fff;border:1px solid #bbb;border-left:12px solid;padding:4px 14px 12px}
.card h3{margin:12px 0 4px}.card table{width:100%;font-size:13px}
.card th,.card td{padding:3px 5px}
footer{color:#555;font-size:14px;padding:32px 24px}
"""


def _figure(chart: Chart | None, missing: str) -> str:
    if chart is None:
        return f'<p class="note">{escape(missing)}</p>'
    return (
        f'<figure id="fig-{escape(chart.name)}"><img src="{escape(chart.src)}" '
        f'alt="{escape(chart.alt)}" width="{chart.width}" height="{chart.height}">'
        f"<figcaption>{escape(chart.caption)}</figcaption></figure>"
    )


def _table(
    head: list[str],
    rows: list[list[str]],
    numeric: set[int] | None = None,
    highlight: int | None = None,
) -> str:
    """A plain table; ``numeric`` columns align right, row ``highlight`` is bold."""
    cols = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = []
    for r, row in enumerate(rows):
        cells = "".join(
            f'<td class="n">{escape(c)}</td>'
            if i in (numeric or set())
            else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f'<tr class="chosen">{cells}</tr>' if r == highlight else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{cols}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _data(inputs: ReportInputs) -> str:
    d = inputs.manifest.data
    summary = _table(
        ["rows read", "kept", "rejected", "duplicate ids (rejected)"],
        [[f"{d.rows_read:,}", f"{d.rows_kept:,}", f"{d.rows_rejected:,}", f"{d.duplicates:,}"]],
        {0, 1, 2, 3},
    )
    reasons = list(d.rejection_reasons.items())[:TOP_REASONS]
    parts = [summary]
    if reasons:
        parts.append(f"<h3>Top {len(reasons)} reasons for rejection</h3>")
        parts.append(_table(["column at fault", "rows"], [[r, f"{n:,}"] for r, n in reasons], {1}))
        examples = [[str(r), str(why)] for r, why in inputs.rejected.itertuples(index=False)]
        parts.append("<h3>First rejected rows</h3>")
        parts.append(_table(["source row", "reason"], examples, {0}))
    else:
        parts.append("<p>No row was rejected.</p>")
    parts.append("<h3>Missing values</h3>")
    parts.append(
        _table(
            ["feature", "role", "missing", "share of kept rows", "what happens"],
            _missing_rows(inputs),
            {2, 3},
        )
    )
    return "".join(parts)


def _missing_rows(inputs: ReportInputs) -> list[list[str]]:
    rows = []
    kept = max(inputs.manifest.data.rows_kept, 1)
    for f in inputs.spec.features:
        n = inputs.manifest.data.missing.get(f.name, 0)
        if f.name in inputs.imputation:
            value = inputs.imputation[f.name]
            shown = (
                f"{value:g}{' ' + f.unit if f.unit else ''}" if isinstance(value, float) else value
            )
            kind = "median" if f.kind == "numeric" else "most frequent value"
            what = f"imputed with the training {kind}: {shown}" if n else "nothing to impute"
        else:
            what = "left missing (profile only: not in the distance)" if n else "-"
        rows.append([f.display, f.role, f"{n:,}", f"{n / kept:.1%}", what])
    return rows


def _choosing(inputs: ReportInputs, charts: dict[str, Chart | None]) -> str:
    selection = inputs.manifest.selection
    rows = [
        [
            f"{r.k} ✓ chosen" if r.k == selection.chosen_k else str(r.k),
            f"{r.wcss:,.1f}",
            f"{r.silhouette:.3f}",
            f"{r.calinski_harabasz:,.1f}",
            f"{r.davies_bouldin:.3f}",
            f"{r.stability:.2f}",
            f"{r.min_share:.1%}",
            "yes" if eligible(selection, r) else "no",
            *([f"{r.bic:,.1f}"] if r.bic is not None else []),  # a mixture's sweep only
        ]
        for r in selection.table
    ]
    chosen = next((i for i, r in enumerate(selection.table) if r.k == selection.chosen_k), None)
    head = [
        "k",
        "WCSS",
        "Silhouette",
        "Calinski-Harabasz",
        "Davies-Bouldin",
        "stability",
        "smallest segment",
        "eligible",
        *(["BIC"] if inputs.manifest.algorithm == "gmm" else []),
    ]
    table = _table(head, rows, {*range(7), 8}, highlight=chosen)
    return (
        f'<p class="verdict"><strong>How k was chosen.</strong> {escape(selection.rule)} '
        f"<strong>Outcome:</strong> {escape(selection.reason)}</p>"
        + _figure(charts.get("elbow"), "")
        + _figure(charts.get("metrics"), "")
        + "<h3>The whole selection table</h3>"
        + table
    )


def _silhouette_words(value: float) -> str:
    # Kaufman & Rousseeuw's reading of the average silhouette width.
    if value > 0.7:
        return "strong structure"
    if value > 0.5:
        return "reasonable structure"
    if value > 0.25:
        return "weak structure that could be artificial"
    return "no substantial structure"


def _quality(inputs: ReportInputs, charts: dict[str, Chart | None]) -> str:
    k = inputs.manifest.selection.chosen_k
    row = next((r for r in inputs.manifest.selection.table if r.k == k), None)
    words = (
        f"<p>The average silhouette for k={k} in the sweep is {row.silhouette:.3f}: "
        f"{escape(_silhouette_words(row.silhouette))} (above 0.7 strong, 0.5-0.7 reasonable, "
        "0.25-0.5 weak, below 0.25 none).</p>"
        if row
        else ""
    )
    return words + _figure(charts.get("silhouette"), "Only one segment: no silhouette.")


def _card(inputs: ReportInputs, seg: SegmentProfile, colour: str) -> str:
    rows, mixes = [], []
    for f in inputs.spec.features:
        if f.kind == "numeric":
            s = seg.numeric[f.name]
            rows.append(
                [
                    axis_label(f),
                    f"{s.mean:.1f}",
                    f"{s.median:.4g}",
                    f"{s.q1:.4g} to {s.q3:.4g}",
                    f"{s.z:+.2f}",
                ]
            )
        else:
            mix = " · ".join(f"{c} {p:.0%}" for c, p in seg.categorical[f.name].items())
            mixes.append(f"<p><strong>{escape(f.display)}:</strong> {escape(mix)}</p>")
    table = _table(["feature", "mean", "median", "middle half", "z vs all"], rows, {1, 2, 3, 4})
    # Generated descriptions open with the size; one overridden by a names file may not.
    size = (
        ""
        if seg.description.startswith(f"{seg.size} customers")
        else f"<p><strong>{seg.size:,} customers ({seg.share:.1%})</strong></p>"
    )
    return (
        f'<article class="card" style="border-left-color:{escape(colour)}" '
        f'id="segment-{seg.segment_id}"><h3>{seg.segment_id} · {escape(seg.name)}</h3>'
        f"{size}"
        f"<p>{escape(seg.description)}</p>"
        f"<p><strong>Suggested action:</strong> {escape(seg.action)}</p>{table}"
        f"{''.join(mixes)}</article>"
    )


def _profiles(inputs: ReportInputs, charts: dict[str, Chart | None]) -> str:
    colours = [to_hex(c) for c in segment_colours(inputs.n_clusters)]
    segments = inputs.profile.segments  # in label order; colours by position (ids can be sparse)
    cards = "".join(_card(inputs, s, colours[i]) for i, s in enumerate(segments))
    return (
        _figure(charts.get("zscores"), "No numeric feature: no z-scores.")
        + _figure(charts.get("boxplots"), "")
        + _figure(charts.get("sizes"), "")
        + f'<h3>One card per segment</h3><div class="cards">{cards}</div>'
    )


def _others(inputs: ReportInputs, charts: dict[str, Chart | None]) -> str:
    comparison = inputs.manifest.comparison
    if comparison is None:
        return '<p class="note">This model was trained without the comparison (--no-compare).</p>'
    rows, served = others.table_rows(comparison)
    words = "".join(f"<p>{escape(text)}</p>" for text in others.describe(comparison))
    return (
        _figure(charts.get("others"), "")
        + _table(others.HEAD, rows, set(range(2, 9)), highlight=served)
        + f'<p class="note">{escape(comparison.metrics_note)}</p>'
        + words
    )


def _sections(inputs: ReportInputs, charts: dict[str, Chart | None]) -> dict[str, str]:
    behaviour = {
        "behaviour": behaviour_text(inputs)
        + "".join(
            _figure(charts.get(name), "")
            for name in ("rfm-grid", "rfm-snake", "rfm-labels", "rfm-orders", "rfm-monthly")
        )
    }
    return {
        "summary": summary_section(inputs),
        "data": _data(inputs),
        **(behaviour if inputs.manifest.recipe is not None else {}),
        "exploration": _figure(charts.get("histograms"), "No numeric feature.")
        + _figure(charts.get("categories"), "No categorical feature in this spec.")
        + _figure(charts.get("correlation"), "Fewer than two numeric features: no correlation.")
        + _figure(charts.get("scatter"), "Fewer than two numeric features: no scatter."),
        "choosing-k": _choosing(inputs, charts),
        "quality": _quality(inputs, charts),
        "space": _figure(charts.get("pca-2d"), "")
        + _figure(charts.get("pca-3d"), "")
        + _figure(charts.get("tsne"), ""),
        "profiles": _profiles(inputs, charts),
        "others": _others(inputs, charts),
        "changes": changes.section(
            inputs, _figure(charts.get("migration"), "No customer id is in both trainings.")
        ),
    }


def _shown(inputs: ReportInputs) -> list[tuple[str, str]]:
    """The sections this model has, titled (the changes one after its previous version)."""
    return [
        (sid, changes.title(inputs) if sid == "changes" else title)
        for sid, title in SECTIONS
        if sid != "behaviour" or inputs.manifest.recipe is not None
    ]


def _header(inputs: ReportInputs) -> str:
    m, spec = inputs.manifest, inputs.spec
    regenerated = (
        f" Report regenerated from model version {escape(inputs.source_version)}."
        if inputs.source_version
        else ""
    )
    toc = "".join(
        f'<li><a href="#{sid}">{n}. {escape(title)}</a></li>'
        for n, (sid, title) in enumerate(_shown(inputs), start=1)
    )
    return (
        f"<header><h1>Customer segments: {escape(spec.name)}</h1>"
        f'<p class="meta">{escape(spec.description)} {m.n_clusters} segments from '
        f"{m.data.rows_kept:,} customers of <code>{escape(m.data.source)}</code> (sha256 "
        f"{escape(m.data.fingerprint[:12])}), trained {m.created_at:%Y-%m-%d %H:%M} UTC."
        f'{regenerated}</p><nav aria-label="sections"><ol>{toc}</ol></nav></header>'
    )


def render_page(
    inputs: ReportInputs, charts: dict[str, Chart | None], generated_at: datetime
) -> str:
    """The whole ``report.html``; ``charts`` maps figure names to saved charts (or None)."""
    body = _sections(inputs, charts)
    sections = "".join(
        f'<section id="{sid}" aria-labelledby="h-{sid}"><h2 id="h-{sid}">{n}. {escape(title)}'
        f"</h2>{body[sid]}</section>"
        for n, (sid, title) in enumerate(_shown(inputs), start=1)
    )
    libraries = ", ".join(f"{k} {v}" for k, v in inputs.manifest.libraries.items())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Customer segments report: {escape(inputs.spec.name)}</title>"
        # An empty icon: browsers would otherwise ask the server for /favicon.ico (a 404).
        f'<link rel="icon" href="data:,"><style>{_CSS}</style></head><body>'
        f"{_header(inputs)}<main>{sections}</main><footer>Generated "
        f"{generated_at:%Y-%m-%d %H:%M} UTC by customer-segments; {escape(libraries)}."
        "</footer></body></html>\n"
    )
