import json
from pathlib import Path

from eventclf.audit import audit_corpus, normalise, render_data_card, trigger_phrases
from eventclf.config import DataConfig

from .conftest import SENTENCES, write_corpus


def _data(path: Path) -> DataConfig:
    return DataConfig(corpus=[str(path)], validation_fraction=0.2, test_fraction=0.2)


def test_normalise_folds_case_digits_and_punctuation():
    assert normalise("Rebels KILLED 12 people, police said.") == normalise("rebels killed 7 people police said")


def test_clean_corpus_passes_and_counts_match(corpus_file):
    report = audit_corpus(_data(corpus_file))
    assert report.failures == []
    assert report.sentences == len(SENTENCES)
    assert report.none == sum(not labels for _, _, labels in SENTENCES)
    assert report.label_counts["attack"] == sum("attack" in labels for _, _, labels in SENTENCES)
    assert sum(s["sentences"] for s in report.split_counts.values()) == len(SENTENCES)


def test_duplicates_and_near_duplicates_fail(tmp_path):
    sentences = SENTENCES + [("a9", "Gunmen stormed a police post outside the town overnight.", ["attack"]), ("a9", "Four officers were KILLED and two wounded; the Governor said!", ["casualty"])]
    report = audit_corpus(_data(write_corpus(tmp_path / "c.jsonl", sentences)))
    assert len(report.failures) == 2
    assert report.failures[0].startswith("duplicate sentence") and report.failures[1].startswith("near-duplicate sentence")


def test_dominant_trigger_phrase_fails(tmp_path):
    sentences = [(f"t{i}", f"Unit {name} claimed responsibility for the raid.", ["attack", "claim"]) for i, name in enumerate(["alpha", "bravo", "charlie", "delta"])]
    sentences += [(f"n{i}", f"Officials in {city} discussed the harvest.", []) for i, city in enumerate(["Goma", "Bamako", "Kabul", "Sanaa"])]
    records = [{"text": text, "labels": labels} for _, text, labels in sentences]
    assert trigger_phrases(records, "claim")[0] == ("claimed responsibility", 1.0)
    report = audit_corpus(_data(write_corpus(tmp_path / "c.jsonl", sentences)))
    assert any('label claim: "claimed responsibility" is in 100%' in f for f in report.failures)


def test_data_card_carries_the_numbers(tmp_path):
    path = tmp_path / "c.jsonl"
    rows = [json.dumps({"id": f"x{i}", "text": text, "labels": labels, "article_id": article, "theatre": "Sahel", "year": 2019}) for i, (article, text, labels) in enumerate(SENTENCES)]
    path.write_text("\n".join(rows) + "\n")
    card = render_data_card(audit_corpus(_data(path)), [str(path)])
    assert f"{len(SENTENCES)} sentences in 6 articles" in card
    assert "| Sahel | 20 |" in card and "Audit: passes" in card
