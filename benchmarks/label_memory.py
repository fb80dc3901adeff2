"""Peak memory of `eventclf label` as the dump grows: it must stay flat, not grow with the input.

Generates dumps of N and 10·N articles (sentences drawn from the corpus), labels each with the real
command in a fresh process, and records the process's peak RSS. Flat RSS across a 10x larger dump is
the evidence that a dump of any size (1,000,000 articles) fits in the same memory.

    python benchmarks/label_memory.py --model models/default --articles 2000 --backend onnx-int8
"""

from __future__ import annotations

import datetime
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import append_results, benchmark_parser, corpus_sentences, device


def write_dump(path: Path, articles: int, seed: int = 0) -> int:
    pool = corpus_sentences()
    rng = random.Random(seed)
    sentences = 0
    with path.open("w", encoding="utf-8") as handle:
        for n in range(articles):
            count = rng.randint(3, 12)
            sentences += count
            handle.write(json.dumps({"id": n, "title": rng.choice(pool), "text": " ".join(rng.choice(pool) for _ in range(count))}) + "\n")
    return sentences


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--model", default="models/default", help="model folder written by `eventclf train`")
    parser.add_argument("--articles", type=int, default=2000, help="articles in the small dump; the large one has 10x")
    parser.add_argument("--backend", default="onnx-int8", help="backend passed to eventclf label")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for articles in (args.articles, 10 * args.articles):
            dump = Path(scratch) / f"dump-{articles}.jsonl"
            sentences = write_dump(dump, articles)
            command = [sys.executable, "-c", "import resource, sys; from eventclf.cli import main; code = main(sys.argv[1:]); "
                       "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)",
                       "label", "--model", args.model, str(dump), "--output", str(Path(scratch) / "out.jsonl"), "--backend", args.backend, "--quiet"]
            print(f"{articles} articles ({sentences} sentences) ...", file=sys.stderr, flush=True)
            started = time.perf_counter()
            out = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
            if out.returncode:
                sys.exit(out.stderr[-3000:])
            rss_mb = int(out.stderr.strip().splitlines()[-1]) / 1024
            rows.append((articles, sentences, time.perf_counter() - started, rss_mb))
    lines = [
        f"\n## Labelling memory as the dump grows, {datetime.date.today().isoformat()}",
        f"Device: {device()}. Model: `{args.model}`, backend {args.backend}. Command: `python benchmarks/label_memory.py --model {args.model} --articles {args.articles} --backend {args.backend}`",
        "",
        "| articles | sentences | seconds | peak RSS (MB) |",
        "|---|---|---|---|",
        *(f"| {a:,} | {s:,} | {t:.0f} | {r:.0f} |" for a, s, t, r in rows),
        "",
        f"Peak RSS grows {rows[1][3] / rows[0][3]:.2f}x while the dump grows 10x.",
    ]
    print(append_results(args.results, lines))


if __name__ == "__main__":
    main()
