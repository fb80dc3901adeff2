"""What every benchmark script shares: arguments, offline mode, naming the device, appending results."""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path


def device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)}, {os.cpu_count()} CPU cores"
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return f"CPU only: {cpu}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}"


def benchmark_parser(doc: str) -> argparse.ArgumentParser:
    """A parser with the script's docstring as help and the shared --results option."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default="benchmarks/RESULTS.md", help="markdown file the table is appended to")
    return parser


def offline() -> None:
    """Benchmarks never reach the hub and keep transformers' logging quiet."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def corpus_sentences() -> list[str]:
    """The shipped corpus's sentences: realistic text for generated workloads."""
    from eventclf.corpus import read_corpus

    return [r["text"] for r in read_corpus(["data/corpus"])]


def append_results(results: str, lines: list[str]) -> str:
    text = "\n".join(lines) + "\n"
    with open(results, "a", encoding="utf-8") as handle:
        handle.write(text)
    return text
