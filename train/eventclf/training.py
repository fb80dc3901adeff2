"""Stage 3: fine-tune with the transformers Trainer and write a complete model folder.

The folder is built as `<name>.partial/` and renamed at the very end, so a crash never leaves
something that looks like a finished model.
"""

from __future__ import annotations

import json
import platform
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import datasets
import numpy as np
import torch
import transformers
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    Trainer,
    TrainingArguments,
    set_seed,
)

from . import __version__
from .config import Config, save_config
from .corpus import LABELS, corpus_hash
from .dataset import build_dataset, dataset_stats
from .metrics import compute_metrics, multi_hot
from .modeling import CARD_FILENAME, METRICS_FILENAME, load_pretrained, pick_device, save_thresholds
from .thresholds import tune_thresholds


def training_arguments(config: Config, checkpoint_dir: Path) -> TrainingArguments:
    """The one mapping from our schema to TrainingArguments."""
    device = pick_device(config.run.device)
    cuda = device.type == "cuda"
    bf16 = cuda and torch.cuda.is_bf16_supported()
    t = config.training
    return TrainingArguments(
        output_dir=str(checkpoint_dir),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        learning_rate=t.learning_rate,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.eval_batch_size,
        weight_decay=t.weight_decay,
        train_sampling_strategy="group_by_length" if t.group_by_length else "random",
        warmup_steps=t.warmup_ratio,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=1,
        save_only_model=True,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        logging_strategy="epoch",
        disable_tqdm=False,  # a progress bar even when transformers' logging is quiet
        report_to="none",
        seed=config.run.seed,
        use_cpu=not cuda,
        bf16=bf16,
        fp16=cuda and not bf16,
        optim="adamw_torch_fused" if cuda else "adamw_torch",
    )


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def _balanced_loss(train_labels: np.ndarray):
    """BCE with pos_weight = negatives / positives per label, for rare labels."""
    positives = train_labels.sum(axis=0)
    weight = torch.tensor((len(train_labels) - positives) / np.maximum(positives, 1), dtype=torch.float32)
    loss = torch.nn.BCEWithLogitsLoss(pos_weight=weight)

    def compute_loss(outputs, labels, num_items_in_batch=None):
        return loss.to(outputs.logits.device)(outputs.logits.float(), labels.float())

    return compute_loss


def provenance(config: Config) -> dict[str, str]:
    return {
        "eventclf": __version__,
        "corpus_sha256": corpus_hash(config.data.corpus),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
    }


def load_model_and_tokenizer(config: Config):
    """The starting checkpoint with a fresh five-label multi-label head."""
    tokenizer = load_pretrained(AutoTokenizer, config.model.name_or_path)
    model = load_pretrained(
        AutoModelForSequenceClassification,
        config.model.name_or_path,
        num_labels=len(LABELS),
        problem_type="multi_label_classification",
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    return model, tokenizer


def encode_dataset(dataset: datasets.DatasetDict, tokenizer, max_length: int) -> datasets.DatasetDict:
    """Token ids plus the float multi-hot `labels` column that BCE reads."""

    def encode(batch):
        encoded = tokenizer(batch["text"], truncation=True, max_length=max_length)
        return {**encoded, "labels": multi_hot(batch["labels"]).astype(np.float32).tolist()}

    encoded = dataset.map(encode, batched=True, remove_columns=dataset["train"].column_names, desc="tokenising")
    return encoded.cast_column("labels", datasets.Sequence(datasets.Value("float32")))


def build_trainer(config: Config, model, tokenizer, encoded: datasets.DatasetDict, checkpoint_dir: Path) -> Trainer:
    """A Trainer that evaluates every epoch, stops early on validation macro-F1 and keeps the best model."""

    def trainer_metrics(prediction) -> dict[str, float]:
        preds = (_sigmoid(prediction.predictions) >= 0.5).astype(np.int64)
        metrics = compute_metrics(preds, prediction.label_ids.astype(np.int64))
        return {name: metrics[name] for name in ("micro_f1", "macro_f1", "samples_f1")}

    train_labels = np.array(encoded["train"]["labels"])
    return Trainer(
        model=model,
        args=training_arguments(config, checkpoint_dir),
        train_dataset=encoded["train"],
        eval_dataset=encoded["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8 if torch.cuda.is_available() else None),
        compute_metrics=trainer_metrics,
        compute_loss_func=_balanced_loss(train_labels) if config.training.pos_weight == "balanced" else None,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=config.training.early_stopping_patience)],
    )


