"""Multi-label event metrics as an `evaluate` module, shipped in the repository and loaded by path.

Inputs are multi-hot 0/1 rows. Returns per-label precision/recall/F1/support, micro and macro F1,
and example-based (per-sentence) F1, where a sentence with no gold label and no prediction scores 1.
"""

import datasets
import evaluate
import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

_DESCRIPTION = "Per-label, micro, macro and example-based F1 for multi-label event classification."
_INPUTS = """
Args:
    predictions: list of multi-hot rows (0/1 per label).
    references: list of multi-hot rows (0/1 per label).
    label_names: names of the columns, in order (default: label_0, label_1, ...).
Returns:
    micro_f1, macro_f1, samples_f1, micro_precision, micro_recall, and for each label
    `<name>_precision`, `<name>_recall`, `<name>_f1`, `<name>_support`.
"""


class EventclfMultilabel(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_INPUTS,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int32")),
                    "references": datasets.Sequence(datasets.Value("int32")),
                }
            ),
        )

    def _compute(self, predictions, references, label_names=None):
        pred = np.asarray(predictions, dtype=np.int64)
        gold = np.asarray(references, dtype=np.int64)
        names = list(label_names) if label_names else [f"label_{i}" for i in range(gold.shape[1])]
        precision, recall, f1, support = precision_recall_fscore_support(gold, pred, average=None, zero_division=0.0)
        micro = precision_recall_fscore_support(gold, pred, average="micro", zero_division=0.0)
        result = {
            "micro_f1": float(micro[2]),
            "micro_precision": float(micro[0]),
            "micro_recall": float(micro[1]),
            "macro_f1": float(f1_score(gold, pred, average="macro", zero_division=0.0)),
            # A sentence with no gold label and no prediction is a correct answer: count it as 1.
            "samples_f1": float(f1_score(gold, pred, average="samples", zero_division=1.0)),
        }
        for i, name in enumerate(names):
            result[f"{name}_precision"] = float(precision[i])
            result[f"{name}_recall"] = float(recall[i])
            result[f"{name}_f1"] = float(f1[i])
            result[f"{name}_support"] = int(support[i])
        return result
