"""Stage 3: fine-tune with the transformers Trainer and write a complete model folder.

The folder is built as `<name>.partial/` and renamed at the very end, so a crash never leaves
something that looks like a finished model.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import subprocess
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
    TrainerCallback,
    TrainingArguments,
    set_seed,
)
from transformers.trainer import TRAINER_STATE_NAME
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from . import __version__
from .atomic import replacing, replacing_folder
from .config import CONFIG_FILENAME, Config, flat_config, load_config, save_config
from .corpus import LABELS, corpus_hash
from .dataset import build_dataset, dataset_stats
from .errors import UserError, located
from .baselines import BASELINES_FOLDER, fit_baselines
from .metrics import bootstrap_intervals, compute_metrics, multi_hot, with_interval
from .modeling import CARD_FILENAME, METRICS_FILENAME, SEEDS_FILENAME, load_pretrained, pick_device, save_thresholds
from .thresholds import tune_thresholds


def world_size() -> int:
    """Processes in this run: torchrun and accelerate launch set WORLD_SIZE."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def training_arguments(config: Config, checkpoint_dir: Path) -> TrainingArguments:
    """The one mapping from our schema to TrainingArguments."""
    t = config.training
    if t.batch_size % world_size():
        raise UserError(f"training.batch_size {t.batch_size} does not split evenly over {world_size()} processes; choose a multiple of {world_size()}")
    cuda = pick_device(config.run.device).type == "cuda"
    precision = t.precision if t.precision != "auto" else ("fp32" if not cuda else "bf16" if torch.cuda.is_bf16_supported() else "fp16")
    if precision != "fp32" and not cuda:
        raise UserError(f"training.precision {precision} needs a CUDA GPU; use auto or fp32 on CPU")
    every = {"strategy": "steps", "steps": t.eval_steps} if t.eval_steps else {"strategy": "epoch", "steps": None}
    return TrainingArguments(
        output_dir=str(checkpoint_dir),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        learning_rate=t.learning_rate,
        per_device_train_batch_size=t.batch_size // world_size(),
        per_device_eval_batch_size=t.eval_batch_size,
        weight_decay=t.weight_decay,
        warmup_steps=t.warmup_ratio,  # a float below 1 is a share of all steps
        eval_strategy=every["strategy"],
        eval_steps=every["steps"],
        save_strategy=every["strategy"],
        save_steps=every["steps"],
        save_total_limit=t.checkpoints_kept,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        greater_is_better=True,
        logging_strategy=every["strategy"],
        logging_steps=every["steps"],
        disable_tqdm=False,  # a progress bar even when transformers' logging is quiet
        report_to=list(config.run.report_to) or "none",
        seed=config.run.seed,
        use_cpu=not cuda,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        tf32=cuda and t.tf32 and torch.cuda.get_device_capability()[0] >= 8,
        optim="adamw_torch_fused",  # one kernel per step on CUDA and CPU alike: CPU training 19% faster than foreach
        torch_compile=t.torch_compile,
        dataloader_num_workers=t.dataloader_workers,
        dataloader_pin_memory=cuda,
        ddp_find_unused_parameters=False,
    )


class LengthBucketSampler(torch.utils.data.Sampler[int]):
    """Batches of similar length, visited in random order.

    Indices are shuffled, sorted by length inside windows of `window_batches` batches and cut into
    batches; the batches are then shuffled. transformers' LengthGroupedSampler keeps each window's
    batches in longest-to-shortest order, so dozens of consecutive steps see only long or only short
    sentences (headlines, scraped fragments); on this corpus that drift stalled training.
    The permutation depends only on the seed and the epoch, so ranks agree and resumed runs replay it.
    """

    def __init__(self, lengths: list[int], batch_size: int, seed: int, window_batches: int = 50):
        self.lengths, self.batch_size, self.seed, self.window_batches = lengths, batch_size, seed, window_batches
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(len(self.lengths), generator=generator).tolist()
        window = self.batch_size * self.window_batches
        batches = []
        for start in range(0, len(order), window):
            ranked = sorted(order[start : start + window], key=self.lengths.__getitem__)
            batches += [ranked[i : i + self.batch_size] for i in range(0, len(ranked), self.batch_size)]
        full, tail = (batches[:-1], batches[-1:]) if len(batches[-1]) < self.batch_size else (batches, [])
        for position in torch.randperm(len(full), generator=generator).tolist():
            yield from full[position]
        for batch in tail:  # a short batch only at the very end, so every DataLoader batch stays one group
            yield from batch


