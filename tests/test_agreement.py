import json

import pytest

from eventclf.agreement import agreement_table, measure_agreement
from eventclf.corpus import read_corpus
from eventclf.errors import UserError

from .conftest import SENTENCES


def _annotation(path, labels_by_id: dict[str, list[str]]):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"id": i, "labels": labels}) + "\n" for i, labels in labels_by_id.items()))
    return path


def test_an_identical_annotation_agrees_fully_and_one_flip_lowers_only_its_label(corpus_file, tmp_path):
    records = read_corpus([corpus_file])
    same = {r["id"]: r["labels"] for r in records}
    flipped = dict(same)
    claims = [r["id"] for r in records if "claim" in r["labels"]]
    flipped[claims[0]] = [label for label in same[claims[0]] if label != "claim"]
    _annotation(tmp_path / "agree" / "a.jsonl", same)
    _annotation(tmp_path / "agree" / "b.jsonl", flipped)

    rows = {(row.first, row.second): row for row in measure_agreement(records, [tmp_path / "agree"])}

    assert set(rows) == {("corpus", "a"), ("corpus", "b"), ("a", "b")}
    assert rows["corpus", "a"].macro_f1 == 1.0 and set(rows["corpus", "a"].kappa.values()) == {1.0}
    b = rows["corpus", "b"]
    assert b.sentences == len(SENTENCES)
    assert b.f1["claim"] == pytest.approx(2 * (len(claims) - 1) / (2 * len(claims) - 1))
    assert b.kappa["claim"] < 1.0 and b.kappa["attack"] == b.kappa["denial"] == 1.0
    assert "| corpus vs b | 20 |" in agreement_table(list(rows.values()))


def test_agreement_is_measured_on_the_shared_sentences_only(corpus_file, tmp_path):
    records = read_corpus([corpus_file])
    _annotation(tmp_path / "part.jsonl", {r["id"]: r["labels"] for r in records[:5]})
    (row,) = measure_agreement(records, [tmp_path / "part.jsonl"])
    assert row.sentences == 5


def test_bad_annotation_lines_are_all_reported_with_file_and_line(corpus_file, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a1-00", "labels": ["attack"]}\n{"id": "nope", "labels": []}\n{"id": "a1-01", "labels": ["bombing"]}\nnot json\n')
    with pytest.raises(UserError) as err:
        measure_agreement(read_corpus([corpus_file]), [path])
    problems = err.value.problems
    assert [p.split(": ")[0] for p in problems] == [f"{path}:2", f"{path}:3", f"{path}:4"]
    assert "'nope' is not in the corpus" in problems[0] and "unknown label 'bombing'" in problems[1] and "bad JSON" in problems[2]
