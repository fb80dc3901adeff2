"""End to end through the installed `eventclf` command, as a user runs it."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from eventclf.corpus import LABELS

from .conftest import REPO


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(["eventclf", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def assert_user_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory, tiny_model_dir) -> Path:
    """configs/default.yaml shrunk with --set: the tiny model, the tiny corpus, two steps."""
    from .conftest import write_corpus

    tmp = tmp_path_factory.mktemp("cli")
    corpus = write_corpus(tmp / "corpus.jsonl")
    result = run("train", "configs/default.yaml", "--set", f"data.corpus=[{corpus}]", "--set", f"model.name_or_path={tiny_model_dir}", "--set", "training.max_steps=2", "--set", f"run.output_dir={tmp}", "--set", "run.name=e2e")
    assert result.returncode == 0, result.stderr
    assert f"model written to {tmp / 'e2e'}" in result.stdout
    return tmp / "e2e"


def test_validate_reports_broken_corpus_with_file_and_line(tmp_path):
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text('{"id": "1", "text": "Fine.", "labels": [], "article_id": "a"}\n{"id": "2", "text": "Typo.", "labels": ["atack"], "article_id": "a"}\n')
    assert_user_error(run("data", "validate", str(corpus)), f"{corpus}:2: unknown label \"atack\"")


def test_shipped_corpus_is_valid():
    result = run("data", "validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok: ")


def test_train_refuses_invalid_corpus_and_bad_config(tmp_path, tiny_model_dir):
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text("{oops\n")
    assert_user_error(run("train", "configs/default.yaml", "--set", f"data.corpus=[{corpus}]", "--set", f"run.output_dir={tmp_path}"), f"{corpus}:1: bad JSON")
    assert not any(tmp_path.glob("default*"))
    assert_user_error(run("train", "configs/default.yaml", "--set", "training.lr=1"), "unknown key training.lr", "learning_rate")


def test_hub_name_offline_is_a_clear_error(tmp_path, corpus_file):
    result = run("train", "configs/default.yaml", "--set", f"data.corpus=[{corpus_file}]", "--set", "model.name_or_path=someone/not-cached-model", "--set", f"run.output_dir={tmp_path}")
    assert_user_error(result, "someone/not-cached-model", "HF_HUB_OFFLINE")


def test_trained_folder_evaluates(trained_model, corpus_file):
    result = run("evaluate", "--model", str(trained_model), "--data", str(corpus_file), "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout[result.stdout.index("{") :])
    assert {"micro_f1", "macro_f1", "samples_f1"} <= set(metrics)
    assert all(f"{label}_f1" in metrics for label in LABELS)


def test_label_articles_and_sentences_output_shapes(trained_model, tmp_path):
    articles = tmp_path / "articles.jsonl"
    labelled = run("label", "--model", str(trained_model), "data/samples", "--output", str(articles), "--quiet")
    assert labelled.returncode == 0, labelled.stderr
    inputs = [json.loads(line) for line in (REPO / "data/samples/articles.jsonl").read_text().splitlines()]
    results = [json.loads(line) for line in articles.read_text().splitlines()]
    sentences = sum(len(r["sentences"]) for r in results)
    assert f"labelled {len(results)} records ({sentences} sentences, " in labelled.stderr and sentences > len(results)
    assert len(results) == len(inputs) + len(list((REPO / "data/samples/txt").glob("*.txt")))
    for record, result in zip(inputs, results):
        assert list(result) == ["id", "labels", "scores", "sentences"] and result["id"] == record["id"]
        assert list(result["scores"]) == list(LABELS)
        for sentence in result["sentences"]:
            assert list(sentence) == ["text", "start", "end", "labels", "scores"]
            assert record["text"][sentence["start"] : sentence["end"]] == sentence["text"]
    shown = run("show", str(articles))
    assert shown.returncode == 0 and shown.stdout.startswith(f"== {inputs[0]['id']}: ")
    units = tmp_path / "units.jsonl"
    assert run("label", "--model", str(trained_model), "data/samples/articles.jsonl", "--unit", "sentence", "--output", str(units), "--quiet").returncode == 0
    assert [list(json.loads(line)) for line in units.read_text().splitlines()] == [["id", "labels", "scores"]] * len(inputs)


def test_label_routes_bad_records_to_the_errors_file_and_reports_repeated_ids(trained_model, tmp_path):
    dump = tmp_path / "dump.jsonl"
    lines = [b'{"id": "a", "text": "Rockets hit the town."}', b"{broken", b'{"id": "b", "text": ""}', b"\xff\xfe\x00\x13binary junk",
             json.dumps({"id": "huge", "text": "Shelling went on. " * 600_000}).encode(), b'{"id": "a", "text": "Two soldiers died."}']
    dump.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    result = run("label", "--model", str(trained_model), str(dump), "--output", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert [e["where"] for e in errors] == [f"{dump}:{n}" for n in (2, 3, 4, 5)]
    assert [e["reason"].split(" ")[0] for e in errors] == ["bad", "missing", "not", "text"]
    assert "skipped 4 records" in result.stderr and "1 records repeat an earlier id (a)" in result.stderr
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "a"]
    junk = tmp_path / "junk.jsonl"
    junk.write_text("{broken\n")
    assert_user_error(run("label", "--model", str(trained_model), str(junk), "--output", str(tmp_path / "none.jsonl")), "no record could be read")
    assert not (tmp_path / "none.jsonl").exists() and not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob("*.parts"))


def test_label_killed_mid_run_resumes_with_every_record_once(trained_model, tmp_path):
    import signal
    import time

    dump = tmp_path / "dump.jsonl"
    dump.write_text("".join(json.dumps({"id": n, "text": f"Report {n}. Gunmen attacked a convoy near town {n}. {n % 7} people died."}) + "\n" for n in range(3000)))
    clean, broken = tmp_path / "clean.jsonl", tmp_path / "broken.jsonl"
    assert run("label", "--model", str(trained_model), str(dump), "--output", str(clean), "--part-records", "100", "--quiet").returncode == 0
    args = ["eventclf", "label", "--model", str(trained_model), str(dump), "--output", str(broken), "--part-records", "100", "--quiet"]
    process = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = tmp_path / "broken.jsonl.parts"
    deadline = time.time() + 120
    while not (parts / "part-000003.jsonl").exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not broken.exists() and parts.is_dir()
    assert_user_error(run(*args[1:]), "unfinished run", "--resume")
    assert_user_error(run(*args[1:], "--resume", "--backend", "onnx"), "other backend")  # scores would mix backends
    resumed = run(*args[1:], "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed:" in resumed.stderr and not parts.exists()
    assert [json.loads(line)["id"] for line in broken.read_text().splitlines()] == list(range(3000))
    assert broken.read_text() == clean.read_text()
    # Two worker processes (one per GPU on a GPU machine) share the parts and write the same output.
    shared = tmp_path / "shared.jsonl"
    result = run("label", "--model", str(trained_model), str(dump), "--output", str(shared), "--part-records", "100", "--workers", "2", "--quiet")
    assert result.returncode == 0, result.stderr[-2000:]
    assert shared.read_text() == clean.read_text()


def test_label_reads_csv_parquet_zst_and_writes_parquet_and_a_summary(trained_model, tmp_path):
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq
    import zstandard

    rows = [{"doc": f"d{n}", "body": f"Militants shelled the village {n}. Three people were killed.", "headline": "Shelling"} for n in range(4)]
    with open(tmp_path / "a.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["doc", "body", "headline"])
        writer.writeheader()
        writer.writerows(rows[:2])
    pq.write_table(pa.Table.from_pylist(rows[2:3]), tmp_path / "b.parquet")
    (tmp_path / "c.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress((json.dumps(rows[3]) + "\n").encode()))
    out, summary = tmp_path / "out.parquet", tmp_path / "summary.csv"
    result = run("label", "--model", str(trained_model), str(tmp_path / "a.csv"), str(tmp_path / "b.parquet"), str(tmp_path / "c.jsonl.zst"),
                 "--output", str(out), "--summary", str(summary), "--id-field", "doc", "--text-field", "body", "--title-field", "headline", "--quiet")
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out).to_pylist()
    assert [r["id"] for r in table] == ["d0", "d1", "d2", "d3"]
    assert set(table[0]["scores"]) == set(LABELS) and table[0]["sentences"][1]["text"] == "Three people were killed."
    lines = list(csv.DictReader(open(summary)))
    assert [line["id"] for line in lines] == ["d0", "d1", "d2", "d3"]
    assert float(lines[0]["score_attack"]) == pytest.approx(table[0]["scores"]["attack"], abs=1e-4)
    assert_user_error(run("label", "--model", str(trained_model), str(tmp_path / "a.csv"), "--output", str(tmp_path / "x.jsonl")), 'no "text" column (columns: doc, body, headline)', "--text-field")


def test_label_with_a_folder_that_is_not_a_model(tmp_path):
    assert_user_error(run("label", "--model", str(tmp_path), "data/samples", "--output", str(tmp_path / "o.jsonl")), "not a model folder")


def test_audit_fails_on_duplicates_and_card_is_written(tmp_path, corpus_file):
    lines = corpus_file.read_text().splitlines()
    duplicated = tmp_path / "dup.jsonl"
    duplicated.write_text("\n".join(lines + [lines[0].replace('"a1-00"', '"copy"')]) + "\n")
    assert_user_error(run("data", "audit", "--set", f"data.corpus=[{duplicated}]"), "duplicate sentence: id copy repeats id a1-00")
    clean = run("data", "audit", "--set", f"data.corpus=[{corpus_file}]")
    assert clean.returncode == 0 and "audit passed" in clean.stdout
    card = tmp_path / "CARD.md"
    assert_user_error(run("data", "card", "--set", f"data.corpus=[{corpus_file}]", "--output", str(card)), "data/agreement/annotator_a.jsonl:1: id", "is not in the corpus")
    assert not card.exists()  # the shipped annotations describe the shipped corpus, not this one
    assert run("data", "card", "--set", f"data.corpus=[{corpus_file}]", "--agreement", str(tmp_path / "none"), "--output", str(card)).returncode == 0
    assert "20 sentences in 6 articles" in card.read_text() and "Annotator agreement" not in card.read_text()


def test_baseline_saves_both_baselines_that_reload(corpus_file, tmp_path):
    from eventclf.baselines import Baselines

    result = run("baseline", "configs/default.yaml", "--set", f"data.corpus=[{corpus_file}]", "--set", "data.validation_fraction=0.3", "--set", "data.test_fraction=0.3", "--set", f"run.output_dir={tmp_path}", "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout[result.stdout.index("{") :])
    assert set(metrics) == {"keywords", "tfidf"}
    assert 0.0 <= metrics["tfidf"]["test"]["macro_f1"] <= 1.0 and "attack_f1" in metrics["keywords"]["validation"]
    predictions = Baselines.load(tmp_path / "default" / "baselines").predictions(["Gunmen stormed a police post, killing four officers."])
    assert predictions["keywords"].tolist() == [[1, 0, 0, 0, 1]]
    assert predictions["tfidf"].shape == (1, len(LABELS))


def test_report_html_has_every_plot_inline_and_the_baselines(trained_model, tmp_path):
    import base64
    import re

    out = tmp_path / "report"
    result = run("evaluate", "--model", str(trained_model), "--split", "test", "--report", str(out))
    assert result.returncode == 0, result.stderr
    page = (out / "report.html").read_text()
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]+)">', page)
    assert {name for name, _ in images} == {"per_label.png", "pr_curves.png", "calibration.png", "cooccurrence.png"}
    for name, data in images:
        png = base64.b64decode(data)
        assert png.startswith(b"\x89PNG") and len(png) > 5000, name
        assert (out / "plots" / name).read_bytes() == png
        assert f"](plots/{name})" in (out / "report.md").read_text()
    for row in ("<td>model</td>", "<td>tfidf</td>", "<td>keywords</td>", "Article level", "false positive"):
        assert row in page, row
    numbers = json.loads((out / "report.json").read_text())
    for name, (low, high) in numbers["intervals"].items():
        assert low <= numbers["model"][name] + 1e-9 and numbers["model"][name] <= high + 1e-9, name


def test_compare_shows_metrics_and_the_keys_that_differ(trained_model, tmp_path):
    import shutil

    other = shutil.copytree(trained_model, tmp_path / "other")
    recipe = other / "eventclf.yaml"
    recipe.write_text(re.sub(r"learning_rate: \S+", "learning_rate: 0.0042", recipe.read_text()))
    result = run("compare", str(trained_model), str(other))
    assert result.returncode == 0, result.stderr
    assert str(other) in result.stdout and "macro_f1" in result.stdout
    assert "training.learning_rate" in result.stdout and "0.0042" in result.stdout
    assert_user_error(run("compare", str(tmp_path)), "neither a model folder nor a --seeds group")


def test_export_reports_agreement_with_torch(trained_model, corpus_file, tmp_path):
    import shutil

    model = shutil.copytree(trained_model, tmp_path / "model")
    result = run("export", "--model", str(model), "--backend", "onnx", "--check", str(corpus_file))
    assert result.returncode == 0, result.stderr
    assert (model / "onnx" / "model.onnx").is_file()
    # Scores of a two-step model sit on its thresholds, so compare scores rather than labels here.
    assert "onnx vs torch on 20 sentences: label agreement" in result.stdout
    assert "largest score difference 0.0000" in result.stdout


def test_ray_engine_on_a_local_instance_matches_the_local_engine(trained_model, tmp_path):
    """--engine ray (Ray Data map_batches over an actor) writes what the local engine writes."""
    pytest.importorskip("ray")
    dump = tmp_path / "dump.jsonl"
    dump.write_text((REPO / "data/samples/articles.jsonl").read_text() + "{broken\n")
    local, distributed = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert run("label", "--model", str(trained_model), str(dump), "data/samples/txt", "--output", str(local), "--quiet").returncode == 0
    result = run("label", "--model", str(trained_model), str(dump), "data/samples/txt", "--output", str(distributed), "--engine", "ray", "--summary", str(tmp_path / "s.csv"))
    assert result.returncode == 0, result.stderr[-3000:]
    mine, theirs = ([json.loads(line) for line in path.read_text().splitlines()] for path in (local, distributed))
    assert [r["id"] for r in theirs] == [r["id"] for r in mine]
    for a, b in zip(mine, theirs):
        assert a["labels"] == b["labels"] and a["scores"] == pytest.approx(b["scores"], abs=1e-3)
    assert (tmp_path / "ray.jsonl.errors.jsonl").read_text() == (tmp_path / "local.jsonl.errors.jsonl").read_text()
    assert_user_error(run("label", "--model", str(trained_model), str(dump), "--output", str(distributed), "--engine", "ray", "--resume"), "--resume works with the local engine only")


def test_data_agreement_prints_the_table_and_the_card_carries_it(tmp_path, corpus_file):
    records = [json.loads(line) for line in corpus_file.read_text().splitlines()]
    folder = tmp_path / "agreement"
    folder.mkdir()
    (folder / "second.jsonl").write_text("".join(json.dumps({"id": r["id"], "labels": r["labels"]}) + "\n" for r in records))
    result = run("data", "agreement", "--annotations", str(folder), "--set", f"data.corpus=[{corpus_file}]")
    assert result.returncode == 0, result.stderr
    assert "| corpus vs second | 20 | 1.00 | 1.00 | 1.00 | 1.00 | 1.00 | 1.000 |" in result.stdout
    card = tmp_path / "CARD.md"
    assert run("data", "card", "--set", f"data.corpus=[{corpus_file}]", "--agreement", str(folder), "--output", str(card)).returncode == 0
    assert "## Annotator agreement" in card.read_text() and "| corpus vs second | 20 |" in card.read_text()
    assert_user_error(run("data", "agreement", "--annotations", str(tmp_path / "missing"), "--set", f"data.corpus=[{corpus_file}]"), "missing: no such file or folder")