class EventTrainer(Trainer):
    """The Trainer with our length-bucketed sampler when the config asks for length grouping."""

    def __init__(self, *args, group_by_length: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.group_by_length = group_by_length

    def _get_train_sampler(self, train_dataset=None):
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        if not self.group_by_length:
            return super()._get_train_sampler(train_dataset)
        lengths = [len(ids) for ids in dataset["input_ids"]]
        # Groups of one optimiser step over all processes: under DDP each rank takes a slice of a group.
        batch = self.args.train_batch_size * self.args.gradient_accumulation_steps * world_size()
        return LengthBucketSampler(lengths, batch, seed=self.args.seed)


class EvaluationLog(TrainerCallback):
    """Append every evaluation to a CSV, readable without TensorBoard."""

    def __init__(self, path: Path):
        self.path = path

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not state.is_world_process_zero or not metrics:
            return
        row = {"step": state.global_step, "epoch": state.epoch, **{k.removeprefix("eval_"): v for k, v in metrics.items()}}
        new = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def positive_weights(config: Config, train_labels: np.ndarray) -> np.ndarray | None:
    """Per-label weight of positives in the BCE loss, or None for plain BCE."""
    setting = config.training.pos_weight
    if setting == "none":
        return None
    if setting == "balanced":
        positives = train_labels.sum(axis=0)
        return (len(train_labels) - positives) / np.maximum(positives, 1)
    return np.array([setting[label] for label in LABELS])


def _weighted_loss(weights: np.ndarray):
    loss = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(weights, dtype=torch.float32))

    def compute_loss(outputs, labels, num_items_in_batch=None):
        return loss.to(outputs.logits.device)(outputs.logits.float(), labels.float())

    return compute_loss


