"""Reading article dumps and writing results without ever leaving a half-written file."""

from __future__ import annotations

import gzip
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..atomic import replacing
from ..errors import UserError, located

TEXT_SUFFIXES = (".txt", ".txt.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json.gz", ".ndjson")


@dataclass
class Skipped:
    """A record that could not be labelled: where it was and why."""

    where: str
    reason: str


def _has_suffix(path: Path, suffixes: tuple[str, ...]) -> bool:
    return path.name.lower().endswith(suffixes)


def input_files(paths: list[str | Path]) -> list[Path]:
    """Expand folders (recursively) to the JSONL and text files inside, in a stable order."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _has_suffix(p, TEXT_SUFFIXES + JSONL_SUFFIXES))
            if not found:
                raise UserError(located(path, None, "folder holds no .jsonl or .txt file (plain or .gz)", "pass JSONL dumps or text files"))
            files.extend(found)
        elif path.is_file():
            if not _has_suffix(path, TEXT_SUFFIXES + JSONL_SUFFIXES):
                raise UserError(located(path, None, "unsupported input type", "pass .jsonl or .txt files, gzipped or not, or folders of them"))
            files.append(path)
        else:
            raise UserError(located(path, None, "no such file or folder", "check the input path"))
    return files


def _open_text(path: Path):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, "rt", encoding="utf-8", errors="strict", newline="")


def _jsonl_records(path: Path) -> Iterator[dict | Skipped]:
    with _open_text(path) as handle:
        number = 0
        while True:
            number += 1
            try:
                line = handle.readline()
            except UnicodeDecodeError:
                yield Skipped(f"{path}:{number}", "not UTF-8 text; the rest of the file was skipped")
                return
            if not line:
                return
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield Skipped(f"{path}:{number}", f"bad JSON ({err.msg})")
                continue
            if not isinstance(record, dict):
                yield Skipped(f"{path}:{number}", "not a JSON object")
            elif not isinstance(record.get("id"), (str, int)) or isinstance(record.get("id"), bool):
                yield Skipped(f"{path}:{number}", 'missing "id" (string or integer)')
            elif not isinstance(record.get("text"), str) or not record["text"].strip():
                yield Skipped(f"{path}:{number}", 'missing or empty "text"')
            elif record.get("title") is not None and not isinstance(record["title"], str):
                yield Skipped(f"{path}:{number}", '"title" must be a string')
            else:
                yield {"id": record["id"], "text": record["text"], "title": record.get("title"), "where": f"{path}:{number}"}


def _text_record(path: Path) -> dict | Skipped:
    try:
        with _open_text(path) as handle:
            text = handle.read()
    except UnicodeDecodeError:
        return Skipped(str(path), "not UTF-8 text")
    if not text.strip():
        return Skipped(str(path), "empty file")
    return {"id": str(path), "text": text, "title": None, "where": str(path)}


def read_records(paths: list[str | Path]) -> Iterator[dict | Skipped]:
    """Yield records {id, text, title, where} or Skipped markers, streaming, in input order."""
    for path in input_files(paths):
        try:
            if _has_suffix(path, TEXT_SUFFIXES):
                yield _text_record(path)
            else:
                yield from _jsonl_records(path)
        except (OSError, EOFError) as err:
            yield Skipped(str(path), f"cannot read ({err})")


@contextmanager
def atomic_writer(target: str | Path):
    """Open `<target>.partial` for text; it becomes `target` only when the block completes."""
    target = Path(target)
    if target.is_dir():
        raise UserError(located(target, None, "output is a folder", "pass a file name such as out.jsonl"))
    if not target.parent.exists():
        raise UserError(located(target, None, "output folder does not exist", "create it first"))
    with replacing(target) as partial, open(partial, "w", encoding="utf-8") as handle:
        yield handle
