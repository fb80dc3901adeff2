"""Training-step throughput of a config on this device, with the speed features on and off, in one run.

Each variant runs in its own process: the Trainer with the config's settings for `--steps` optimiser
steps; the first `--warmup` steps (allocations, torch.compile) are not timed. Reports samples/s,
tokens/s (real and padded) and, on a GPU, model FLOP utilisation. Results are appended to RESULTS.md.

    python benchmarks/train_throughput.py configs/default.yaml --steps 40
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from common import append_results, benchmark_parser, device, offline

# What "speed features off" means per device; "on" is the config as written.
OFF = {
    "cpu": ["training.group_by_length=false"],
    "cuda": ["training.group_by_length=false", "training.precision=fp32", "training.tf32=false", "training.torch_compile=false", "training.dataloader_workers=0"],
}
ON_GPU = ["training.precision=auto", "training.tf32=true", "training.torch_compile=true", "training.dataloader_workers=4"]
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12}


class StepTimer:
    """Wall time of each optimiser step, from the Trainer's callbacks."""

    def __init__(self):
        from transformers import TrainerCallback

        timer = self

        class Callback(TrainerCallback):
            def on_step_begin(self, args, state, control, **kwargs):
                timer.started = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                import torch

                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                timer.seconds.append(time.perf_counter() - timer.started)

        self.seconds: list[float] = []
        self.callback = Callback()


def run_one(config_path: str, overrides: list[str], steps: int, warmup: int) -> dict:
    import torch
    from transformers import set_seed

    from eventclf.config import load_config
    from eventclf.dataset import build_dataset
    from eventclf.training import build_trainer, encode_dataset, load_model_and_tokenizer

    config = load_config(config_path, [*overrides, f"training.max_steps={steps}", "run.report_to=[]", "training.eval_steps=100000"])
    set_seed(config.run.seed)
    model, tokenizer = load_model_and_tokenizer(config)
    encoded = encode_dataset(build_dataset(config.data), tokenizer, config.model.max_length)
    with tempfile.TemporaryDirectory() as scratch:
        trainer = build_trainer(config, model, tokenizer, encoded, Path(scratch))
        batches = list(islice(trainer.get_train_dataloader(), steps))
        timer = StepTimer()
        trainer.add_callback(timer.callback)
        trainer.train()
    timed = slice(warmup, steps)
    seconds = sum(timer.seconds[timed])
    samples = sum(len(b["input_ids"]) for b in batches[timed])
    real = sum(int(b["attention_mask"].sum()) for b in batches[timed])
    padded = sum(b["input_ids"].numel() for b in batches[timed])
    result = {"samples_per_s": samples / seconds, "tokens_per_s": real / seconds, "padded_tokens_per_s": padded / seconds, "mfu": None}
    if torch.cuda.is_available():
        peak = next((flops for name, flops in PEAK_BF16_FLOPS.items() if name in torch.cuda.get_device_name(0)), None)
        params = sum(p.numel() for n, p in model.named_parameters() if "embeddings" not in n)
        result["mfu"] = 6 * params * padded / seconds / peak if peak else None
    return result


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("config", nargs="?", default="configs/default.yaml", help="training recipe (default: configs/default.yaml)")
    parser.add_argument("--steps", type=int, default=40, help="optimiser steps per variant")
    parser.add_argument("--warmup", type=int, default=5, help="first steps not timed")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    offline()
    if args.run_one:
        print(json.dumps(run_one(args.config, json.loads(args.run_one), args.steps, args.warmup)))
        return

    import torch

    kind = "cuda" if torch.cuda.is_available() else "cpu"
    variants = {"speed features off": OFF[kind], "speed features on": ON_GPU if kind == "cuda" else []}
    rows = {}
    for name, overrides in variants.items():
        print(f"{name}: {args.steps} steps ...", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, args.config, "--steps", str(args.steps), "--warmup", str(args.warmup), "--run-one", json.dumps(overrides)], capture_output=True, text=True)
        if out.returncode:
            sys.exit(out.stderr[-3000:])
        rows[name] = json.loads(out.stdout.strip().splitlines()[-1])
    off = rows["speed features off"]["samples_per_s"]
    lines = [
        f"\n## Training throughput, {datetime.date.today().isoformat()}",
        f"Device: {device()}. Config: `{args.config}`. Command: `python benchmarks/train_throughput.py {args.config} --steps {args.steps} --warmup {args.warmup}`",
        f"Off: `{' '.join(variants['speed features off'])}`. On: the config as written" + (f" plus `{' '.join(ON_GPU)}`" if kind == "cuda" else "") + ".",
        "",
        "| variant | samples/s | tokens/s | padded tokens/s | vs off | MFU |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in rows.items():
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "n/a (CPU)"
        lines.append(f"| {name} | {r['samples_per_s']:.1f} | {r['tokens_per_s']:.0f} | {r['padded_tokens_per_s']:.0f} | {r['samples_per_s'] / off:.2f}x | {mfu} |")
    print(append_results(args.results, lines))


if __name__ == "__main__":
    main()
