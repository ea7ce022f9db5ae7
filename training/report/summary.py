"""The report's first screen, for marketing: one compact card per segment (name, share, key
numbers in original units, suggested action); and the RFM and behaviour section's text."""

from __future__ import annotations

from html import escape

from matplotlib.colors import to_hex

from training.artifact import SegmentProfile
from training.report.inputs import ReportInputs
from training.report.style import segment_colours

__all__ = ["behaviour_text", "summary_section"]

KEY_NUMBERS = 4
SUMMARY_CSS = (
    ".summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}"
    ".summary .card{padding:2px 12px 8px}.summary ul{margin:4px 0;padding-left:18px}"
)


def _key_numbers(inputs: ReportInputs, seg: SegmentProfile) -> list[str]:
    """Medians of the cluster features (then profile ones), in original units."""
    ordered = [
        *inputs.spec.cluster_features,
        *(f for f in inputs.spec.features if f.role == "profile"),
    ]
    out = []
    for f in ordered[:KEY_NUMBERS]:
        if f.kind == "numeric":
            unit = f" {f.unit}" if f.unit and not f.unit.startswith("score") else ""
            out.append(f"{f.display}: {seg.numeric[f.name].median:,.4g}{unit} (median)")
        else:
            top, share = max(seg.categorical[f.name].items(), key=lambda kv: kv[1])
            out.append(f"{f.display}: {share:.0%} {top}")
    return out


def summary_section(inputs: ReportInputs) -> str:
    colours = [to_hex(c) for c in segment_colours(inputs.n_clusters)]
    cards = []
    segments = inputs.profile.segments  # colours by position (label order): ids can be sparse
    for i in sorted(range(len(segments)), key=lambda i: -segments[i].size):
        seg = segments[i]
        numbers = "".join(f"<li>{escape(n)}</li>" for n in _key_numbers(inputs, seg))
        cards.append(
            f'<article class="card" style="border-left-color:{colours[i]}" '
            f'id="summary-{seg.segment_id}"><h3>{seg.segment_id} · {escape(seg.name)}</h3>'
            f"<p><strong>{seg.share:.0%} of customers</strong> ({seg.size:,})</p>"
            f"<ul>{numbers}</ul><p><strong>Action:</strong> {escape(seg.action)}</p></article>"
        )
    return (
        f"<style>{SUMMARY_CSS}</style><p>{inputs.n_clusters} segments of "
        f"{inputs.profile.n_customers:,} customers, largest first. Details, charts and how "
        f'the model was chosen follow below.</p><div class="summary">{"".join(cards)}</div>'
    )


def behaviour_text(inputs: ReportInputs) -> str:
    """How the log was read: lines, rejections, the reference date, the returns rule."""
    recipe = inputs.manifest.recipe
    if recipe is None:
        return ""
    reasons = ", ".join(f"{k}: {v:,}" for k, v in recipe.rejection_reasons.items()) or "none"
    return (
        f"<p>Features computed as of <strong>{escape(recipe.as_of)}</strong> from "
        f"{recipe.lines_read:,} transaction lines: {recipe.lines_rejected:,} rejected "
        f"({escape(reasons)}; listed in <code>rejected_lines.csv</code>), "
        f"{recipe.lines_after_as_of:,} on or after the reference date ignored, "
        f"{recipe.customers_without_purchase:,} customers without a purchase left out. "
        "Returns are netted against spend and measured as the return rate.</p>"
    )
