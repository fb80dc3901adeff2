from pathlib import Path

import pytest
from pydantic import ValidationError

from eventclf.config import DataConfig
from eventclf.corpus import LABELS
from eventclf.dataset import SPLITS, build_dataset, dataset_stats
from eventclf.errors import UserError

from .conftest import SENTENCES, write_corpus


def _config(corpus_file: Path, seed: int = 13) -> DataConfig:
    return DataConfig(corpus=[str(corpus_file)], validation_fraction=0.2, test_fraction=0.2, split_seed=seed)


def test_splits_are_grouped_by_article_and_cover_the_corpus(corpus_file: Path):
    dataset = build_dataset(_config(corpus_file))
    assert tuple(dataset) == SPLITS
    articles = [set(dataset[name]["article_id"]) for name in SPLITS]
    assert all(articles), "every split needs an article"
    assert not (articles[0] & articles[1]) and not (articles[0] & articles[2]) and not (articles[1] & articles[2])
    assert sum(len(dataset[name]) for name in SPLITS) == len(SENTENCES)


def test_splits_are_deterministic_for_a_seed(corpus_file: Path):
    first = build_dataset(_config(corpus_file))
    second = build_dataset(_config(corpus_file))
    assert all(first[name]["id"] == second[name]["id"] for name in SPLITS)


def test_label_column_is_typed_and_carries_the_names(corpus_file: Path):
    dataset = build_dataset(_config(corpus_file))
    feature = dataset["train"].features["labels"]
    inner = getattr(feature, "feature", None) or feature[0]
    assert inner.names == list(LABELS)
    by_text = dict(zip(dataset["train"]["text"], dataset["train"]["labels"]))
    for _, text, labels in SENTENCES:
        if text in by_text:
            assert [inner.int2str(i) for i in by_text[text]] == labels


def test_stats_count_positives_and_unlabelled(corpus_file: Path):
    dataset = build_dataset(_config(corpus_file))
    stats = dataset_stats(dataset)
    assert sum(s["sentences"] for s in stats.values()) == len(SENTENCES)
    assert sum(s["attack"] for s in stats.values()) == sum("attack" in labels for _, _, labels in SENTENCES)
    assert sum(s["none"] for s in stats.values()) == sum(not labels for _, _, labels in SENTENCES)


def test_train_fraction_takes_nested_article_shares_of_train_only(tmp_path: Path):
    sentences = [(f"n{a:02d}", f"Report {a} line {s}: the council met again on water rights.", []) for a in range(40) for s in range(2)]
    corpus = write_corpus(tmp_path / "corpus.jsonl", sentences)

    def build(fraction: float):
        return build_dataset(DataConfig(corpus=[str(corpus)], validation_fraction=0.2, test_fraction=0.2, train_fraction=fraction))

    full, half, quarter = build(1.0), build(0.5), build(0.25)
    articles = {name: set(ds["train"]["article_id"]) for name, ds in (("full", full), ("half", half), ("quarter", quarter))}
    assert len(articles["half"]) == round(len(articles["full"]) / 2)
    assert len(articles["quarter"]) == round(len(articles["full"]) / 4)
    assert articles["quarter"] < articles["half"] < articles["full"]
    assert len(half["train"]) == 2 * len(articles["half"]), "whole articles are kept"
    for split in ("validation", "test"):
        assert half[split]["id"] == full[split]["id"] == quarter[split]["id"]


def test_train_fraction_must_be_a_share():
    for bad in (0.0, 1.5):
        with pytest.raises(ValidationError):
            DataConfig(train_fraction=bad)


THEATRES = ("Sahel", "Donbas", "Kivu", "Rakhine", "Sinaloa", "Gaza")


def test_group_by_theatre_keeps_each_theatre_in_one_split(tmp_path: Path):
    theatre_of = {f"t{a:02d}": THEATRES[a % len(THEATRES)] for a in range(24)}
    sentences = [(article, f"Dispatch {article}, paragraph {s}: aid convoys waited at the crossing.", []) for article in theatre_of for s in range(2)]
    corpus = write_corpus(tmp_path / "theatres.jsonl", sentences, [{"theatre": theatre_of[article]} for article, _, _ in sentences])
    dataset = build_dataset(DataConfig(corpus=[str(corpus)], validation_fraction=0.2, test_fraction=0.2, group_by="theatre"))
    theatres = [{theatre_of[a] for a in dataset[name]["article_id"]} for name in SPLITS]
    assert all(theatres)
    assert not (theatres[0] & theatres[1]) and not (theatres[0] & theatres[2]) and not (theatres[1] & theatres[2])


def test_group_by_a_field_some_records_lack_is_a_user_error(corpus_file: Path):
    with pytest.raises(UserError, match='no "theatre"'):
        build_dataset(DataConfig(corpus=[str(corpus_file)], group_by="theatre"))


def test_group_by_theatre_refuses_an_article_with_two_theatres(tmp_path: Path):
    sentences = [("m", f"Line {s} of a report on two fronts.", []) for s in range(2)]
    corpus = write_corpus(tmp_path / "mixed.jsonl", sentences, [{"theatre": "Sahel"}, {"theatre": "Kivu"}])
    with pytest.raises(UserError, match="article m has more than one"):
        build_dataset(DataConfig(corpus=[str(corpus)], group_by="theatre"))
