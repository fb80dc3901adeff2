"""Stage 5: articles -> sentences -> labels. Reads model folders; never reaches back into training."""

from .dump import LabelOptions, LabelSummary, label_files
from .io import Fields
from .labeler import Labeler, render_result

__all__ = ["Fields", "LabelOptions", "LabelSummary", "Labeler", "label_files", "render_result"]
