"""What every benchmark script shares: naming the device, appending a section to RESULTS.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)}, {os.cpu_count()} CPU cores"
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    return f"CPU only: {cpu}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}"


def append_results(results: str, lines: list[str]) -> str:
    text = "\n".join(lines) + "\n"
    with open(results, "a", encoding="utf-8") as handle:
        handle.write(text)
    return text
