"""Stage 4: metrics of a model folder on labelled sentences, and agreement between backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report

from .corpus import LABELS, read_corpus
from .metrics import compute_metrics, multi_hot
from .modeling import EventClassifier


def per_label_report(preds: np.ndarray, gold: np.ndarray) -> str:
    """scikit-learn's per-label table, the one analysts read first."""
    return classification_report(gold, preds, target_names=list(LABELS), zero_division=0, digits=3)


def evaluate_model(model_dir: str | Path, data_paths: list[str | Path], batch_size: int = 64) -> dict:
    """Score labelled JSONL with a model folder at its saved thresholds."""
    classifier = EventClassifier.from_pretrained(model_dir)
    records = read_corpus(data_paths)
    gold = multi_hot([[LABELS.index(label) for label in r["labels"]] for r in records])
    preds = classifier.decide(classifier.predict_scores([r["text"] for r in records], batch_size))
    return {"sentences": len(records), "metrics": compute_metrics(preds, gold), "report": per_label_report(preds, gold)}


def backend_agreement(model_dir: str | Path, data_paths: list[str | Path], backend: str, batch_size: int = 64) -> dict:
    """How often another backend's labels equal the torch backend's, at the saved thresholds."""
    texts = [r["text"] for r in read_corpus(data_paths)]
    reference = EventClassifier.from_pretrained(model_dir, device="cpu")
    other = EventClassifier.from_pretrained(model_dir, device="cpu", backend=backend)
    ref_scores = reference.predict_scores(texts, batch_size)
    other_scores = other.predict_scores(texts, batch_size)
    ref_preds, other_preds = reference.decide(ref_scores), other.decide(other_scores)
    return {
        "backend": backend,
        "sentences": len(texts),
        "label_agreement": float((ref_preds == other_preds).mean()),
        "sentence_agreement": float((ref_preds == other_preds).all(axis=1).mean()),
        "max_score_difference": float(np.abs(ref_scores - other_scores).max()),
    }
