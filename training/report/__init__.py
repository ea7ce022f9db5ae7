"""The profile report: ``report.html`` + ``figures/*.png`` inside an artifact folder.

Sections, in page order: data, exploration, choosing k, quality of the chosen k, segments
in space, profiles, other algorithms. Figures use matplotlib's object API on the Agg canvas
(never pyplot) and sample where a plot must (scatter, silhouette, PCA, t-SNE) so a million customers
stay within the time budget; exact statistics (histograms, box plots, correlations, sizes)
use every row.

Modules: ``inputs`` (what a report is drawn from), ``style`` (colours, markers, saving),
``exploration`` / ``choosing`` / ``space`` / ``profiles`` / ``others`` (the figures),
``page`` (HTML), ``build`` (writing and regenerating).
"""

from training.report.build import regenerate_report, write_report
from training.report.inputs import ReportInputs

__all__ = ["ReportInputs", "regenerate_report", "write_report"]
