import numpy as np
import pytest
from sklearn.metrics import f1_score

from eventclf.corpus import LABELS
from eventclf.metrics import compute_metrics, multi_hot


def test_multi_hot_from_label_ids():
    np.testing.assert_array_equal(multi_hot([[0, 4], [], [2]]), [[1, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 1, 0, 0]])


def test_shipped_metric_module_agrees_with_sklearn():
    rng = np.random.default_rng(1)
    gold = (rng.random((300, len(LABELS))) < 0.3).astype(int)
    preds = np.where(rng.random(gold.shape) < 0.8, gold, 1 - gold)
    metrics = compute_metrics(preds, gold)
    assert metrics["micro_f1"] == pytest.approx(f1_score(gold, preds, average="micro"))
    assert metrics["macro_f1"] == pytest.approx(f1_score(gold, preds, average="macro"))
    for i, label in enumerate(LABELS):
        assert metrics[f"{label}_f1"] == pytest.approx(f1_score(gold[:, i], preds[:, i]))
        assert metrics[f"{label}_support"] == gold[:, i].sum()


def test_sentence_with_no_gold_and_no_prediction_counts_as_correct():
    gold = np.array([[0, 0, 0, 0, 0], [1, 0, 0, 0, 0]])
    assert compute_metrics(gold.copy(), gold)["samples_f1"] == 1.0
    assert compute_metrics(np.array([[1, 0, 0, 0, 0], [1, 0, 0, 0, 0]]), gold)["samples_f1"] == 0.5


def test_numpy_f1_family_equals_the_evaluate_module():
    from eventclf.metrics import f1_scores

    rng = np.random.default_rng(3)
    gold = rng.integers(0, 2, size=(300, len(LABELS)))
    preds = np.where(rng.random(gold.shape) < 0.8, gold, 1 - gold)
    preds[:20] = gold[:20] = 0  # sentences with no label on either side count as correct
    fast, reference = f1_scores(preds, gold), compute_metrics(preds, gold)
    for name, value in fast.items():
        assert value == pytest.approx(reference[name]), name


def test_bootstrap_intervals_bracket_the_estimate_and_vanish_when_perfect():
    from eventclf.metrics import bootstrap_intervals, f1_scores

    rng = np.random.default_rng(4)
    gold = rng.integers(0, 2, size=(400, len(LABELS)))
    preds = np.where(rng.random(gold.shape) < 0.85, gold, 1 - gold)
    articles = np.repeat(np.arange(50), 8)
    sentence_level = bootstrap_intervals(preds, gold, resamples=300)
    article_level = bootstrap_intervals(preds, gold, groups=articles, resamples=300)
    point = f1_scores(preds, gold)
    for name, (low, high) in sentence_level.items():
        assert 0 <= low <= point[name] <= high <= 1, name
        assert high - low > 0.01
    assert set(article_level) == set(sentence_level)
    assert all(bounds == (1.0, 1.0) for bounds in bootstrap_intervals(gold, gold, resamples=50).values())


def test_article_labels_are_the_union_of_their_sentences():
    from eventclf.metrics import article_level

    preds = np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 1, 0, 0, 0]])
    gold = np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]])
    article_preds, article_gold, articles = article_level(preds, gold, ["b", "b", "a"])
    assert articles == ["b", "a"]
    assert article_preds.tolist() == [[1, 0, 0, 0, 1], [0, 1, 0, 0, 0]]
    assert article_gold.tolist() == [[1, 0, 0, 0, 0], [0, 0, 0, 0, 0]]
