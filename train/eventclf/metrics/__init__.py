"""Metrics shared by training, baselines and evaluation, through the `evaluate` module shipped here.

The module is loaded by local path, so it works offline (`evaluate.load("f1")` would fetch from the hub).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import evaluate
import numpy as np

from ..corpus import LABELS

METRIC_PATH = Path(__file__).parent / "eventclf_multilabel"


@lru_cache(maxsize=1)
def load_metric() -> evaluate.EvaluationModule:
    return evaluate.load(str(METRIC_PATH))


def multi_hot(label_ids: list[list[int]]) -> np.ndarray:
    """Rows of 0/1 per label from lists of label indices (the dataset's ClassLabel ids)."""
    rows = np.zeros((len(label_ids), len(LABELS)), dtype=np.int64)
    for row, ids in zip(rows, label_ids):
        row[list(ids)] = 1
    return rows


def compute_metrics(preds: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """Per-label, micro, macro and example-based scores of 0/1 predictions against 0/1 gold."""
    return load_metric().compute(predictions=preds.tolist(), references=gold.tolist(), label_names=list(LABELS))
