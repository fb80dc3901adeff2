"""Per-label decision thresholds, chosen once from stored validation scores (no re-prediction)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve

from .corpus import LABELS

DEFAULT_THRESHOLD = 0.5


def tune_thresholds(scores: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """For each label, the score cut with the best F1 on these scores; 0.5 if the label never occurs."""
    thresholds = {}
    for i, label in enumerate(LABELS):
        if gold[:, i].sum() == 0:
            thresholds[label] = DEFAULT_THRESHOLD
            continue
        precision, recall, cuts = precision_recall_curve(gold[:, i], scores[:, i])
        f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
        thresholds[label] = float(cuts[int(np.argmax(f1))])
    return thresholds
