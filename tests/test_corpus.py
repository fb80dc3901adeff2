import json
from pathlib import Path

import pytest

from eventclf.corpus import LABELS, corpus_hash, read_corpus, validate_corpus
from eventclf.errors import UserError

from .conftest import write_corpus


def test_valid_corpus_reads_with_labels_in_codebook_order(tmp_path: Path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "Jets struck; two died.", "labels": ["casualty", "attack"], "article_id": "a"}) + "\n")
    records, problems = validate_corpus([path])
    assert problems == []
    assert records[0]["labels"] == ["attack", "casualty"]


def test_line_separators_inside_text_stay_in_the_record(tmp_path: Path):
    path = tmp_path / "c.jsonl"
    text = "Gunmen killed two.\u2028Read more\x85"
    path.write_text(json.dumps({"id": "x", "text": text, "labels": [], "article_id": "a"}, ensure_ascii=False) + "\r\n", encoding="utf-8")
    records, problems = validate_corpus([path])
    assert problems == []
    assert records[0]["text"] == text


def test_every_problem_is_found_with_file_and_line(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    lines = [
        {"id": "1", "text": "Fine sentence.", "labels": [], "article_id": "a"},
        "{not json",
        {"id": "2", "text": "No labels field.", "article_id": "a"},
        {"id": "3", "text": "Typo.", "labels": ["atack"], "article_id": "a"},
        {"id": "4", "text": "   ", "labels": [], "article_id": "a"},
        {"id": "1", "text": "Duplicate id.", "labels": [], "article_id": "a"},
        {"id": "5", "text": "Fine  sentence.", "labels": ["attack"], "article_id": "b"},
    ]
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    records, problems = validate_corpus([path])
    assert [r["id"] for r in records] == ["1"]
    expected = {2: "bad JSON", 3: 'missing field "labels"', 4: 'unknown label "atack"', 5: "empty text", 6: 'duplicate id "1"', 7: "same text as"}
    assert len(problems) == len(expected)
    for line, fragment in expected.items():
        assert any(p.startswith(f"{path}:{line}:") and fragment in p for p in problems), (line, problems)


def test_read_corpus_refuses_invalid_input(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1"}\n')
    with pytest.raises(UserError):
        read_corpus([path])
    with pytest.raises(UserError, match="no such file"):
        read_corpus([tmp_path / "missing.jsonl"])


def test_folder_is_expanded_and_hash_tracks_content(tmp_path: Path):
    write_corpus(tmp_path / "c" / "one.jsonl")
    before = corpus_hash([tmp_path / "c"])
    assert len(read_corpus([tmp_path / "c"])) > 10
    with (tmp_path / "c" / "one.jsonl").open("a") as handle:
        handle.write(json.dumps({"id": "new", "text": "Another line.", "labels": [], "article_id": "z"}) + "\n")
    assert corpus_hash([tmp_path / "c"]) != before
    assert set(LABELS) == {"attack", "claim", "denial", "retaliation", "casualty"}
