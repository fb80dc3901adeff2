import gzip
import json
from pathlib import Path

import pytest

from eventclf.errors import UserError
from eventclf.inference.io import Skipped, read_records


def test_reads_jsonl_gzip_and_text_folders_in_order(tmp_path: Path):
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": 1, "text": "One.", "title": "T"}) + "\n\n" + json.dumps({"id": "b", "text": "Two."}) + "\n")
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as handle:
        handle.write(json.dumps({"id": "g", "text": "Zipped."}) + "\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.txt").write_text("Plain text article.")
    items = list(read_records([tmp_path / "a.jsonl", tmp_path / "b.jsonl.gz", tmp_path / "docs"]))
    assert [item["id"] for item in items] == [1, "b", "g", str(tmp_path / "docs" / "x.txt")]
    assert items[0]["title"] == "T" and items[3]["text"] == "Plain text article."


def test_malformed_records_are_skipped_with_their_line(tmp_path: Path):
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(['{"id": "ok", "text": "Fine."}', "{broken", '{"id": "x", "text": ""}', "[1, 2]", '{"text": "no id"}', '{"id": "ok2", "text": "Fine too."}']) + "\n")
    items = list(read_records([path]))
    skipped = [item for item in items if isinstance(item, Skipped)]
    assert [item["id"] for item in items if not isinstance(item, Skipped)] == ["ok", "ok2"]
    assert [s.where for s in skipped] == [f"{path}:2", f"{path}:3", f"{path}:4", f"{path}:5"]


def test_non_utf8_input_is_skipped_not_fatal(tmp_path: Path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\xff\xfe\x00junk")
    (item,) = list(read_records([path]))
    assert isinstance(item, Skipped) and "UTF-8" in item.reason


def test_missing_and_unsupported_inputs_are_user_errors(tmp_path: Path):
    with pytest.raises(UserError, match="no such file"):
        list(read_records([tmp_path / "nope.jsonl"]))
    (tmp_path / "x.pdf").write_text("x")
    with pytest.raises(UserError, match="unsupported"):
        list(read_records([tmp_path / "x.pdf"]))
