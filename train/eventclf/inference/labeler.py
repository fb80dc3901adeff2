"""Labeler: sentences in, scores out, batched by a token budget; articles are the max over sentences."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, Literal

import numpy as np
from tqdm.auto import tqdm

from ..corpus import LABELS
from ..errors import UserError
from ..modeling import EventClassifier
from .io import Skipped, atomic_writer, read_records
from .sentences import split_sentences

log = logging.getLogger(__name__)
Unit = Literal["article", "sentence"]


@dataclass
class LabelSummary:
    """What a `label` run did, printed at the end and returned to Python callers."""

    records: int = 0
    sentences: int = 0
    windowed_sentences: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0


class Labeler:
    """Label sentences and articles with a trained model folder.

    Sentences longer than the model window are scored over overlapping windows and max-pooled,
    never silently truncated. Batches hold at most `max_tokens_per_batch` tokens, padding included.
    """

    def __init__(self, classifier: EventClassifier, max_tokens_per_batch: int = 8192, window_stride_tokens: int = 32):
        self.classifier = classifier
        self.max_tokens_per_batch = max_tokens_per_batch
        self.window_stride_tokens = window_stride_tokens
        self.windowed_sentences = 0

    @classmethod
    def from_pretrained(cls, model_dir: str | Path, device: str = "auto", backend: str = "torch", **kwargs) -> "Labeler":
        return cls(EventClassifier.from_pretrained(model_dir, device=device, backend=backend), **kwargs)

    def score_sentences(self, sentences: list[str]) -> np.ndarray:
        """Scores, shape (len(sentences), labels), in input order."""
        scores = np.zeros((len(sentences), len(LABELS)), dtype=np.float32)
        if not sentences:
            return scores
        tokenizer = self.classifier.tokenizer
        encoded = tokenizer(
            sentences,
            truncation=True,
            max_length=self.classifier.max_tokens,
            stride=self.window_stride_tokens,
            return_overflowing_tokens=True,
        )
        owners = np.asarray(encoded["overflow_to_sample_mapping"])
        self.windowed_sentences += int(np.count_nonzero(np.bincount(owners) > 1))
        windows = [{k: encoded[k][i] for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded} for i in range(len(owners))]
        window_scores = np.zeros((len(windows), len(LABELS)), dtype=np.float32)
        for batch in self._token_budget_batches([len(w["input_ids"]) for w in windows]):
            padded = tokenizer.pad([windows[i] for i in batch], return_tensors="pt")
            window_scores[batch] = self.classifier.score_encoded(dict(padded))
        np.maximum.at(scores, owners, window_scores)
        return scores

    def _token_budget_batches(self, lengths: list[int]) -> Iterator[list[int]]:
        """Indices grouped longest first so each batch pads little and stays under the token budget."""
        batch: list[int] = []
        for index in np.argsort(lengths, kind="stable")[::-1]:
            if batch and (len(batch) + 1) * lengths[batch[0]] > self.max_tokens_per_batch:
                yield batch
                batch = []
            batch.append(int(index))
        if batch:
            yield batch

    def _labels(self, scores: np.ndarray) -> list[str]:
        return [label for label, hit in zip(LABELS, self.classifier.decide(scores[None])[0]) if hit]

    def _scores_dict(self, scores: np.ndarray) -> dict[str, float]:
        return {label: round(float(s), 4) for label, s in zip(LABELS, scores)}

    def label_texts(self, texts: list[str]) -> list[dict]:
        """One result {labels, scores} per text, each text treated as a single unit."""
        return [{"labels": self._labels(s), "scores": self._scores_dict(s)} for s in self.score_sentences(texts)]

    def label_articles(self, articles: list[dict]) -> list[dict]:
        """Split each {id, text, title?} into sentences, score them all together, aggregate per article.

        Article scores are the max over its sentences (and its title, when given): an article
        reports an event when any of its sentences does.
        """
        spans = [split_sentences(a["text"]) for a in articles]
        units = [[a["text"][s:e] for s, e in article_spans] for a, article_spans in zip(articles, spans)]
        titles = [[a["title"]] if a.get("title") and a["title"].strip() else [] for a in articles]
        flat = [text for article_units, title in zip(units, titles) for text in title + article_units]
        all_scores = self.score_sentences(flat)
        results, cursor = [], 0
        for article, article_spans, title in zip(articles, spans, titles):
            count = len(title) + len(article_spans)
            scores = all_scores[cursor : cursor + count]
            cursor += count
            article_scores = scores.max(axis=0) if count else np.zeros(len(LABELS), dtype=np.float32)
            sentences = [
                {"text": article["text"][s:e], "start": s, "end": e, "labels": self._labels(row), "scores": self._scores_dict(row)}
                for (s, e), row in zip(article_spans, scores[len(title) :])
            ]
            results.append({"id": article["id"], "labels": self._labels(article_scores), "scores": self._scores_dict(article_scores), "sentences": sentences})
        return results

    def label_stream(self, records: Iterable[dict], unit: Unit = "article", records_per_chunk: int = 256) -> Iterator[dict]:
        """Label records lazily, a chunk at a time, so memory stays flat on any size of dump."""
        iterator = iter(records)
        while chunk := list(islice(iterator, records_per_chunk)):
            if unit == "sentence":
                for record, result in zip(chunk, self.label_texts([r["text"] for r in chunk])):
                    yield {"id": record["id"], **result}
            else:
                yield from self.label_articles(chunk)


def render_result(result: dict) -> str:
    """A labelled record as text for people: the article's labels, then each sentence that has one."""
    def tags(labels: list[str]) -> str:
        return ", ".join(labels) if labels else "none"

    lines = [f"== {result['id']}: {tags(result['labels'])}"]
    for sentence in result.get("sentences", []):
        marker = "*" if sentence["labels"] else " "
        lines.append(f" {marker} [{tags(sentence['labels'])}] {' '.join(sentence['text'].split())}")
    return "\n".join(lines)


def label_files(inputs: list[str | Path], model_dir: str | Path, output: str | Path, unit: Unit = "article", device: str = "auto", backend: str = "torch", progress: bool = True) -> LabelSummary:
    """Label JSONL/text inputs into one JSONL output, written atomically, skipping bad records."""
    labeler = Labeler.from_pretrained(model_dir, device=device, backend=backend)
    summary = LabelSummary()
    started = time.perf_counter()
    bar = tqdm(desc="labelling", unit=" records", disable=not progress)

    def valid_records() -> Iterator[dict]:
        for item in read_records(inputs):
            if isinstance(item, Skipped):
                log.warning("%s: skipped: %s", item.where, item.reason)
                summary.skipped.append(item)
            else:
                yield item

    with atomic_writer(output) as handle:
        for result in labeler.label_stream(valid_records(), unit=unit):
            handle.write(json.dumps(result, ensure_ascii=False) + "\n")
            summary.records += 1
            summary.sentences += len(result.get("sentences", [None]))
            bar.update(1)
            bar.set_postfix(sentences_per_s=f"{summary.sentences / max(time.perf_counter() - started, 1e-9):.0f}", refresh=False)
        bar.close()
        if summary.records == 0:
            raise UserError(f"{', '.join(map(str, inputs))}: no record could be read ({len(summary.skipped)} skipped); nothing was written")
    summary.windowed_sentences = labeler.windowed_sentences
    summary.seconds = time.perf_counter() - started
    return summary
