"""Stage 5: articles -> sentences -> labels. Reads model folders; never reaches back into training."""

from .labeler import Labeler, label_files, render_result

__all__ = ["Labeler", "label_files", "render_result"]
