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


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros_like(numerator, dtype=np.float64), where=denominator > 0)


def f1_scores(preds: np.ndarray, gold: np.ndarray) -> dict[str, float]:
    """The same F1 family as `compute_metrics`, in plain numpy: fast enough to run a thousand times."""
    tp = (preds & gold).sum(axis=0)
    predicted, actual = preds.sum(axis=0), gold.sum(axis=0)
    precision, recall = _ratio(tp, predicted), _ratio(tp, actual)
    f1 = _ratio(2 * tp, predicted + actual)
    row_sizes = preds.sum(axis=1) + gold.sum(axis=1)
    per_sentence = np.where(row_sizes > 0, _ratio(2 * (preds & gold).sum(axis=1), row_sizes), 1.0)
    scores = {
        "micro_f1": float(_ratio(np.array(2 * tp.sum()), np.array(predicted.sum() + actual.sum()))),
        "macro_f1": float(f1.mean()),
        "samples_f1": float(per_sentence.mean()),
    }
    for i, label in enumerate(LABELS):
        scores.update({f"{label}_precision": float(precision[i]), f"{label}_recall": float(recall[i]), f"{label}_f1": float(f1[i])})
    return scores


def with_interval(value: float, bounds: tuple[float, float]) -> str:
    """`0.912 [0.895, 0.927]`: how a score and its interval are shown everywhere."""
    return f"{value:.3f} [{bounds[0]:.3f}, {bounds[1]:.3f}]"


def bootstrap_intervals(preds: np.ndarray, gold: np.ndarray, groups: np.ndarray | None = None, resamples: int = 1000, seed: int = 0) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of every F1-family score.

    With `groups` (article ids) whole articles are resampled: sentences of one article are not
    independent, and resampling them one by one would give intervals that are too narrow.
    """
    rng = np.random.default_rng(seed)
    groups = np.arange(len(gold)) if groups is None else np.asarray(groups)
    unique, members = np.unique(groups, return_inverse=True)
    rows_of = [np.flatnonzero(members == g) for g in range(len(unique))]
    draws = []
    for _ in range(resamples):
        rows = np.concatenate([rows_of[g] for g in rng.integers(0, len(unique), len(unique))])
        draws.append(f1_scores(preds[rows], gold[rows]))
    return {name: (float(np.percentile([d[name] for d in draws], 2.5)), float(np.percentile([d[name] for d in draws], 97.5))) for name in draws[0]}


def article_level(preds: np.ndarray, gold: np.ndarray, article_ids: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Rows per article: an article has a label when any of its sentences has it."""
    articles = list(dict.fromkeys(article_ids))
    index = {article: i for i, article in enumerate(articles)}
    rows = np.array([index[a] for a in article_ids])
    article_preds = np.zeros((len(articles), preds.shape[1]), dtype=np.int64)
    article_gold = np.zeros_like(article_preds)
    np.maximum.at(article_preds, rows, preds)
    np.maximum.at(article_gold, rows, gold)
    return article_preds, article_gold, articles
