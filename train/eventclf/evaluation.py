"""Stage 4: metrics of a model folder on labelled sentences, and agreement between backends."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import classification_report

from .baselines import BASELINES_FOLDER, Baselines
from .config import CONFIG_FILENAME, load_config
from .corpus import LABELS, corpus_hash, read_corpus
from .dataset import split_records
from .errors import UserError, located
from .metrics import compute_metrics, multi_hot
from .modeling import METRICS_FILENAME, EventClassifier
from .report import build_report, write_report


def per_label_report(preds: np.ndarray, gold: np.ndarray) -> str:
    """scikit-learn's per-label table, the one analysts read first."""
    return classification_report(gold, preds, target_names=list(LABELS), zero_division=0, digits=3)


def model_split(model_dir: str | Path, split: str) -> list[dict]:
    """A split of the corpus the model was trained on, rebuilt from its saved config.

    Refused when the corpus changed since training: the split could then hold training sentences.
    """
    folder = Path(model_dir)
    config = load_config(folder / CONFIG_FILENAME)
    trained_on = json.loads((folder / METRICS_FILENAME).read_text())["provenance"]["corpus_sha256"]
    if corpus_hash(config.data.corpus) != trained_on:
        raise UserError(located(folder, None, f"the corpus {', '.join(config.data.corpus)} changed since this model was trained, so its {split} split may overlap training", "pass labelled files with --data, or retrain"))
    return split_records(read_corpus(config.data.corpus), config.data)[split]


def evaluate_model(model_dir: str | Path, records: list[dict], report_dir: Path | None = None, batch_size: int = 64) -> dict:
    """Score labelled records with a model folder at its saved thresholds; optionally write the full report.

    The report puts the baselines saved in `<model>/baselines/` beside the model, on the same records.
    """
    classifier = EventClassifier.from_pretrained(model_dir)
    texts = [r["text"] for r in records]
    gold = multi_hot([[LABELS.index(label) for label in r["labels"]] for r in records])
    scores = classifier.predict_scores(texts, batch_size)
    preds = classifier.decide(scores)
    result = {"sentences": len(records), "metrics": compute_metrics(preds, gold), "report": per_label_report(preds, gold)}
    if report_dir is not None:
        baselines_dir = Path(model_dir) / BASELINES_FOLDER
        baseline_preds = Baselines.load(baselines_dir).predictions(texts) if baselines_dir.is_dir() else {}
        article_ids = [r["article_id"] for r in records] if all(r.get("article_id") for r in records) else None
        title = f"eventclf report: {Path(model_dir).name}"
        sections, numbers = build_report(texts, article_ids, scores, gold, classifier.thresholds, baseline_preds, title)
        result["report_dir"] = write_report(Path(report_dir), title, sections, numbers)
    return result


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
