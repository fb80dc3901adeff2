"""Training as users run it: resumed after a kill, under torchrun with two processes, over several seeds."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from eventclf.training import LengthBucketSampler

from .conftest import REPO, SENTENCES, write_corpus

# Sentences per article vary, so grow the tiny corpus to 60 sentences: train holds several batches.
SIXTY = [(f"{article}-{copy}", text if copy == 0 else f"{text[:-1]}, officials said on day {copy}.", labels) for copy in range(3) for article, text, labels in SENTENCES]


def eventclf(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "eventclf.cli", *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=600)
    return process.returncode, out, err


def settings(corpus: Path, model: Path, output: Path, name: str, *extra: str) -> list[str]:
    values = [f"data.corpus=[{corpus}]", f"model.name_or_path={model}", f"run.output_dir={output}", f"run.name={name}", "model.max_length=32",
              "training.batch_size=4", "training.learning_rate=0.003", "training.warmup_ratio=0.0", "run.report_to=[]", *extra]
    return [arg for value in values for arg in ("--set", value)]


@pytest.fixture
def corpus(tmp_path) -> Path:
    return write_corpus(tmp_path / "sixty.jsonl", SIXTY)


def weights(folder: Path) -> dict[str, np.ndarray]:
    return load_file(folder / "model.safetensors")


def test_length_buckets_cut_padding_keep_every_index_once_and_vary_by_epoch():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 120, size=1000).tolist()
    sampler = LengthBucketSampler(lengths, batch_size=32, seed=7)
    first = list(sampler)
    assert sorted(first) == list(range(1000))
    batches = [first[i : i + 32] for i in range(0, 1000, 32)]
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    random_padded = sum(max(lengths[i] for i in range(s, min(s + 32, 1000))) * len(range(s, min(s + 32, 1000))) for s in range(0, 1000, 32))
    assert padded < 0.6 * random_padded
    assert len(batches[-1]) == 1000 % 32  # the one short batch comes last
    # Batch order is shuffled, not long-to-short sweeps: batch maxima are not monotone within windows.
    maxima = [max(lengths[i] for i in b) for b in batches[:-1]]
    assert sum(a > b for a, b in zip(maxima, maxima[1:])) not in (0, len(maxima) - 1)
    assert list(LengthBucketSampler(lengths, 32, seed=7)) == first
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_killed_run_resumes_to_the_same_model(corpus, tiny_model_dir, tmp_path):
    """SIGKILL a real run after its second checkpoint; --resume must end where an unbroken run ends."""
    common = ("train", "configs/default.yaml")
    steps = ("training.eval_steps=2", "training.max_steps=12")
    code, out, err = finish(eventclf(*common, *settings(corpus, tiny_model_dir, tmp_path, "whole", *steps)))
    assert code == 0, err

    run = eventclf(*common, *settings(corpus, tiny_model_dir, tmp_path, "broken", *steps))
    checkpoints = tmp_path / "broken.checkpoints"
    deadline = time.time() + 300
    while not (checkpoints / "checkpoint-4" / "trainer_state.json").exists() and run.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.communicate()
    assert not (tmp_path / "broken").exists(), "killed before the end, yet a model folder exists"

    code, out, err = finish(eventclf(*common, *settings(corpus, tiny_model_dir, tmp_path, "broken", *steps)))
    assert code == 2 and "--resume" in err and "Traceback" not in err
    code, out, err = finish(eventclf(*common, *settings(corpus, tiny_model_dir, tmp_path, "broken", *steps, "training.learning_rate=0.001"), "--resume"))
    assert code == 2 and "training.learning_rate" in err and "Traceback" not in err
    code, out, err = finish(eventclf(*common, *settings(corpus, tiny_model_dir, tmp_path, "broken", *steps), "--resume"))
    assert code == 0, err
    assert not checkpoints.exists()
    whole, resumed = weights(tmp_path / "whole"), weights(tmp_path / "broken")
    assert max(float(np.abs(whole[k] - resumed[k]).max()) for k in whole) < 1e-6
    metrics = [json.loads((tmp_path / name / "metrics.json").read_text())["test"] for name in ("whole", "broken")]
    assert metrics[0] == pytest.approx(metrics[1], abs=1e-6)


def test_resume_without_a_complete_checkpoint_is_refused(corpus, tiny_model_dir, tmp_path):
    (tmp_path / "r.checkpoints" / "checkpoint-2").mkdir(parents=True)  # killed before trainer_state.json
    code, _, err = finish(eventclf("train", "configs/default.yaml", *settings(corpus, tiny_model_dir, tmp_path, "r"), "--resume"))
    assert code == 2 and "no complete checkpoint" in err and "Traceback" not in err


def test_two_processes_under_torchrun_match_one_process(corpus, tiny_model_dir, tmp_path):
    """DDP on CPU (gloo): rank 0 alone writes the model, and it matches a single-process run.

    batch_size is global, so both runs take the same sentences per step. Stated tolerance: every
    score (each sentence, each label) differs by less than a quarter of what training moved the scores
    (measured: a tenth).
    Not bit-equal: the all-reduce sums gradients in
    another order, and Adam divides by the gradient's own size, which magnifies last-bit differences
    of near-zero gradients. Tuned-threshold metrics of a 6-step tiny model are not compared: a
    threshold sits exactly on a validation score, so a 1e-6 change can flip it.
    """
    from eventclf.modeling import EventClassifier

    steps = ("training.max_steps=12", "training.learning_rate=0.02")
    code, _, err = finish(eventclf("train", "configs/default.yaml", *settings(corpus, tiny_model_dir, tmp_path, "single", *steps)))
    assert code == 0, err
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    ddp = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29533", "-m", "eventclf.cli", "train", "configs/default.yaml", *settings(corpus, tiny_model_dir, tmp_path, "ddp", *steps)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    assert ddp.stdout.count("model written to") == 1
    assert json.loads((tmp_path / "ddp" / "metrics.json").read_text())["processes"] == 2
    texts = [text for _, text, _ in SIXTY]
    single, parallel, start = (EventClassifier.from_pretrained(folder, device="cpu").predict_scores(texts) for folder in (tmp_path / "single", tmp_path / "ddp", tiny_model_dir))
    moved = np.abs(single - start).max()
    assert moved > 0.02  # the runs did train, so the comparison below means something
    assert np.abs(single - parallel).max() < 0.25 * moved, (np.abs(single - parallel).max(), moved)


def test_seeds_give_one_model_each_and_mean_and_sd(corpus, tiny_model_dir, tmp_path):
    code, out, err = finish(eventclf("train", "configs/default.yaml", *settings(corpus, tiny_model_dir, tmp_path, "multi", "training.max_steps=2"), "--seeds", "1,2"))
    assert code == 0, err
    runs = [json.loads((tmp_path / "multi" / f"seed-{s}" / "metrics.json").read_text())["test"]["macro_f1"] for s in (1, 2)]
    summary = json.loads((tmp_path / "multi" / "seeds.json").read_text())
    assert summary["test"]["macro_f1"]["mean"] == pytest.approx(np.mean(runs))
    assert summary["test"]["macro_f1"]["sd"] == pytest.approx(np.std(runs, ddof=1))
    assert "macro_f1" in out and "±" in out
    code, table, err = finish(eventclf("compare", str(tmp_path / "multi"), str(tmp_path / "multi" / "seed-1")))
    assert code == 0, err
    assert f"{summary['test']['macro_f1']['mean']:.3f} ± {summary['test']['macro_f1']['sd']:.3f}" in table
    assert "run.seed: " in table and "1,2" in table
