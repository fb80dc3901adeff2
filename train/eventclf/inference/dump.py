"""Labelling a whole dump: parts that are complete or absent, --resume, an errors file, final outputs.

Input items (records and unreadable ones alike) are numbered in input order and cut into parts of
`records_per_part`. Each part is written to `<output>.parts/` and renamed into place only when
complete, with a small meta file (counts and errors) renamed before it. A killed run restarted
with `--resume` skips the parts on disk and labels the rest, so every record is labelled once.
At the end the parts become the output (JSONL or Parquet), the errors file and the summary CSV.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

import torch
from tqdm.auto import tqdm

from ..atomic import replacing
from ..corpus import LABELS
from ..errors import UserError, located
from .io import DEFAULT_MAX_CHARS, Fields, Skipped, read_records
from .labeler import Labeler, Unit

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
OUTPUT_FORMATS = ("jsonl", "parquet")


@dataclass
class LabelSummary:
    """What a `label` run did, printed at the end and returned to Python callers."""

    records: int = 0
    sentences: int = 0
    windowed_sentences: int = 0
    skipped: int = 0
    duplicate_ids: list[str] = field(default_factory=list)
    resumed_parts: int = 0
    seconds: float = 0.0
    errors_file: Path | None = None


@dataclass(frozen=True)
class LabelOptions:
    """How to read, label and report a dump; the same for every engine."""

    unit: Unit = "article"
    device: str = "auto"
    backend: str = "torch"
    fields: Fields = Fields()
    max_chars: int = DEFAULT_MAX_CHARS
    batch_tokens: int | None = None
    summary_csv: Path | None = None
    errors_file: Path | None = None


def output_format(output: Path) -> str:
    return "parquet" if output.name.lower().endswith(".parquet") else "jsonl"


def _part(parts: Path, index: int, kind: str) -> Path:
    return parts / f"part-{index:06d}.{kind}"


def _write_json(path: Path, value) -> None:
    with replacing(path) as partial:
        partial.write_text(json.dumps(value) + "\n", encoding="utf-8")


def _completed_parts(parts: Path) -> int:
    """Parts whose results are on disk (a results file is renamed last, so it means complete)."""
    return len(list(parts.glob("part-*.jsonl")))


def _open_parts(parts: Path, manifest: dict, resume: bool, output: Path) -> int:
    """Create or check the parts folder; returns how many parts are already done."""
    if parts.exists():
        if not resume:
            raise UserError(located(parts, None, "holds the parts of an unfinished run", "continue it with --resume, or delete the folder to start again"))
        try:
            saved = json.loads((parts / MANIFEST).read_text())
        except (OSError, ValueError):
            raise UserError(located(parts, None, "has no readable manifest", "delete the folder and start again")) from None
        changed = [key for key in manifest if saved.get(key) != manifest[key]]
        if changed:
            raise UserError(located(parts / MANIFEST, None, f"the unfinished run used other {', '.join(changed)}", "resume with the same inputs and options, or delete the folder"))
        return _completed_parts(parts)
    if output.parent and not output.parent.exists():
        raise UserError(located(output, None, "output folder does not exist", "create it first"))
    if output.is_dir():
        raise UserError(located(output, None, "output is a folder", "pass a file name such as out.jsonl"))
    parts.mkdir()
    _write_json(parts / MANIFEST, manifest)
    return 0


def _label_part(labeler: Labeler, items: list, unit: Unit, parts: Path, index: int) -> dict:
    """Label one part's records and commit it: meta first, results last (the rename is the commit)."""
    records = [item for item in items if not isinstance(item, Skipped)]
    errors = [{"where": item.where, "reason": item.reason} for item in items if isinstance(item, Skipped)]
    for error in errors:
        log.warning("%s: skipped: %s", error["where"], error["reason"])
    before = labeler.windowed_sentences
    sentences = 0
    with replacing(_part(parts, index, "jsonl")) as partial_results:
        with open(partial_results, "w", encoding="utf-8") as handle:
            for result in labeler.label_stream(records, unit=unit):
                handle.write(json.dumps(result, ensure_ascii=False) + "\n")
                sentences += len(result.get("sentences", [None]))
        meta = {"records": len(records), "sentences": sentences, "windowed": labeler.windowed_sentences - before, "errors": errors}
        _write_json(_part(parts, index, "meta.json"), meta)
    return meta


def _results(parts: Path, count: int) -> Iterator[dict]:
    for index in range(count):
        with open(_part(parts, index, "jsonl"), encoding="utf-8") as handle:
            for line in handle:
                yield json.loads(line)


@contextmanager
def _jsonl_sink(path: Path, unit: Unit):
    with replacing(path) as partial, open(partial, "w", encoding="utf-8") as handle:
        yield lambda result: handle.write(json.dumps(result, ensure_ascii=False) + "\n")


@contextmanager
def _parquet_sink(path: Path, unit: Unit):
    """Results as Parquet rows: id, labels, scores (one field per label) and, per article, its sentences."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    scores = pa.struct([(label, pa.float32()) for label in LABELS])
    columns = [("id", pa.string()), ("labels", pa.list_(pa.string())), ("scores", scores)]
    if unit == "article":
        sentence = pa.struct([("text", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("labels", pa.list_(pa.string())), ("scores", scores)])
        columns.append(("sentences", pa.list_(sentence)))
    schema = pa.schema(columns)
    rows: list[dict] = []

    def flush() -> None:
        writer.write_table(pa.Table.from_pylist(rows, schema=schema))
        rows.clear()

    def write(result: dict) -> None:
        rows.append({**result, "id": str(result["id"])})
        if len(rows) >= 2048:
            flush()

    with replacing(path) as partial:
        writer = pq.ParquetWriter(partial, schema, compression="zstd")
        try:
            yield write
            if rows:
                flush()
        finally:
            writer.close()


@contextmanager
def _summary_sink(path: Path):
    """One CSV row per record: id, its labels joined by ';', and each label's score."""
    with replacing(path) as partial, open(partial, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "labels", *(f"score_{label}" for label in LABELS)])
        yield lambda result: writer.writerow([result["id"], ";".join(result["labels"]), *(result["scores"][label] for label in LABELS)])


