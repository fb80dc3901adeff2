from pathlib import Path

from eventclf.config import DataConfig
from eventclf.corpus import LABELS
from eventclf.dataset import SPLITS, build_dataset, dataset_stats

from .conftest import SENTENCES


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