def git_commit() -> str:
    """The commit of the eventclf source that trained, '-dirty' when it had uncommitted changes."""
    source = str(Path(__file__).resolve().parent)
    try:
        head = subprocess.run(["git", "-C", source, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "-C", source, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode:
        return "unknown (not a git checkout)"
    return head.stdout.strip() + ("-dirty" if status.stdout.strip() else "")


def provenance(config: Config) -> dict[str, str]:
    return {
        "eventclf": __version__,
        "git_commit": git_commit(),
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

    weights = positive_weights(config, np.array(encoded["train"]["labels"]))
    return EventTrainer(
        model=model,
        group_by_length=config.training.group_by_length,
        args=training_arguments(config, checkpoint_dir),
        train_dataset=encoded["train"],
        eval_dataset=encoded["validation"],
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8 if torch.cuda.is_available() else None),
        compute_metrics=trainer_metrics,
        compute_loss_func=None if weights is None else _weighted_loss(weights),
        callbacks=[
            EarlyStoppingCallback(early_stopping_patience=config.training.early_stopping_patience),
            EvaluationLog(checkpoint_dir / "logs" / "evaluations.csv"),
        ],
    )


def checkpoint_folder(config: Config) -> Path:
    """Checkpoints live beside the model folder, so a killed run leaves them for --resume."""
    return Path(config.run.output_dir) / f"{config.run.name}.checkpoints"


def last_complete_checkpoint(checkpoints: Path) -> Path | None:
    """The newest checkpoint the Trainer finished writing (its trainer_state.json is written last).

    A kill during a save leaves a half-written `checkpoint-N/`; such folders are removed here.
    """
    numbered = (p for p in checkpoints.glob(f"{PREFIX_CHECKPOINT_DIR}-*") if p.name.rsplit("-", 1)[1].isdigit())
    found = sorted(numbered, key=lambda p: int(p.name.rsplit("-", 1)[1]))
    for candidate in reversed(found):
        try:
            json.loads((candidate / TRAINER_STATE_NAME).read_text())
            return candidate
        except (OSError, ValueError):
            shutil.rmtree(candidate, ignore_errors=True)
    return None


def _start_or_resume(config: Config, checkpoints: Path, resume: bool) -> Path | None:
    """Check the checkpoint folder against the request; returns the checkpoint to resume from."""
    last = last_complete_checkpoint(checkpoints) if checkpoints.is_dir() else None
    if not resume:
        if last:
            raise UserError(located(checkpoints, None, "holds checkpoints of an unfinished run", "continue it with --resume, or delete the folder to start again"))
        return None
    if not last:
        raise UserError(located(checkpoints, None, "no complete checkpoint to resume from", "run without --resume to start training"))
    saved, current = flat_config(load_config(checkpoints / CONFIG_FILENAME)), flat_config(config)
    changed = [key for key, value in current.items() if saved[key] != value]
    if changed:
        raise UserError(located(checkpoints / CONFIG_FILENAME, None, f"the checkpoints were made with other values of {', '.join(changed)}", "resume with the same config, or delete the folder to start again"))
    return last


def train(config: Config, resume: bool = False) -> Path:
    """Train, tune thresholds on validation, score validation and test, and write the model folder.

    Under torchrun/accelerate every process trains; only the main process writes the model folder.
    """
    final = Path(config.run.output_dir) / config.run.name
    checkpoints = checkpoint_folder(config)
    resume_from = _start_or_resume(config, checkpoints, resume)
    set_seed(config.run.seed)
    info = provenance(config)  # before reading: the corpus or the code may change during a long run
    dataset = build_dataset(config.data)
    model, tokenizer = load_model_and_tokenizer(config)
    encoded = encode_dataset(dataset, tokenizer, config.model.max_length)
    trainer = build_trainer(config, model, tokenizer, encoded, checkpoints)
    main_process = trainer.is_world_process_zero()
    if main_process and not resume_from:
        checkpoints.mkdir(parents=True, exist_ok=True)
        save_config(config, checkpoints, {})
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)

    split_scores = {name: _sigmoid(trainer.predict(encoded[name]).predictions) for name in ("validation", "test")}
    if not main_process:
        return final
    gold = {name: np.array(encoded[name]["labels"], dtype=np.int64) for name in split_scores}
    thresholds = tune_thresholds(split_scores["validation"], gold["validation"])
    cut = np.array([thresholds[label] for label in LABELS])
    preds = {name: (scores >= cut).astype(np.int64) for name, scores in split_scores.items()}
    metrics = {
        "splits": dataset_stats(dataset),
        "validation": compute_metrics(preds["validation"], gold["validation"]),
        "test": compute_metrics(preds["test"], gold["test"]),
        "test_intervals": bootstrap_intervals(preds["test"], gold["test"], groups=dataset["test"]["article_id"]),
        "epochs_trained": trainer.state.epoch,
        "best_validation_macro_f1_at_0.5": trainer.state.best_metric,
        "train_runtime_s": round(sum(h.get("train_runtime", 0) for h in trainer.state.log_history), 1),
        "processes": world_size(),
    }
    with replacing_folder(final) as partial:
        tokenizer.model_max_length = config.model.max_length  # inference windows match what training saw
        trainer.save_model(str(partial))
        save_thresholds(partial, thresholds)
        save_config(config, partial, info)
        baselines = fit_baselines(dataset, partial / BASELINES_FOLDER)
        (partial / METRICS_FILENAME).write_text(json.dumps({**metrics, "provenance": info}, indent=2) + "\n")
        (partial / CARD_FILENAME).write_text(model_card(config, metrics, thresholds, baselines, info))
        shutil.copytree(checkpoints / "logs", partial / "logs", dirs_exist_ok=True)
        if (checkpoints / "runs").is_dir():
            shutil.copytree(checkpoints / "runs", partial / "logs" / "tensorboard", dirs_exist_ok=True)
    shutil.rmtree(checkpoints, ignore_errors=True)
    return final


def train_seeds(config: Config, seeds: list[int]) -> Path:
    """One model per seed under <output_dir>/<name>/seed-<n>/, and their metrics as mean ± sd."""
    group = Path(config.run.output_dir) / config.run.name
    runs = {}
    for seed in seeds:
        run = config.run.model_copy(update={"seed": seed, "name": f"seed-{seed}", "output_dir": str(group)})
        folder = train(config.model_copy(update={"run": run}))
        runs[seed] = json.loads((folder / METRICS_FILENAME).read_text())
    summary = {"seeds": seeds, **{split: seed_summary([runs[s][split] for s in seeds]) for split in ("validation", "test")}}
    with replacing(group / SEEDS_FILENAME) as partial:
        partial.write_text(json.dumps(summary, indent=2) + "\n")
    return group


def seed_summary(runs: list[dict]) -> dict[str, dict[str, float]]:
    """Mean and sample standard deviation of every numeric metric over seeds."""
    names = [name for name, value in runs[0].items() if isinstance(value, float)]
    return {name: {"mean": float(np.mean([r[name] for r in runs])), "sd": float(np.std([r[name] for r in runs], ddof=1)) if len(runs) > 1 else 0.0} for name in names}


def model_card(config: Config, metrics: dict, thresholds: dict[str, float], baselines: dict, info: dict[str, str]) -> str:
    """The HuggingFace model-card layout, filled from what this run saw."""
    test, intervals = metrics["test"], metrics["test_intervals"]

    def cell(name: str) -> str:
        return with_interval(test[name], intervals[name])

    rows = "\n".join(
        f"| {label} | {thresholds[label]:.3f} | {cell(f'{label}_precision')} | {cell(f'{label}_recall')} | {cell(f'{label}_f1')} | {test[f'{label}_support']} |"
        for label in LABELS
    )
    splits = "\n".join(f"| {name} | {s['sentences']} | {s['articles']} | {s['none']} | " + " | ".join(str(s[l]) for l in LABELS) + " |" for name, s in metrics["splits"].items())
    systems = [("this model", test), *((name, result["test"]) for name, result in baselines.items())]
    baseline_rows = "\n".join(f"| {name} | {m['micro_f1']:.3f} | {m['macro_f1']:.3f} | {m['samples_f1']:.3f} | " + " | ".join(f"{m[f'{l}_f1']:.3f}" for l in LABELS) + " |" for name, m in systems)
    return f"""---
library_name: transformers
pipeline_tag: text-classification
base_model: {config.model.name_or_path}
language: [en]
tags: [eventclf, multi-label, conflict-events, event-coding]
metrics: [f1]
---
# eventclf model: {config.run.name}

Sentence-level multi-label classifier of conflict-news events, fine-tuned from `{config.model.name_or_path}`
with eventclf {info['eventclf']} (commit `{info['git_commit']}`).

## Intended use
Coding events in English conflict news, the way ACLED, GDELT or POLECAT analysts do: label each
sentence, then aggregate per article (an article has a label when any of its sentences does).
Use it to find and triage candidate events for a human coder. Not for decisions about individuals,
and not as the sole source of casualty counts.

## Labels and codebook
Five independent labels; a sentence may carry several or none. The full definitions and the
borderline rules are in the eventclf codebook and annotation guidelines (`data/GUIDELINES.md`).

- **attack**: a specific act of physical violence by an armed actor took place (also alleged or in passing).
- **claim**: an actor says it carried out, or takes responsibility or credit for, an attack or violent act.
- **denial**: an actor denies involvement in, or the occurrence of, an event, or rejects an accusation about it.
- **retaliation**: a hostile action presented as a response, reprisal or revenge for an earlier hostile act.
- **casualty**: people were killed, wounded or died as a result of violence.

## Training data
The eventclf corpus `{', '.join(config.data.corpus)}` (sha256 `{info['corpus_sha256'][:16]}…`): English
sentences written for the corpus, split by article with seed {config.data.split_seed}. Its data card
(`data/DATA_CARD.md`) gives how it was made, its statistics and known biases.

| split | sentences | articles | none | {' | '.join(LABELS)} |
|---|---|---|---|{'---|' * len(LABELS)}
{splits}

## Evaluation
Test split, at the thresholds below (tuned on validation). Brackets: 95% bootstrap interval over
1,000 resamples of whole articles.

micro-F1 {cell('micro_f1')} · macro-F1 {cell('macro_f1')} · example-based F1 {cell('samples_f1')}

| label | threshold | precision | recall | F1 | support |
|---|---|---|---|---|---|
{rows}

### Baselines on the same test split
Keyword rules kept in the package, and TF-IDF + logistic regression fitted on the same train split
(thresholds tuned on validation). Both are saved in `baselines/`.

| system | micro-F1 | macro-F1 | example-based F1 | {' F1 | '.join(LABELS)} F1 |
|---|---|---|---|{'---|' * len(LABELS)}
{baseline_rows}

`eventclf evaluate --model <this folder> --split test --report <folder>` writes the full report:
intervals, precision-recall curves, calibration, co-occurrence and the worst errors.

## How to use
Label a dump of articles (JSONL, CSV/TSV or Parquet with `id` and `text`, .txt files, or folders;
`.gz` and `.zst` allowed). Bad records go to an errors file; `--resume` continues a killed run:
```
eventclf label --model <this folder> articles.jsonl --output labelled.jsonl
eventclf label --model <this folder> articles.jsonl --output labelled.jsonl --backend onnx-int8   # faster on CPU
```
In Python: `from eventclf import Labeler`. The resolved training config is `eventclf.yaml`;
`eventclf train <this folder>/eventclf.yaml` repeats the run. Training logs: `logs/`.

## Limitations
- Trained on English sentences written for the eventclf corpus; real news differs in style, length
  and topic mix, so expect lower scores on real dumps than on this test split.
- The test split is small: per-label intervals are several points wide, widest for the smaller
  labels (claim, denial, retaliation: 100-160 test sentences each).
- Scores are not calibrated probabilities (see the report's calibration plot).
- Sentence-level: events stated across two sentences, or only implied, can be missed.

## Provenance
{chr(10).join(f"- {key}: `{value}`" for key, value in info.items())}
"""
