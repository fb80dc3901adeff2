"""`--engine ray`: the same Labeler on Ray Data, for clusters.

Files are read on the workers with eventclf's own readers (same formats, same per-record errors),
records are labelled by a pool of actors (one GPU each when the cluster has GPUs) with
`map_batches`, and the driver writes the same outputs in input order. Connects to the cluster
named by RAY_ADDRESS, or starts a local Ray instance.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import UserError
from .dump import LabelOptions, LabelSummary, errors_path_for, write_errors, write_outputs
from .io import Fields, Skipped, input_files, read_file_records
from .labeler import Labeler, Unit

RECORDS_PER_BATCH = 256


def _error_row(where: str, error: str) -> dict:
    return {"id": "", "text": "", "title": "", "where": where, "error": error}


def _file_rows(row: dict, fields: Fields, max_chars: int) -> Iterator[dict]:
    """One input file as rows; unreadable records become rows with an error. Ids travel as JSON."""
    try:
        for item in read_file_records(Path(row["path"]), fields, max_chars):
            if isinstance(item, Skipped):
                yield _error_row(item.where, item.reason)
            else:
                yield {"id": json.dumps(item["id"]), "text": item["text"], "title": item["title"] or "", "where": item["where"], "error": ""}
    except UserError as err:
        yield _error_row(row["path"], "; ".join(err.problems))


class LabelActor:
    """A Labeler held by one Ray actor for its lifetime: the model loads once per worker."""

    def __init__(self, model_dir: str, unit: Unit, backend: str, device: str, batch_tokens: int | None):
        self.labeler = Labeler.from_pretrained(model_dir, device=device, backend=backend, max_tokens_per_batch=batch_tokens)
        self.unit = unit

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ok = [i for i, error in enumerate(batch["error"]) if not error]
        records = [{"id": json.loads(batch["id"][i]), "text": batch["text"][i], "title": batch["title"][i] or None} for i in ok]
        results = [""] * len(batch["error"])
        before = self.labeler.windowed_sentences
        for i, result in zip(ok, self.labeler.label_stream(records, unit=self.unit)):
            results[i] = json.dumps(result, ensure_ascii=False)
        windowed = np.zeros(len(results), dtype=np.int64)
        if ok:
            windowed[ok[0]] = self.labeler.windowed_sentences - before
        return {"result": np.array(results, dtype=object), "where": batch["where"], "error": batch["error"], "windowed": windowed}


def label_files_ray(inputs: list[str | Path], model_dir: str | Path, output: str | Path, options: LabelOptions = LabelOptions(), workers: int | None = None) -> LabelSummary:
    """Label a dump on Ray Data; `workers` actors (default: one per GPU, else one)."""
    import ray

    output = Path(output)
    files = input_files(inputs)
    Labeler.from_pretrained(model_dir, device="cpu")  # a bad model folder is a UserError here, not inside an actor
    started = time.perf_counter()
    ray.init(ignore_reinit_error=True, log_to_driver=False, include_dashboard=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # output order is input order
    context.enable_progress_bars = False
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    actors = workers or max(gpus, 1)
    if not gpus:  # each CPU actor holds a CPU; leave one for the reading tasks, or the pipeline stalls
        actors = min(actors, max(1, int(resources.get("CPU", 1)) - 1))
    dataset = (
        ray.data.from_items([{"path": str(path)} for path in files])
        .flat_map(_file_rows, fn_kwargs={"fields": options.fields, "max_chars": options.max_chars})
        .map_batches(
            LabelActor,
            fn_constructor_kwargs={"model_dir": str(Path(model_dir).resolve()), "unit": options.unit, "backend": options.backend, "device": "cuda" if gpus else options.device, "batch_tokens": options.batch_tokens},
            batch_size=RECORDS_PER_BATCH,
            concurrency=actors,
            num_gpus=1 if gpus else 0,
        )
    )
    summary = LabelSummary()
    errors: list[dict] = []
    try:
        _collect(dataset, summary, errors, output, options)
    finally:
        ray.shutdown()
    summary.skipped = len(errors)
    summary.errors_file = write_errors(errors, errors_path_for(output, options.errors_file))
    if summary.records == 0:
        output.unlink(missing_ok=True)
        raise UserError(f"{', '.join(map(str, inputs))}: no record could be read ({summary.skipped} skipped); nothing was written")
    summary.seconds = time.perf_counter() - started
    return summary


def _collect(dataset, summary: LabelSummary, errors: list[dict], output: Path, options: LabelOptions) -> None:
    """Stream the labelled rows, in input order, into the output files and the run's counts."""

    def results() -> Iterator[dict]:
        for row in dataset.iter_rows():
            summary.windowed_sentences += int(row["windowed"])
            if row["error"]:
                errors.append({"where": row["where"], "reason": row["error"]})
                continue
            result = json.loads(row["result"])
            summary.records += 1
            summary.sentences += len(result.get("sentences", [None]))
            yield result

    summary.duplicate_ids = write_outputs(results(), output, options.unit, options.summary_csv)
