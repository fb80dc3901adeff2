import json
from pathlib import Path

import numpy as np
from datasets import concatenate_datasets
import pytest
from sklearn.metrics import f1_score
from transformers import AutoModelForSequenceClassification

from eventclf.config import load_config
from eventclf.corpus import LABELS, corpus_hash
from eventclf.dataset import build_dataset
from eventclf.metrics import compute_metrics
from eventclf.thresholds import tune_thresholds
from eventclf.training import build_trainer, encode_dataset, load_model_and_tokenizer, train

from .conftest import REPO, SENTENCES


def _config(corpus_file: Path, model_dir: Path, tmp_path: Path, *extra: str):
    overrides = [f"data.corpus=[{corpus_file}]", f"model.name_or_path={model_dir}", f"run.output_dir={tmp_path / 'models'}", "run.name=tiny", *extra]
    return load_config(REPO / "configs" / "default.yaml", overrides)


def test_tiny_model_overfits_twenty_sentences(corpus_file, tiny_model_dir, tmp_path):
    """Proves labels, multi-hot targets and the BCE loss are wired right: it must fit its own data."""
    config = _config(corpus_file, tiny_model_dir, tmp_path, "training.learning_rate=0.005", "training.epochs=300", "training.warmup_ratio=0.0", "training.batch_size=8", "training.early_stopping_patience=1000", "data.validation_fraction=0.1", "data.test_fraction=0.1")
    dataset = build_dataset(config.data)
    model, tokenizer = load_model_and_tokenizer(config)
    encoded = encode_dataset(dataset, tokenizer, 64)
    encoded["train"] = encoded["validation"] = concatenate_datasets(list(encoded.values()))
    trainer = build_trainer(config, model, tokenizer, encoded, tmp_path / "ckpt")
    trainer.train()
    logits = trainer.predict(encoded["train"]).predictions
    gold = np.array(encoded["train"]["labels"], dtype=np.int64)
    assert len(gold) == len(SENTENCES)
    assert compute_metrics((logits > 0).astype(np.int64), gold)["micro_f1"] == 1.0


def test_train_writes_a_complete_loadable_model_folder(corpus_file, tiny_model_dir, tmp_path):
    folder = train(_config(corpus_file, tiny_model_dir, tmp_path, "training.max_steps=2"))
    assert folder == tmp_path / "models" / "tiny"
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "thresholds.json", "eventclf.yaml", "metrics.json", "README.md"} <= names
    assert {"baselines", "logs"} <= names and (folder / "logs" / "evaluations.csv").read_text().startswith("step,epoch,loss,")
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["tiny"]  # no .partial, no .checkpoints left
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    assert [model.config.id2label[i] for i in range(len(LABELS))] == list(LABELS)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert {"validation", "test", "test_intervals", "splits", "provenance"} <= set(metrics)
    assert {"git_commit", "corpus_sha256", "torch", "transformers", "datasets"} <= set(metrics["provenance"])
    assert set(json.loads((folder / "thresholds.json").read_text())) == set(LABELS)
    assert load_config(folder / "eventclf.yaml").run.name == "tiny"


def test_same_seed_same_metrics(corpus_file, tiny_model_dir, tmp_path):
    runs = [json.loads((train(_config(corpus_file, tiny_model_dir, tmp_path / str(i), "training.max_steps=3")) / "metrics.json").read_text()) for i in range(2)]
    assert runs[0]["test"] == runs[1]["test"]


def test_thresholds_pick_the_f1_best_cut_per_label():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 2, size=(200, len(LABELS)))
    scores = np.clip(gold * 0.3 + rng.random((200, len(LABELS))) * 0.7, 0, 1)
    thresholds = tune_thresholds(scores, gold)
    for i, label in enumerate(LABELS):
        best = max(f1_score(gold[:, i], scores[:, i] >= cut) for cut in np.unique(scores[:, i]))
        assert f1_score(gold[:, i], scores[:, i] >= thresholds[label]) == pytest.approx(best)
    gold[:, 0] = 0
    assert tune_thresholds(scores, gold)[LABELS[0]] == 0.5


def test_provenance_hashes_the_corpus_that_was_trained_on(corpus_file, tiny_model_dir, tmp_path, monkeypatch):
    """Editing the corpus during a run must not make the model look as if it had seen the edit."""
    import eventclf.training as training

    trained_on = corpus_hash([corpus_file])
    load = training.load_model_and_tokenizer

    def load_then_edit_corpus(config):
        with corpus_file.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"id": "a9-00", "text": "Written during training.", "labels": [], "article_id": "a9"}) + "\n")
        return load(config)

    monkeypatch.setattr(training, "load_model_and_tokenizer", load_then_edit_corpus)
    folder = train(_config(corpus_file, tiny_model_dir, tmp_path, "training.max_steps=1"))
    assert corpus_hash([corpus_file]) != trained_on
    assert json.loads((folder / "metrics.json").read_text())["provenance"]["corpus_sha256"] == trained_on
