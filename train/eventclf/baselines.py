"""Baselines on the same splits as the model: TF-IDF + logistic regression, thresholds tuned the same way."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline

from .config import Config
from .corpus import LABELS
from .dataset import build_dataset
from .metrics import compute_metrics, multi_hot
from .thresholds import tune_thresholds


def tfidf_baseline(config: Config) -> dict:
    """Fit on train, tune per-label thresholds on validation, report validation and test metrics."""
    dataset = build_dataset(config.data)
    gold = {name: multi_hot(split["labels"]) for name, split in dataset.items()}
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=2000, C=4.0)),
    )
    model.fit(dataset["train"]["text"], gold["train"])
    scores = {name: model.predict_proba(dataset[name]["text"]) for name in ("validation", "test")}
    thresholds = tune_thresholds(scores["validation"], gold["validation"])
    cut = np.array([thresholds[label] for label in LABELS])
    return {
        "thresholds": thresholds,
        **{name: compute_metrics((scores[name] >= cut).astype(np.int64), gold[name]) for name in scores},
    }
