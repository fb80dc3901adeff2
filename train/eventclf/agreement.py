"""Annotator agreement: how consistently the guidelines are applied, measured on a second annotation.

An annotation file is JSONL, one {"id", "labels"} per line, naming corpus sentences labelled again by
someone who did not see the corpus labels. Agreement is Cohen's kappa and F1 per label, for each file
against the corpus and for each pair of files: how much of a model's error the labels themselves
could explain.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
from sklearn.metrics import cohen_kappa_score, f1_score

from .corpus import LABELS, corpus_files, first_problems, jsonl_lines
from .errors import UserError, located
from .markdown import markdown_table


@dataclass
class Agreement:
    """One comparison: `first` is the reference for F1 (the corpus when it takes part)."""

    first: str
    second: str
    sentences: int
    kappa: dict[str, float]
    f1: dict[str, float]

    @property
    def macro_f1(self) -> float:
        return float(np.mean(list(self.f1.values())))


def read_annotation(path: Path, known_ids: set[str]) -> dict[str, frozenset[str]]:
    """Labels per sentence id; every problem of the file is reported at once, with its line."""
    labels: dict[str, frozenset[str]] = {}
    problems: list[str] = []
    for number, row, unreadable in jsonl_lines(path, 'write one {"id": ..., "labels": [...]} per line'):
        if unreadable:
            problems.append(unreadable)
            continue
        if not isinstance(row, dict) or not isinstance(row.get("labels"), list) or "id" not in row:
            problems.append(located(path, number, 'a line needs "id" and a "labels" list', 'write {"id": "waf-012-03", "labels": ["attack"]}'))
            continue
        unknown = [label for label in row["labels"] if label not in LABELS]
        if unknown:
            problems.append(located(path, number, f"unknown label {unknown[0]!r}", f"use {', '.join(LABELS)}"))
        elif row["id"] not in known_ids:
            problems.append(located(path, number, f"id {row['id']!r} is not in the corpus", "annotate sentences of the configured corpus, or point at annotations of it"))
        elif row["id"] in labels:
            problems.append(located(path, number, f"id {row['id']!r} is annotated twice", "keep one line per sentence"))
        else:
            labels[row["id"]] = frozenset(row["labels"])
    if problems:
        raise UserError(first_problems(problems))
    if not labels:
        raise UserError(located(path, None, "holds no annotation", "add one line per annotated sentence"))
    return labels


def compare(first: str, second: str, a: dict[str, frozenset[str]], b: dict[str, frozenset[str]]) -> Agreement:
    """Agreement on the sentences both annotated."""
    ids = sorted(a.keys() & b.keys())
    if not ids:
        raise UserError(f"{first} and {second} share no sentence; annotate the same ids to compare them")
    kappa, f1 = {}, {}
    for label in LABELS:
        x = np.array([label in a[i] for i in ids], dtype=int)
        y = np.array([label in b[i] for i in ids], dtype=int)
        # Kappa is undefined when both annotators use one value only; identical columns agree fully.
        kappa[label] = 1.0 if np.array_equal(x, y) else float(cohen_kappa_score(x, y))
        f1[label] = float(f1_score(x, y, zero_division=1.0))
    return Agreement(first, second, len(ids), kappa, f1)


def measure_agreement(records: list[dict], paths: list[str | Path]) -> list[Agreement]:
    """Each annotation file against the corpus, then each pair of files."""
    corpus = {r["id"]: frozenset(r["labels"]) for r in records}
    annotations = {path.stem: read_annotation(path, set(corpus)) for path in corpus_files(paths)}
    rows = [compare("corpus", name, corpus, labels) for name, labels in annotations.items()]
    rows += [compare(x, y, annotations[x], annotations[y]) for x, y in combinations(annotations, 2)]
    return rows


def agreement_table(rows: list[Agreement]) -> str:
    """Markdown: kappa per label, and macro-F1 with the first annotation as reference."""
    header = ["compared", "sentences", *(f"{label} κ" for label in LABELS), "macro-F1"]
    cells = [[f"{row.first} vs {row.second}", row.sentences, *(f"{row.kappa[label]:.2f}" for label in LABELS), f"{row.macro_f1:.3f}"] for row in rows]
    return markdown_table(header, cells)
