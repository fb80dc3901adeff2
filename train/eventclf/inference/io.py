"""Reading article dumps and writing results without ever leaving a half-written file."""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import UserError, located

COMPRESSIONS = ("", ".gz", ".zst")
FORMATS = {
    "text": (".txt",),
    "jsonl": (".jsonl", ".ndjson"),
    "csv": (".csv",),
    "tsv": (".tsv",),
    "parquet": (".parquet",),
}
SUFFIXES = {suffix + compression: kind for kind, suffixes in FORMATS.items() for suffix in suffixes for compression in ("",) + (COMPRESSIONS[1:] if kind != "parquet" else ())}
LONGEST_SUFFIX_FIRST = sorted(SUFFIXES, key=len, reverse=True)  # ".jsonl.gz" before ".gz"
DEFAULT_MAX_CHARS = 1_000_000


@dataclass
class Skipped:
    """A record that could not be labelled: where it was and why."""

    where: str
    reason: str


@dataclass(frozen=True)
class Fields:
    """Which input fields (JSON keys, CSV columns, Parquet columns) hold the id, text and title."""

    id: str = "id"
    text: str = "text"
    title: str = "title"


def input_format(path: Path) -> str | None:
    name = path.name.lower()
    return next((SUFFIXES[suffix] for suffix in LONGEST_SUFFIX_FIRST if name.endswith(suffix)), None)


def input_files(paths: list[str | Path]) -> list[Path]:
    """Expand folders (recursively) to the supported files inside, in a stable order."""
    supported = ", ".join(sorted(SUFFIXES))
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and input_format(p))
            if not found:
                raise UserError(located(path, None, "folder holds no supported input file", f"pass files ending in {supported}"))
            files.extend(found)
        elif path.is_file():
            if not input_format(path):
                raise UserError(located(path, None, "unsupported input type", f"pass files ending in {supported}, or folders of them"))
            files.append(path)
        else:
            raise UserError(located(path, None, "no such file or folder", "check the input path"))
    return files


def _open_binary(path: Path):
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".zst"):
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True))
    return open(path, "rb")


def _check(record: dict, where: str, fields: Fields, max_chars: int) -> dict | Skipped:
    """One raw record to {id, text, title, where}, or the reason it cannot be labelled."""
    identifier, text, title = record.get(fields.id), record.get(fields.text), record.get(fields.title)
    if not isinstance(identifier, (str, int)) or isinstance(identifier, bool) or identifier == "":
        return Skipped(where, f'missing "{fields.id}" (string or integer); choose the id field with --id-field')
    if not isinstance(text, str) or not text.strip():
        return Skipped(where, f'missing or empty "{fields.text}"; choose the text field with --text-field')
    if len(text) > max_chars:
        return Skipped(where, f"text of {len(text):,} characters is over the limit of {max_chars:,} (--max-chars); likely not an article")
    if "\x00" in text:
        return Skipped(where, "text holds NUL bytes: binary data, not an article")
    if title is not None and not isinstance(title, str):
        return Skipped(where, f'"{fields.title}" must be a string')
    return {"id": identifier, "text": text, "title": title or None, "where": where}


def _jsonl_records(path: Path, fields: Fields, max_chars: int) -> Iterator[dict | Skipped]:
    with _open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield Skipped(where, "not UTF-8 text")
                continue
            except json.JSONDecodeError as err:
                yield Skipped(where, f"bad JSON ({err.msg})")
                continue
            yield _check(record, where, fields, max_chars) if isinstance(record, dict) else Skipped(where, "not a JSON object")


def _csv_records(path: Path, fields: Fields, max_chars: int, delimiter: str) -> Iterator[dict | Skipped]:
    csv.field_size_limit(max(max_chars * 4, 1 << 20))
    with io.TextIOWrapper(_open_binary(path), encoding="utf-8", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        if reader.fieldnames is None or fields.text not in reader.fieldnames:
            columns = ", ".join(reader.fieldnames or []) or "none"
            raise UserError(located(path, 1, f'no "{fields.text}" column (columns: {columns})', "choose the text column with --text-field"))
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if "\ufffd" in (row.get(fields.text) or ""):
                yield Skipped(where, "not UTF-8 text")
                continue
            yield _check({k: v for k, v in row.items() if k is not None}, where, fields, max_chars)


def _parquet_records(path: Path, fields: Fields, max_chars: int) -> Iterator[dict | Skipped]:
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path)
    names = table.schema_arrow.names
    if fields.text not in names:
        raise UserError(located(path, None, f'no "{fields.text}" column (columns: {", ".join(names)})', "choose the text column with --text-field"))
    columns = [name for name in (fields.id, fields.text, fields.title) if name in names]
    number = 0
    for batch in table.iter_batches(batch_size=1024, columns=columns):
        for row in batch.to_pylist():
            number += 1
            yield _check(row, f"{path}:row {number}", fields, max_chars)


def _text_record(path: Path, max_chars: int) -> dict | Skipped:
    with _open_binary(path) as handle:
        raw = handle.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Skipped(str(path), "not UTF-8 text")
    return _check({"id": str(path), "text": text}, str(path), Fields(), max_chars)


def read_file_records(path: Path, fields: Fields = Fields(), max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[dict | Skipped]:
    """Records {id, text, title, where} or Skipped markers of one input file, streaming, in order."""
    kind = input_format(path)
    try:
        if kind == "text":
            yield _text_record(path, max_chars)
        elif kind == "jsonl":
            yield from _jsonl_records(path, fields, max_chars)
        elif kind == "parquet":
            yield from _parquet_records(path, fields, max_chars)
        else:
            yield from _csv_records(path, fields, max_chars, "," if kind == "csv" else "\t")
    except (OSError, EOFError) as err:
        yield Skipped(str(path), f"cannot read the rest of the file ({err})")


def read_records(paths: list[str | Path], fields: Fields = Fields(), max_chars: int = DEFAULT_MAX_CHARS) -> Iterator[dict | Skipped]:
    """Yield records {id, text, title, where} or Skipped markers, streaming, in input order."""
    for path in input_files(paths):
        yield from read_file_records(path, fields, max_chars)
