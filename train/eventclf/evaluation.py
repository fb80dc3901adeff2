"""Stage 4: metrics of a model folder on labelled sentences, through the shipped `evaluate` module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import evaluate
import numpy as np
from sklearn.metrics import classification_report

from .corpus import LABELS, read_corpus
from .modeling import EventClassifier

METRIC_PATH = Path(__file__).parent / "metrics" / "eventclf_multilabel"


@lru_cache(maxsize=1)
def load_metric() -> evaluate.EvaluationModule:
    """The metric module, loaded by local path so it works offline."""
    return evaluate.load(str(METRIC_PATH))


def multi_hot(label_lists: list[list[str]]) -> np.ndarray:
    return np.array([[int(label in labels) for label in LABELS] for labels in label_lists], dtype=np.int64)


def compute_metrics(preds: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    return load_metric().compute(predictions=preds.tolist(), references=gold.tolist(), label_names=list(LABELS))


def per_label_report(preds: np.ndarray, gold: np.ndarray) -> str:
    """scikit-learn's per-label table, the one analysts read first."""
    return classification_report(gold, preds, target_names=list(LABELS), zero_division=0, digits=3)


def evaluate_model(model_dir: str | Path, data_paths: list[str | Path], batch_size: int = 64) -> dict:
    """Score labelled JSONL with a model folder at its saved thresholds."""
    classifier = EventClassifier.from_pretrained(model_dir)
    records = read_corpus(data_paths)
    gold = multi_hot([r["labels"] for r in records])
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
