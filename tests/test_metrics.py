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
