"""Runs side by side: their saved metrics in one table and the config keys where they differ."""

from __future__ import annotations

import json
from pathlib import Path

from .config import CONFIG_FILENAME, flat_config, load_config
from .corpus import LABELS
from .errors import UserError, located
from .modeling import METRICS_FILENAME, SEEDS_FILENAME

COLUMNS = ("micro_f1", "macro_f1", "samples_f1", *(f"{label}_f1" for label in LABELS))
# Keys that name or place a run: never a difference worth listing.
IGNORED_KEYS = {"run.name", "run.output_dir"}


def _flat_config(folder: Path) -> dict[str, object]:
    return flat_config(load_config(folder / CONFIG_FILENAME))


def load_run(folder: Path, split: str) -> tuple[dict[str, str], dict[str, object]]:
    """One row of cells and the flat config of a model folder or of a --seeds group."""
    if (folder / SEEDS_FILENAME).is_file():
        summary = json.loads((folder / SEEDS_FILENAME).read_text())
        cells = {name: f"{summary[split][name]['mean']:.3f} ± {summary[split][name]['sd']:.3f}" for name in COLUMNS}
        config = _flat_config(folder / f"seed-{summary['seeds'][0]}")
        config["run.seed"] = ",".join(str(s) for s in summary["seeds"])
        return cells, config
    if (folder / METRICS_FILENAME).is_file():
        metrics = json.loads((folder / METRICS_FILENAME).read_text())[split]
        return {name: f"{metrics[name]:.3f}" for name in COLUMNS}, _flat_config(folder)
    raise UserError(located(folder, None, "neither a model folder nor a --seeds group (no metrics.json or seeds.json)", "pass folders written by `eventclf train`"))


def compare_runs(folders: list[str | Path], split: str = "test") -> str:
    runs = {str(folder): load_run(Path(folder), split) for folder in folders}
    width = max(len(name) for name in runs) + 2
    lines = [f"{split} metrics", f"{'run':<{width}}" + "".join(f"{c:>16}" for c in COLUMNS)]
    lines += [f"{name:<{width}}" + "".join(f"{cells[c]:>16}" for c in COLUMNS) for name, (cells, _) in runs.items()]
    configs = [config for _, config in runs.values()]
    keys = sorted({key for config in configs for key in config} - IGNORED_KEYS)
    differing = [key for key in keys if len({json.dumps(config.get(key), sort_keys=True) for config in configs}) > 1]
    lines.append("")
    if not differing:
        lines.append("configs: identical (apart from run names)")
    else:
        lines.append("config keys that differ:")
        for key in differing:
            lines.append(f"  {key}: " + "  |  ".join(f"{name}: {config.get(key)}" for name, (_, config) in runs.items()))
    return "\n".join(lines)
