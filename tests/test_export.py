import shutil

import numpy as np
import pytest

from eventclf.errors import UserError
from eventclf.export import OnnxRunner, onnx_file
from eventclf.inference import Labeler
from eventclf.modeling import EventClassifier

TEXTS = ["Rebels shelled the town at dawn.", "Talks resumed.", "The army said its jets struck a depot, killing four fighters and wounding a guard."]


@pytest.fixture
def model_dir(tiny_model_dir, tmp_path):
    """A private copy, so the exported files do not leak into other tests."""
    return shutil.copytree(tiny_model_dir, tmp_path / "model")


def test_onnx_matches_torch_and_is_cached(model_dir):
    torch_scores = EventClassifier.from_pretrained(model_dir, device="cpu").predict_scores(TEXTS)
    onnx_scores = EventClassifier.from_pretrained(model_dir, backend="onnx").predict_scores(TEXTS)
    np.testing.assert_allclose(onnx_scores, torch_scores, atol=1e-5)
    exported = onnx_file(model_dir, quantized=False)
    stamp = exported.stat().st_mtime_ns
    EventClassifier.from_pretrained(model_dir, backend="onnx")
    assert exported.stat().st_mtime_ns == stamp
    assert not list(exported.parent.glob("*partial*"))


def test_int8_stays_close_to_torch(model_dir):
    torch_scores = EventClassifier.from_pretrained(model_dir, device="cpu").predict_scores(TEXTS)
    int8 = EventClassifier.from_pretrained(model_dir, backend="onnx-int8")
    assert onnx_file(model_dir, quantized=True).is_file()
    assert np.abs(int8.predict_scores(TEXTS) - torch_scores).max() < 0.05


def test_labeler_output_is_the_same_with_onnx(model_dir):
    article = [{"id": "a", "text": " ".join(TEXTS) + " " + "word " * 200, "title": "Town shelled"}]
    torch_result = Labeler.from_pretrained(model_dir, device="cpu").label_articles(article)[0]
    onnx_result = Labeler.from_pretrained(model_dir, backend="onnx").label_articles(article)[0]
    assert [s["text"] for s in onnx_result["sentences"]] == [s["text"] for s in torch_result["sentences"]]
    for label, score in torch_result["scores"].items():
        assert onnx_result["scores"][label] == pytest.approx(score, abs=1e-4)


def test_parallel_runs_return_every_batch_in_order(model_dir):
    classifier = EventClassifier.from_pretrained(model_dir, backend="onnx-int8")
    tokenizer = classifier.tokenizer
    batches = [dict(tokenizer(TEXTS[: 1 + i % 3] * (1 + i % 4), padding=True, return_tensors="np")) for i in range(12)]
    path, names = onnx_file(model_dir, quantized=True), classifier.runner.input_names
    serial = OnnxRunner(path, names, parallel_runs=1).score_batches(batches)
    parallel = OnnxRunner(path, names, parallel_runs=3).score_batches(batches)
    assert [s.shape for s in parallel] == [(len(b["input_ids"]), 5) for b in batches]
    for one, other in zip(serial, parallel):
        np.testing.assert_allclose(one, other, atol=1e-6)


def test_unknown_backend_is_a_user_error(model_dir):
    with pytest.raises(UserError, match="unknown backend"):
        EventClassifier.from_pretrained(model_dir, backend="tensorrt")
