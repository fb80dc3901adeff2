"""eventclf: a fine-tuned multi-label event classifier for conflict news."""

__version__ = "0.1.0"
__all__ = ["load_config", "EventClassifier", "Labeler", "LABELS"]


def __getattr__(name: str):
    """Import lazily, so `eventclf --help` is instant and offline mode is set before transformers loads."""
    if name == "load_config":
        from .config import load_config

        return load_config
    if name == "EventClassifier":
        from .modeling import EventClassifier

        return EventClassifier
    if name == "Labeler":
        from .inference import Labeler

        return Labeler
    if name == "LABELS":
        from .corpus import LABELS

        return LABELS
    raise AttributeError(f"module 'eventclf' has no attribute {name!r}")