def write_outputs(results: Iterable[dict], output: Path, unit: Unit, summary_csv: Path | None) -> list[str]:
    """Write results as the output (and the summary CSV), each atomically; returns repeated ids."""
    seen: set[bytes] = set()  # 12-byte digests: flat memory even for millions of ids
    repeated: list[str] = []
    with ExitStack() as stack:
        sinks = [stack.enter_context((_parquet_sink if output_format(output) == "parquet" else _jsonl_sink)(output, unit))]
        if summary_csv is not None:
            sinks.append(stack.enter_context(_summary_sink(summary_csv)))
        for result in results:
            key = hashlib.blake2b(str(result["id"]).encode(), digest_size=12).digest()
            if key in seen:
                repeated.append(str(result["id"]))
            seen.add(key)
            for sink in sinks:
                sink(result)
    return repeated


def write_errors(errors: list[dict], path: Path) -> Path | None:
    """The records that could not be labelled, one JSON line each with where and why; None if none."""
    if not errors:
        return None
    with replacing(path) as partial:
        partial.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in errors), encoding="utf-8")
    return path


def errors_path_for(output: Path, errors_file: Path | None) -> Path:
    return errors_file or output.with_name(output.name + ".errors.jsonl")


@dataclass(frozen=True)
class Job:
    """What every labelling worker needs to know, picklable for worker processes."""

    inputs: list[str]
    model_dir: str
    parts: Path
    options: LabelOptions
    records_per_part: int


def _is_done(parts: Path, index: int) -> bool:
    return _part(parts, index, "jsonl").exists() and _part(parts, index, "meta.json").exists()


def _label_share(job: Job, worker: int, workers: int, progress: bool = False) -> int:
    """Label the parts numbered worker, worker + workers, ... that are not on disk; returns the part count.

    Every worker reads the whole input (reading is cheap next to the model) but labels only its share,
    so several workers (one per GPU) fill one parts folder that resumes like a single worker's.
    """
    options = job.options
    device = options.device
    if workers > 1:
        if torch.cuda.device_count() >= workers and options.device != "cpu":
            device = f"cuda:{worker}"
        else:
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    labeler = Labeler.from_pretrained(job.model_dir, device=device, backend=options.backend, max_tokens_per_batch=options.batch_tokens)
    items = read_records(job.inputs, fields=options.fields, max_chars=options.max_chars)
    bar = tqdm(desc="labelling", unit=" records", disable=not progress)
    started, sentences, index = time.perf_counter(), 0, 0
    while chunk := list(islice(items, job.records_per_part)):
        if index % workers == worker and not _is_done(job.parts, index):
            sentences += _label_part(labeler, chunk, options.unit, job.parts, index)["sentences"]
            bar.set_postfix(sentences_per_s=f"{sentences / max(time.perf_counter() - started, 1e-9):.0f}", refresh=False)
        bar.update(len(chunk))
        index += 1
    bar.close()
    return index


def default_workers(device: str) -> int:
    """One worker per GPU when there are several; otherwise one."""
    return max(torch.cuda.device_count(), 1) if device != "cpu" else 1


def label_files(
    inputs: list[str | Path],
    model_dir: str | Path,
    output: str | Path,
    options: LabelOptions = LabelOptions(),
    resume: bool = False,
    records_per_part: int = 10_000,
    workers: int | None = None,
    progress: bool = True,
) -> LabelSummary:
    """Label a dump into one output file, in resumable parts; bad records go to the errors file.

    `workers` processes share the parts (default: one per GPU when there are several, else one).
    """
    output = Path(output)
    parts = output.with_name(output.name + ".parts")
    manifest = {"inputs": [str(Path(p).resolve()) for p in inputs], "model": str(Path(model_dir).resolve()), "unit": options.unit, "backend": options.backend,
                "fields": vars(options.fields), "max_chars": options.max_chars, "records_per_part": records_per_part}
    done = _open_parts(parts, manifest, resume, output)
    summary = LabelSummary(resumed_parts=done)
    started = time.perf_counter()
    job = Job([str(p) for p in inputs], str(model_dir), parts, options, records_per_part)
    workers = workers or default_workers(options.device)
    if workers == 1:
        index = _label_share(job, 0, 1, progress)
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            index = max(pool.starmap(_label_share, [(job, worker, workers) for worker in range(workers)]))

    metas = [json.loads(_part(parts, i, "meta.json").read_text()) for i in range(index)]
    summary.records = sum(m["records"] for m in metas)
    summary.sentences = sum(m["sentences"] for m in metas)
    summary.windowed_sentences = sum(m["windowed"] for m in metas)
    errors = [error for m in metas for error in m["errors"]]
    summary.skipped = len(errors)
    if summary.records == 0:
        shutil.rmtree(parts)
        raise UserError(f"{', '.join(map(str, inputs))}: no record could be read ({summary.skipped} skipped); nothing was written")
    summary.errors_file = write_errors(errors, errors_path_for(output, options.errors_file))
    summary.duplicate_ids = write_outputs(_results(parts, index), output, options.unit, options.summary_csv)
    shutil.rmtree(parts)
    summary.seconds = time.perf_counter() - started
    return summary
