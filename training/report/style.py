"""One look for every figure: segment colours, markers and hatches, sizes, saving.

Segment colours come from viridis (perceptually uniform, monotonic in lightness), and each
segment also gets its own marker shape and hatch, so every figure still reads in greyscale
or for colour-blind readers. Figures are built with ``matplotlib.figure.Figure`` and drawn
on an Agg canvas: no pyplot state, no display, safe to call from any thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Patch

from training.artifact import FIGURES, SegmentProfile
from training.spec import FeatureSpec

__all__ = [
    "DPI",
    "FIGURES",
    "HEATMAP",
    "INK",
    "SOFT",
    "Chart",
    "Plot",
    "axis_label",
    "hatch",
    "legend_height",
    "marker",
    "new_figure",
    "save",
    "segment_colours",
    "segment_handles",
    "segment_label",
    "segment_legend",
    "text_colour",
]

DPI = 110
INK = "#1a1a1a"
SOFT = "#8c8c8c"
HEATMAP = "cividis"
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
_LONG_LABEL = 34  # legend labels longer than this go below the plot, not beside it
_HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--", "||", "**", "OO", "//..")


@dataclass
class Plot:
    """A drawn figure, not yet saved."""

    name: str
    figure: Figure
    alt: str
    caption: str


@dataclass(frozen=True)
class Chart:
    """A saved figure as the page links it: ``figures/<name>.png``."""

    name: str
    src: str
    alt: str
    caption: str
    width: int
    height: int


def new_figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def save(plot: Plot, folder: Path) -> Chart:
    """Render ``plot`` to ``folder/figures/<name>.png`` with the Agg canvas."""
    canvas = FigureCanvasAgg(plot.figure)
    path = folder / FIGURES / f"{plot.name}.png"
    plot.figure.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    width, height = canvas.get_width_height()
    return Chart(
        name=plot.name,
        src=f"{FIGURES}/{plot.name}.png",
        alt=plot.alt,
        caption=plot.caption,
        width=width,
        height=height,
    )


def segment_colours(n_clusters: int) -> np.ndarray:
    """RGBA rows, dark to light; the top of viridis is left out (yellow on white is faint)."""
    return colormaps["viridis"](np.linspace(0.0, 0.88, max(n_clusters, 2)))[:n_clusters]


def marker(segment: int) -> str:
    return _MARKERS[segment % len(_MARKERS)]


def hatch(index: int) -> str:
    return _HATCHES[index % len(_HATCHES)]


def segment_label(segment: SegmentProfile) -> str:
    return f"{segment.segment_id} · {segment.name}"


def axis_label(feature: FeatureSpec) -> str:
    return f"{feature.display} ({feature.unit})" if feature.unit else feature.display


def text_colour(rgba: tuple[float, float, float, float] | np.ndarray) -> str:
    """Black on light cells, white on dark ones (relative luminance)."""
    red, green, blue = rgba[0], rgba[1], rgba[2]
    return INK if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


def _legend_below(segments: list[SegmentProfile]) -> bool:
    return len(segments) > 6 or max(len(segment_label(s)) for s in segments) > _LONG_LABEL


def legend_height(segments: list[SegmentProfile]) -> float:
    """Extra figure height (inches) for a segment legend drawn below the plot."""
    return 0.28 * math.ceil((len(segments) + 1) / 2) + 0.5 if _legend_below(segments) else 0.0


def segment_legend(
    fig: Figure, handles: list[Any], segments: list[SegmentProfile], **kwargs: Any
) -> Legend:
    """The figure's segment legend: at the right, or below in two columns for long names."""
    if _legend_below(segments):
        return fig.legend(
            handles=handles,
            loc="outside lower center",
            ncols=2,
            title="segment",
            fontsize="small",
            **kwargs,
        )
    return fig.legend(handles=handles, loc="outside right upper", title="segment", **kwargs)


def segment_handles(segments: list[SegmentProfile], colours: np.ndarray) -> list[Patch]:
    """Legend patches: each segment's colour and hatch, so the legend reads in greyscale."""
    return [
        Patch(
            facecolor=colours[i],
            edgecolor=INK,
            hatch=hatch(i),
            label=segment_label(s),
        )
        for i, s in enumerate(segments)  # label order; ids can be sparse
    ]
