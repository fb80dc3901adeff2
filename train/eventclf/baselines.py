"""Baselines on the model's own splits: keyword rules and TF-IDF + logistic regression.

They are fitted next to every model (`<model>/baselines/`) so its report and card can put them
beside the model on the same data. Thresholds of TF-IDF are tuned on validation like the model's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import joblib
import numpy as np
import yaml
from datasets import DatasetDict
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline

from .atomic import replacing_folder
from .corpus import LABELS
from .errors import UserError, located
from .metrics import compute_metrics, multi_hot
from .thresholds import tune_thresholds

KEYWORD_RULES = Path(__file__).with_name("keyword_rules.yaml")
BASELINES_FOLDER = "baselines"
BASELINE_NAMES = ("keywords", "tfidf")


@dataclass(frozen=True)
class KeywordRules:
    """A label when any of its patterns matches; scores are 0 or 1."""

    patterns: dict[str, list[str]]

    @classmethod
    def load(cls, path: Path = KEYWORD_RULES) -> "KeywordRules":
        rules = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(rules, dict) or set(rules) != set(LABELS):
            raise UserError(located(path, None, "keyword rules must map each label to a list of patterns", f"give lists for {', '.join(LABELS)}"))
        return cls({label: list(rules[label]) for label in LABELS})

    @cached_property
    def _compiled(self) -> list[re.Pattern]:
        return [re.compile("|".join(f"(?:{p})" for p in self.patterns[label]), re.IGNORECASE) for label in LABELS]

    def scores(self, texts: list[str]) -> np.ndarray:
        return np.array([[float(bool(rule.search(text))) for rule in self._compiled] for text in texts]).reshape(len(texts), len(LABELS))


def tfidf_pipeline() -> Pipeline:
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=2000, C=4.0)),
    )


@dataclass
class Baselines:
    """Both baselines with their thresholds, as fitted on one model's train split."""

    keywords: KeywordRules
    tfidf: Pipeline
    tfidf_thresholds: dict[str, float]

    def predictions(self, texts: list[str]) -> dict[str, np.ndarray]:
        cut = np.array([self.tfidf_thresholds[label] for label in LABELS])
        return {
            "keywords": self.keywords.scores(texts).astype(np.int64),
            "tfidf": (self.tfidf.predict_proba(texts) >= cut).astype(np.int64),
        }

    def save(self, folder: Path, metrics: dict) -> None:
        with replacing_folder(folder) as partial:
            joblib.dump(self.tfidf, partial / "tfidf.joblib")
            (partial / "keyword_rules.yaml").write_text(yaml.safe_dump(self.keywords.patterns, sort_keys=False), encoding="utf-8")
            (partial / "tfidf_thresholds.json").write_text(json.dumps(self.tfidf_thresholds, indent=2) + "\n")
            (partial / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> "Baselines":
        try:
            return cls(
                KeywordRules.load(folder / "keyword_rules.yaml"),
                joblib.load(folder / "tfidf.joblib"),
                json.loads((folder / "tfidf_thresholds.json").read_text()),
            )
        except (OSError, ValueError) as err:
            raise UserError(located(folder, None, f"not a baselines folder ({err})", "run `eventclf baseline CONFIG` to write it")) from None


def fit_baselines(dataset: DatasetDict, folder: Path) -> dict[str, dict[str, dict[str, float]]]:
    """Fit TF-IDF on train, tune its thresholds on validation, save both baselines; returns their metrics."""
    gold = {name: multi_hot(split["labels"]) for name, split in dataset.items()}
    tfidf = tfidf_pipeline().fit(dataset["train"]["text"], gold["train"])
    thresholds = tune_thresholds(tfidf.predict_proba(dataset["validation"]["text"]), gold["validation"])
    baselines = Baselines(KeywordRules.load(), tfidf, thresholds)
    predictions = {split: baselines.predictions(dataset[split]["text"]) for split in ("validation", "test")}
    metrics = {name: {split: compute_metrics(predictions[split][name], gold[split]) for split in predictions} for name in BASELINE_NAMES}
    baselines.save(folder, metrics)
    return metrics
