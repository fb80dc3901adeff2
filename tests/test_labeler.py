import numpy as np
import pytest

from eventclf.corpus import LABELS
from eventclf.inference import Labeler


@pytest.fixture(scope="module")
def labeler(tiny_model_dir):
    return Labeler.from_pretrained(tiny_model_dir, device="cpu", max_tokens_per_batch=256)


def test_scores_do_not_depend_on_batching_or_order(labeler):
    texts = ["Rebels shelled the town.", "Talks resumed.", "A very much longer sentence about a raid on a border post that left several dead."]
    together = labeler.score_sentences(texts)
    alone = np.vstack([labeler.score_sentences([t]) for t in texts])
    reversed_ = labeler.score_sentences(texts[::-1])[::-1]
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(together, reversed_, atol=1e-5)


def test_long_sentences_are_windowed_and_max_pooled(labeler):
    window = labeler.classifier.max_tokens
    long_text = " ".join(f"word{i}" for i in range(window * 2))
    before = labeler.windowed_sentences
    (scores,) = labeler.score_sentences([long_text])
    assert labeler.windowed_sentences == before + 1
    encoded = labeler.classifier.tokenizer(long_text, truncation=True, max_length=window, stride=labeler.window_stride_tokens, return_overflowing_tokens=True)
    assert len(encoded["input_ids"]) > 1
    per_window = np.vstack([labeler.classifier.score_encoded({"input_ids": __import__("torch").tensor([ids])}) for ids in encoded["input_ids"]])
    np.testing.assert_allclose(scores, per_window.max(axis=0), atol=1e-5)


def test_article_output_shape_offsets_and_max_aggregation(labeler):
    text = "Gunmen attacked a bus.The driver died.\n\nOfficials   condemned it."
    (result,) = labeler.label_articles([{"id": "x", "text": text, "title": None}])
    assert set(result) == {"id", "labels", "scores", "sentences"}
    assert list(result["scores"]) == list(LABELS)
    assert len(result["sentences"]) == 3
    for sentence in result["sentences"]:
        assert text[sentence["start"] : sentence["end"]] == sentence["text"]
        assert set(sentence) == {"text", "start", "end", "labels", "scores"}
    for label in LABELS:
        assert result["scores"][label] == max(s["scores"][label] for s in result["sentences"])


def test_sentence_unit_and_streaming_keep_input_order(labeler):
    records = [{"id": i, "text": f"Sentence number {i} about a strike."} for i in range(10)]
    results = list(labeler.label_stream(records, unit="sentence", records_per_chunk=3))
    assert [r["id"] for r in results] == list(range(10))
    assert all(set(r) == {"id", "labels", "scores"} for r in results)
    direct = labeler.label_texts([r["text"] for r in records])
    assert [r["scores"] for r in results] == [d["scores"] for d in direct]
