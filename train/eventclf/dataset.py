"""Stage 2: corpus records -> a `datasets.DatasetDict` with train/validation/test grouped by article (or theatre)."""

from __future__ import annotations

from collections import Counter

import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, Features, Sequence, Value
from sklearn.model_selection import GroupShuffleSplit

from .config import DataConfig
from .corpus import LABELS, read_corpus
from .errors import UserError

SPLITS = ("train", "validation", "test")
FEATURES = Features(
    {
        "id": Value("string"),
        "text": Value("string"),
        "labels": Sequence(ClassLabel(names=list(LABELS))),
        "article_id": Value("string"),
    }
)


def _group_split(groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    splitter = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
    return next(splitter.split(groups, groups=groups))


def _group_share(indices: np.ndarray, groups: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """The records of the first `fraction` of the groups in a seeded order, so smaller shares nest in larger ones."""
    names = np.unique(groups[indices])
    kept = np.random.default_rng(seed).permutation(names)[: max(1, round(fraction * len(names)))]
    return indices[np.isin(groups[indices], kept)]


def _groups(records: list[dict], field: str) -> np.ndarray:
    """Each record's group; an article must sit in one group, or its sentences would straddle splits."""
    missing = [r["id"] for r in records if not isinstance(r.get(field), str) or not r[field].strip()]
    if missing:
        raise UserError(f'data.group_by is "{field}" but {len(missing)} records have no "{field}" (first: {missing[0]}); add the field or group by article_id')
    group_of: dict[str, str] = {}
    for r in records:
        if group_of.setdefault(r["article_id"], r[field]) != r[field]:
            raise UserError(f'article {r["article_id"]} has more than one "{field}" ({group_of[r["article_id"]]!r}, then {r[field]!r} at {r["id"]}); give all its sentences the same one')
    return np.array([r[field] for r in records])


def split_records(records: list[dict], data: DataConfig) -> dict[str, list[dict]]:
    """Deterministic grouped split: no value of `data.group_by` (by default an article) is in two splits."""
    groups = _groups(records, data.group_by)
    if len(set(groups)) < 3:
        raise UserError(f"the corpus has fewer than 3 values of {data.group_by}; train, validation and test each need one")
    rest, test = _group_split(groups, data.test_fraction, data.split_seed)
    # The validation share is of the whole corpus, so rescale it to what remains after the test split.
    train, validation = _group_split(groups[rest], data.validation_fraction / (1 - data.test_fraction), data.split_seed)
    chosen = {"train": _group_share(rest[train], groups, data.train_fraction, data.split_seed), "validation": rest[validation], "test": test}
    return {name: [records[i] for i in sorted(indices)] for name, indices in chosen.items()}


def to_dataset(records: list[dict]) -> Dataset:
    """Records with typed columns; `labels` is a sequence of ClassLabel ids carrying the label names."""
    columns = {
        "id": [r["id"] for r in records],
        "text": [r["text"] for r in records],
        "labels": [[LABELS.index(label) for label in r["labels"]] for r in records],
        "article_id": [r["article_id"] for r in records],
    }
    return Dataset.from_dict(columns, features=FEATURES)


def build_dataset(data: DataConfig) -> DatasetDict:
    """Read and validate the corpus, then split it into a DatasetDict."""
    splits = split_records(read_corpus(data.corpus), data)
    return DatasetDict({name: to_dataset(rows) for name, rows in splits.items()})


def dataset_stats(dataset: DatasetDict) -> dict[str, dict[str, int]]:
    """Per split: sentences, articles, sentences with no label, and positives per label."""
    stats = {}
    for name, split in dataset.items():
        counts = Counter(LABELS[i] for ids in split["labels"] for i in ids)
        stats[name] = {
            "sentences": len(split),
            "articles": len(set(split["article_id"])),
            "none": sum(1 for ids in split["labels"] if not ids),
            **{label: counts[label] for label in LABELS},
        }
    return stats