def train(config: Config) -> Path:
    """Train, tune thresholds on validation, score validation and test, and write the model folder."""
    set_seed(config.run.seed)
    dataset = build_dataset(config.data)
    model, tokenizer = load_model_and_tokenizer(config)
    encoded = encode_dataset(dataset, tokenizer, config.model.max_length)

    final = Path(config.run.output_dir) / config.run.name
    with building_folder(final) as partial:
        trainer = build_trainer(config, model, tokenizer, encoded, partial / "checkpoints")
        trainer.train()

        split_scores = {name: _sigmoid(trainer.predict(encoded[name]).predictions) for name in ("validation", "test")}
        gold = {name: np.array(encoded[name]["labels"], dtype=np.int64) for name in split_scores}
        thresholds = tune_thresholds(split_scores["validation"], gold["validation"])
        cut = np.array([thresholds[label] for label in LABELS])
        metrics = {
            "splits": dataset_stats(dataset),
            "validation": compute_metrics((split_scores["validation"] >= cut).astype(np.int64), gold["validation"]),
            "test": compute_metrics((split_scores["test"] >= cut).astype(np.int64), gold["test"]),
            "epochs_trained": trainer.state.epoch,
            "best_validation_macro_f1_at_0.5": trainer.state.best_metric,
        }

        tokenizer.model_max_length = config.model.max_length  # inference windows match what training saw
        trainer.save_model(str(partial))
        shutil.rmtree(partial / "checkpoints", ignore_errors=True)
        save_thresholds(partial, thresholds)
        info = provenance(config)
        save_config(config, partial, info)
        (partial / METRICS_FILENAME).write_text(json.dumps({**metrics, "provenance": info}, indent=2) + "\n")
        (partial / CARD_FILENAME).write_text(model_card(config, metrics, thresholds, info))
    return final


@contextmanager
def building_folder(final: Path) -> Iterator[Path]:
    """Yield `<final>.partial/` to fill; on success it replaces `final`, on any failure it is removed."""
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    previous = final.with_name(final.name + ".previous")
    if final.exists():
        shutil.rmtree(previous, ignore_errors=True)
        final.rename(previous)
    partial.rename(final)
    shutil.rmtree(previous, ignore_errors=True)


def model_card(config: Config, metrics: dict, thresholds: dict[str, float], info: dict[str, str]) -> str:
    """A HuggingFace-style card filled from what this run saw."""
    rows = "\n".join(
        f"| {label} | {thresholds[label]:.3f} | {metrics['test'][f'{label}_precision']:.3f} | {metrics['test'][f'{label}_recall']:.3f} | {metrics['test'][f'{label}_f1']:.3f} | {metrics['test'][f'{label}_support']} |"
        for label in LABELS
    )
    splits = "\n".join(f"| {name} | {s['sentences']} | {s['articles']} | {s['none']} | " + " | ".join(str(s[l]) for l in LABELS) + " |" for name, s in metrics["splits"].items())
    return f"""---
library_name: transformers
pipeline_tag: text-classification
tags: [eventclf, multi-label, conflict-events]
---
# eventclf model: {config.run.name}

Sentence-level multi-label classifier of conflict-news events, fine-tuned from `{config.model.name_or_path}`
with eventclf {info['eventclf']}. Labels (independent; a sentence may have none): {', '.join(LABELS)},
as defined in the eventclf codebook.

## Intended use
Labelling sentences and articles of conflict news for event coding. Not for decisions about
individuals. Scores are per sentence; an article's score is the maximum over its sentences.

## Test metrics (thresholds tuned on validation)
micro-F1 {metrics['test']['micro_f1']:.3f} · macro-F1 {metrics['test']['macro_f1']:.3f} · example-based F1 {metrics['test']['samples_f1']:.3f}

| label | threshold | precision | recall | F1 | support |
|---|---|---|---|---|---|
{rows}

## Training data
Corpus `{', '.join(config.data.corpus)}` (sha256 `{info['corpus_sha256'][:16]}…`), split by article with seed {config.data.split_seed}.

| split | sentences | articles | none | {' | '.join(LABELS)} |
|---|---|---|---|{'---|' * len(LABELS)}
{splits}

## Use
```
eventclf label --model <this folder> articles.jsonl --output labelled.jsonl
```
The resolved training config is `eventclf.yaml`; `eventclf train <this folder>/eventclf.yaml` repeats the run.

## Limitations
Trained on English sentences written for the eventclf corpus; real news differs in style and topic mix.
Small test splits give wide uncertainty on per-label scores.
"""
