"""Labelling throughput: the naive transformers pipeline against each eventclf backend, in one run.

Every backend labels the same sentences (drawn from the corpus, shuffled, repeated to the size asked)
in its own subprocess, so each peak RSS is its own. Results are appended to benchmarks/RESULTS.md.

    python benchmarks/label_throughput.py --model models/default --sentences 20000
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import resource
import subprocess
import sys
import time

from common import append_results, benchmark_parser, corpus_sentences, device, offline

BACKENDS = ("pipeline", "torch", "onnx", "onnx-int8")


def sentences(count: int, seed: int = 0) -> list[str]:
    pool = corpus_sentences()
    random.Random(seed).shuffle(pool)
    return [pool[i % len(pool)] for i in range(count)]


def run_one(backend: str, model: str, count: int) -> dict:
    texts = sentences(count)
    if backend == "pipeline":
        from transformers import pipeline

        classify = pipeline("text-classification", model=model, top_k=None, function_to_apply="sigmoid", device="cpu")
        started = time.perf_counter()
        classify(texts)
        seconds = time.perf_counter() - started
        tokenizer = classify.tokenizer
    else:
        from eventclf.inference import Labeler

        labeler = Labeler.from_pretrained(model, backend=backend)
        labeler.label_texts(texts[:64])  # warm-up: export cache, first-call allocations
        started = time.perf_counter()
        for _ in labeler.label_stream(({"id": i, "text": t} for i, t in enumerate(texts)), unit="sentence"):
            pass
        seconds = time.perf_counter() - started
        tokenizer = labeler.classifier.tokenizer
    tokens = sum(len(ids) for ids in tokenizer(texts)["input_ids"])
    return {"backend": backend, "sentences": count, "tokens": tokens, "seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--model", default="models/default", help="model folder written by `eventclf train`")
    parser.add_argument("--sentences", type=int, default=20000, help="sentences labelled by every backend")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated subset of " + ", ".join(BACKENDS))
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    offline()
    if args.run_one:
        print(json.dumps(run_one(args.run_one, args.model, args.sentences)))
        return

    rows = []
    for backend in args.backends.split(","):
        print(f"{backend}: labelling {args.sentences} sentences ...", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--run-one", backend, "--model", args.model, "--sentences", str(args.sentences)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"  {rows[-1]['sentences'] / rows[-1]['seconds']:.0f} sentences/s", file=sys.stderr)
    baseline = next((r for r in rows if r["backend"] == "pipeline"), None)
    lines = [
        f"\n## Labelling throughput, {datetime.date.today().isoformat()}",
        f"Device: {device()}. Model: `{args.model}`. Command: `python benchmarks/label_throughput.py --model {args.model} --sentences {args.sentences} --backends {args.backends}`",
        "",
        "| backend | sentences/s | tokens/s | vs naive pipeline | peak RSS (MB) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        rate = r["sentences"] / r["seconds"]
        ratio = f"{rate / (baseline['sentences'] / baseline['seconds']):.2f}x" if baseline else "n/a"
        lines.append(f"| {r['backend']} | {rate:.0f} | {r['tokens'] / r['seconds']:.0f} | {ratio} | {r['peak_rss_mb']:.0f} |")
    print(append_results(args.results, lines))


if __name__ == "__main__":
    main()
