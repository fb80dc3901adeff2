"""Labeler: sentences in, scores out, batched by a token budget; articles are the max over sentences."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, Literal

import numpy as np

from ..corpus import LABELS
from ..modeling import EventClassifier
from .sentences import split_sentences

Unit = Literal["article", "sentence"]
CPU_BATCH_TOKENS = 1024
ONNX_CPU_BATCH_TOKENS = 256
ARTICLES_PER_CHUNK = 256
UNITS_PER_CHUNK = 2048
CUDA_BATCH_TOKENS = 65536


def default_batch_tokens(classifier: EventClassifier) -> int:
    """Small batches win on CPU, they stay in cache (see benchmarks/RESULTS.md); a GPU wants large ones.

    torch ran 1,024-token batches 1.5-2x faster than 8,192 on 2 cores; ONNX Runtime, one batch per
    core, was fastest at 256.
    """
    runner = classifier.runner
    if classifier.device.type == "cuda" or (runner is not None and not runner.on_cpu):
        return CUDA_BATCH_TOKENS
    return ONNX_CPU_BATCH_TOKENS if runner is not None else CPU_BATCH_TOKENS


class Labeler:
    """Label sentences and articles with a trained model folder.

    Sentences longer than the model window are scored over overlapping windows and max-pooled,
    never silently truncated. Batches hold at most `max_tokens_per_batch` tokens, padding included.
    """

    def __init__(self, classifier: EventClassifier, max_tokens_per_batch: int | None = None, window_stride_tokens: int = 32):
        self.classifier = classifier
        self.max_tokens_per_batch = max_tokens_per_batch or default_batch_tokens(classifier)
        self.window_stride_tokens = window_stride_tokens
        self.windowed_sentences = 0

    @classmethod
    def from_pretrained(cls, model_dir: str | Path, device: str = "auto", backend: str = "torch", **kwargs) -> "Labeler":
        return cls(EventClassifier.from_pretrained(model_dir, device=device, backend=backend), **kwargs)

    def encode(self, sentences: list[str]) -> "Encoded":
        """Tokenise into model windows, grouped into padded batches; CPU work, safe in a thread."""
        if not sentences:
            return Encoded(0, np.zeros(0, dtype=np.int64), [], [], 0)
        tokenizer = self.classifier.tokenizer
        encoded = tokenizer(
            sentences,
            truncation=True,
            max_length=self.classifier.max_tokens,
            stride=self.window_stride_tokens,
            return_overflowing_tokens=True,
        )
        owners = np.asarray(encoded["overflow_to_sample_mapping"])
        windows = [{k: encoded[k][i] for k in ("input_ids", "attention_mask", "token_type_ids") if k in encoded} for i in range(len(owners))]
        batches = list(self._token_budget_batches([len(w["input_ids"]) for w in windows]))
        padded = [dict(tokenizer.pad([windows[i] for i in batch], return_tensors="pt")) for batch in batches]
        return Encoded(len(sentences), owners, batches, padded, int(np.count_nonzero(np.bincount(owners) > 1)))

    def score(self, encoded: "Encoded") -> np.ndarray:
        """Scores, shape (sentences, labels), in input order; windows of one sentence are max-pooled."""
        scores = np.zeros((encoded.sentences, len(LABELS)), dtype=np.float32)
        if not encoded.sentences:
            return scores
        window_scores = np.zeros((len(encoded.owners), len(LABELS)), dtype=np.float32)
        for batch, batch_scores in zip(encoded.batches, self.classifier.score_batches(encoded.padded)):
            window_scores[batch] = batch_scores
        np.maximum.at(scores, encoded.owners, window_scores)
        self.windowed_sentences += encoded.windowed
        return scores

    def score_sentences(self, sentences: list[str]) -> np.ndarray:
        """Scores, shape (len(sentences), labels), in input order."""
        return self.score(self.encode(sentences))

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

    def _prepare(self, records: list[dict], unit: Unit) -> tuple[list[dict], list, list, "Encoded"]:
        """Split articles into sentences and tokenise them: everything before the model."""
        if unit == "sentence":
            return records, [], [], self.encode([r["text"] for r in records])
        spans = [split_sentences(r["text"]) for r in records]
        titles = [[r["title"]] if r.get("title") and r["title"].strip() else [] for r in records]
        flat = [text for r, article_spans, title in zip(records, spans, titles) for text in title + [r["text"][s:e] for s, e in article_spans]]
        return records, spans, titles, self.encode(flat)

    def _finish(self, records: list[dict], spans: list, titles: list, encoded: "Encoded", unit: Unit) -> list[dict]:
        """Run the model and build one result per record."""
        all_scores = self.score(encoded)
        if unit == "sentence":
            return [{"id": r["id"], "labels": self._labels(row), "scores": self._scores_dict(row)} for r, row in zip(records, all_scores)]
        results, cursor = [], 0
        for article, article_spans, title in zip(records, spans, titles):
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

    def label_articles(self, articles: list[dict]) -> list[dict]:
        """Split each {id, text, title?} into sentences, score them all together, aggregate per article.

        Article scores are the max over its sentences (and its title, when given): an article
        reports an event when any of its sentences does.
        """
        return self._finish(*self._prepare(articles, "article"), "article")

    def label_stream(self, records: Iterable[dict], unit: Unit = "article", records_per_chunk: int | None = None) -> Iterator[dict]:
        """Label records lazily, a chunk at a time, so memory stays flat on any size of dump.

        A chunk is the window in which sentences are sorted by length: about 2,000 sentences
        (256 articles, or 2,048 single units) keeps padding low and memory small.

        A background thread splits and tokenises the next chunk while the model scores this one
        (the tokenizers release the GIL), so the model does not wait on text processing.
        """
        records_per_chunk = records_per_chunk or (ARTICLES_PER_CHUNK if unit == "article" else UNITS_PER_CHUNK)
        iterator = iter(records)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eventclf-tokenise") as worker:
            upcoming = worker.submit(self._prepare_next, iterator, unit, records_per_chunk)
            while prepared := upcoming.result():
                upcoming = worker.submit(self._prepare_next, iterator, unit, records_per_chunk)
                yield from self._finish(*prepared, unit)

    def _prepare_next(self, iterator: Iterator[dict], unit: Unit, size: int):
        chunk = list(islice(iterator, size))
        return self._prepare(chunk, unit) if chunk else None


@dataclass
class Encoded:
    """Sentences tokenised into windows and padded batches, ready for the model."""

    sentences: int
    owners: np.ndarray  # the sentence each window belongs to
    batches: list[list[int]]  # window indices per batch
    padded: list[dict]  # the padded tensors of each batch
    windowed: int  # sentences longer than one window


def render_result(result: dict) -> str:
    """A labelled record as text for people: the article's labels, then each sentence that has one."""
    def tags(labels: list[str]) -> str:
        return ", ".join(labels) if labels else "none"

    lines = [f"== {result['id']}: {tags(result['labels'])}"]
    for sentence in result.get("sentences", []):
        marker = "*" if sentence["labels"] else " "
        lines.append(f" {marker} [{tags(sentence['labels'])}] {' '.join(sentence['text'].split())}")
    return "\n".join(lines)
