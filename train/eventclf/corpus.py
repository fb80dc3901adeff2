"""Stage 1: the annotated corpus. JSONL, one sentence per line; read it and refuse it when invalid.

A record: {"id", "text", "labels": [...], "article_id"} plus optional "theatre", "year", "style".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from .errors import UserError, located

LABELS: tuple[str, ...] = ("attack", "claim", "denial", "retaliation", "casualty")
REQUIRED_FIELDS = ("id", "text", "labels", "article_id")
MAX_PROBLEMS_SHOWN = 50


def corpus_files(paths: list[str | Path]) -> list[Path]:
    """Expand folders to their *.jsonl files (sorted, so reading order is stable)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(path.glob("*.jsonl"))
            if not found:
                raise UserError(located(path, None, "folder holds no *.jsonl file", "point data.corpus at JSONL files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(located(path, None, "no such file or folder", "check data.corpus or the path you passed"))
    return files


def jsonl_lines(path: Path, fix: str) -> Iterator[tuple[int, object, str | None]]:
    """(line number, parsed value, None) per non-blank line, or (number, None, located problem) when
    the line, or the whole file, cannot be read; `fix` tells the user how to write a line."""
    try:
        # Only "\n" ends a JSON Lines record: scraped text keeps U+2028 and other characters that
        # str.splitlines() would also split on.
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as err:
        yield 0, None, located(path, None, f"not UTF-8 ({err.reason} at byte {err.start})", "re-save the file as UTF-8")
        return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line), None
        except json.JSONDecodeError as err:
            yield number, None, located(path, number, f"bad JSON ({err.msg} at column {err.colno})", fix)


def _record_problems(record: object) -> list[str]:
    if not isinstance(record, dict):
        return ["a record must be a JSON object; write one {...} per line"]
    problems = [f'missing field "{name}"; every record needs {", ".join(REQUIRED_FIELDS)}' for name in REQUIRED_FIELDS if name not in record]
    if "id" in record and not (isinstance(record["id"], str) and record["id"].strip()):
        problems.append('"id" must be a non-empty string')
    if "article_id" in record and not (isinstance(record["article_id"], str) and record["article_id"].strip()):
        problems.append('"article_id" must be a non-empty string')
    if "text" in record and not (isinstance(record["text"], str) and record["text"].strip()):
        problems.append('empty text; write the sentence or drop the record')
    labels = record.get("labels", [])
    if not isinstance(labels, list):
        problems.append(f'"labels" must be a list such as ["attack"] or []; got {labels!r}')
    else:
        for label in labels:
            if label not in LABELS:
                problems.append(f'unknown label "{label}"; use one of {", ".join(LABELS)}')
        if len(set(map(str, labels))) != len(labels):
            problems.append('a label appears twice in "labels"; list each once')
    return problems


def validate_corpus(paths: list[str | Path]) -> tuple[list[dict], list[str]]:
    """Read every file and return the valid records plus one located line per problem."""
    records: list[dict] = []
    problems: list[str] = []
    first_seen_id: dict[str, str] = {}
    first_seen_text: dict[str, tuple[str, frozenset]] = {}
    for path in corpus_files(paths):
        for number, record, unreadable in jsonl_lines(path, "write one JSON object per line"):
            if unreadable:
                problems.append(unreadable)
                continue
            where = f"{path}:{number}"
            own = _record_problems(record)
            problems.extend(located(path, number, p) for p in own)
            if own:
                continue
            if record["id"] in first_seen_id:
                problems.append(located(path, number, f'duplicate id "{record["id"]}" (first at {first_seen_id[record["id"]]})', "give every sentence its own id"))
                continue
            first_seen_id[record["id"]] = where
            key = " ".join(record["text"].split())
            labels = frozenset(record["labels"])
            if key in first_seen_text and first_seen_text[key][1] != labels:
                problems.append(located(path, number, f"same text as {first_seen_text[key][0]} but different labels", "make them agree or drop one"))
                continue
            first_seen_text.setdefault(key, (where, labels))
            record["labels"] = [label for label in LABELS if label in labels]
            records.append(record)
    return records, problems


def first_problems(problems: list[str]) -> list[str]:
    """The first problems and a count of the rest: a screenful, not thousands of lines."""
    shown = problems[:MAX_PROBLEMS_SHOWN]
    if len(problems) > len(shown):
        shown.append(f"... and {len(problems) - len(shown)} more problems ({len(problems)} in all)")
    return shown


def read_corpus(paths: list[str | Path]) -> list[dict]:
    """Valid records, or a UserError listing every problem: nothing trains on an invalid corpus."""
    records, problems = validate_corpus(paths)
    if problems:
        raise UserError(first_problems(problems))
    if not records:
        raise UserError(located(", ".join(map(str, paths)), None, "the corpus holds no sentence", "add JSONL records"))
    return records


def corpus_hash(paths: list[str | Path]) -> str:
    """SHA-256 over the corpus files' bytes, recorded with every model for provenance."""
    digest = hashlib.sha256()
    for path in corpus_files(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
