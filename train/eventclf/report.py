"""The evaluation report: numbers with bootstrap intervals, baselines beside the model, plots, errors.

One `Report` is computed from scores and gold labels, then rendered twice from the same data:
`report.md` (images as files next to it) and a self-contained `report.html` (images inlined).
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve  # noqa: E402

from .atomic import replacing_folder  # noqa: E402
from .corpus import LABELS  # noqa: E402
from .markdown import markdown_table  # noqa: E402
from .metrics import article_level, bootstrap_intervals, compute_metrics, with_interval  # noqa: E402

EXAMPLES_PER_TABLE = 5
SUMMARY_METRICS = ("micro_f1", "macro_f1", "samples_f1")


@dataclass
class Section:
    title: str
    text: str = ""
    tables: list[tuple[list[str], list[list[str]]]] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def per_label_plot(metrics: dict, intervals: dict) -> bytes:
    figure, axis = plt.subplots(figsize=(8, 3.6))
    width = 0.26
    for offset, kind in enumerate(("precision", "recall", "f1")):
        values = np.array([metrics[f"{label}_{kind}"] for label in LABELS])
        low = values - np.array([intervals[f"{label}_{kind}"][0] for label in LABELS])
        high = np.array([intervals[f"{label}_{kind}"][1] for label in LABELS]) - values
        axis.bar(np.arange(len(LABELS)) + (offset - 1) * width, values, width, yerr=[np.maximum(low, 0), np.maximum(high, 0)], capsize=3, label=kind.replace("f1", "F1"))
    axis.set_xticks(range(len(LABELS)), LABELS)
    axis.set_ylim(0, 1.05)
    axis.set_ylabel("score (95% bootstrap interval)")
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, 1.14), ncols=3, frameon=False)
    axis.grid(axis="y", alpha=0.3)
    return _png(figure)


def pr_curves_plot(scores: np.ndarray, gold: np.ndarray, thresholds: dict[str, float]) -> bytes:
    figure, axes = plt.subplots(1, len(LABELS), figsize=(3.2 * len(LABELS), 3.2), sharey=True)
    for i, (axis, label) in enumerate(zip(axes, LABELS)):
        axis.set_title(label)
        axis.set_xlabel("recall")
        if gold[:, i].any():
            precision, recall, cuts = precision_recall_curve(gold[:, i], scores[:, i])
            axis.plot(recall, precision)
            chosen = (scores[:, i] >= thresholds[label]).astype(int)
            tp = int((chosen & gold[:, i]).sum())
            axis.plot(tp / gold[:, i].sum(), tp / max(chosen.sum(), 1), "o", color="crimson", label=f"threshold {thresholds[label]:.2f}")
            axis.legend(loc="lower left", fontsize=8)
        axis.set_xlim(0, 1.02)
        axis.set_ylim(0, 1.02)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("precision")
    return _png(figure)


def calibration_plot(scores: np.ndarray, gold: np.ndarray, bins: int = 10, min_count: int = 10) -> tuple[bytes, dict[str, float]]:
    """Reliability diagram (per label and pooled) and each label's expected calibration error.

    Bins holding fewer than `min_count` sentences are left out of the picture (their fraction is
    noise) but still count, by their weight, in the calibration error.
    """
    figure, axis = plt.subplots(figsize=(5, 4.4))
    axis.plot([0, 1], [0, 1], "--", color="grey", label="perfectly calibrated")
    errors = {}

    def curve(score: np.ndarray, truth: np.ndarray) -> tuple[list, list, float]:
        which = np.minimum((score * bins).astype(int), bins - 1)
        xs, ys, error = [], [], 0.0
        for b in np.unique(which):
            members = which == b
            error += abs(score[members].mean() - truth[members].mean()) * members.mean()
            if members.sum() >= min_count:
                xs.append(score[members].mean())
                ys.append(truth[members].mean())
        return xs, ys, float(error)

    for i, label in enumerate(LABELS):
        xs, ys, errors[label] = curve(scores[:, i], gold[:, i])
        axis.plot(xs, ys, "o-", markersize=3, linewidth=1, alpha=0.8, label=label)
    xs, ys, _ = curve(scores.ravel(), gold.ravel())
    axis.plot(xs, ys, "s-", color="black", linewidth=2, markersize=4, label="all labels")
    axis.set_xlabel("mean predicted score")
    axis.set_ylabel("fraction positive")
    axis.set_title(f"{bins} equal-width bins; bins with < {min_count} sentences hidden", fontsize=9)
    axis.legend(fontsize=8, loc="upper left")
    axis.grid(alpha=0.3)
    return _png(figure), errors


def cooccurrence_plot(preds: np.ndarray, gold: np.ndarray) -> bytes:
    figure, axes = plt.subplots(1, 2, figsize=(9, 4))
    for axis, (name, rows) in zip(axes, (("gold", gold), ("predicted", preds))):
        counts = rows.T @ rows
        axis.imshow(counts, cmap="Blues")
        for (r, c), value in np.ndenumerate(counts):
            axis.text(c, r, str(value), ha="center", va="center", fontsize=8, color="black" if value < counts.max() * 0.6 else "white")
        axis.set_xticks(range(len(LABELS)), LABELS, rotation=45, ha="right")
        axis.set_yticks(range(len(LABELS)), LABELS)
        axis.set_title(f"{name} labels: sentences with both")
    return _png(figure)


def error_tables(texts: list[str], scores: np.ndarray, preds: np.ndarray, gold: np.ndarray) -> list[tuple[list[str], list[list[str]]]]:
    """Per label: the false positives the model was surest of, and the false negatives it scored lowest."""
    rows = []
    for i, label in enumerate(LABELS):
        false_pos = np.flatnonzero((preds[:, i] == 1) & (gold[:, i] == 0))
        false_neg = np.flatnonzero((preds[:, i] == 0) & (gold[:, i] == 1))
        for kind, chosen in (("false positive", false_pos[np.argsort(-scores[false_pos, i])]), ("false negative", false_neg[np.argsort(scores[false_neg, i])])):
            rows += [[label, kind, f"{scores[j, i]:.3f}", texts[j]] for j in chosen[:EXAMPLES_PER_TABLE]]
    return [(["label", "error", "score", "sentence"], rows)]


def build_report(
    texts: list[str],
    article_ids: list[str] | None,
    scores: np.ndarray,
    gold: np.ndarray,
    thresholds: dict[str, float],
    baseline_preds: dict[str, np.ndarray],
    title: str,
) -> tuple[list[Section], dict]:
    """All sections of the report and the numbers behind them."""
    preds = (scores >= np.array([thresholds[label] for label in LABELS])).astype(np.int64)
    metrics = compute_metrics(preds, gold)
    intervals = bootstrap_intervals(preds, gold, groups=article_ids)
    numbers: dict = {"sentences": len(texts), "model": metrics, "intervals": intervals, "thresholds": thresholds}

    baselines = {name: compute_metrics(p, gold) for name, p in baseline_preds.items()}
    numbers["baselines"] = baselines
    summary_rows = [["model", *(with_interval(metrics[m], intervals[m]) for m in SUMMARY_METRICS)]]
    summary_rows += [[name, *(f"{m[k]:.3f}" for k in SUMMARY_METRICS)] for name, m in baselines.items()]
    label_rows = [
        [label, str(metrics[f"{label}_support"]), f"{thresholds[label]:.3f}", *(with_interval(metrics[f"{label}_{k}"], intervals[f"{label}_{k}"]) for k in ("precision", "recall", "f1")),
         *(f"{m[f'{label}_f1']:.3f}" for m in baselines.values())]
        for label in LABELS
    ]
    baseline_names = [f"{name} F1" for name in baselines]
    sections = [
        Section(
            "Summary",
            f"{len(texts)} sentences" + (f" in {len(set(article_ids))} articles" if article_ids else "") + ". "
            "Intervals are 95% bootstrap percentiles over 1,000 resamples" + (" of whole articles." if article_ids else " of sentences.")
            + " Baselines are fitted on the model's own train split (TF-IDF thresholds tuned on its validation split).",
            tables=[(["system", "micro-F1", "macro-F1", "example-based F1"], summary_rows)],
        ),
        Section("Per label", "At the thresholds saved with the model (tuned on validation).",
                tables=[(["label", "support", "threshold", "precision", "recall", "F1", *baseline_names], label_rows)],
                images=[("per_label.png", per_label_plot(metrics, intervals))]),
    ]
    if article_ids:
        article_preds, article_gold, articles = article_level(preds, gold, article_ids)
        article_metrics = compute_metrics(article_preds, article_gold)
        numbers["articles"] = article_metrics
        rows = [[label, str(article_metrics[f"{label}_support"]), *(f"{article_metrics[f'{label}_{k}']:.3f}" for k in ("precision", "recall", "f1"))] for label in LABELS]
        rows.append(["micro / macro", str(len(articles)), "", "", f"{article_metrics['micro_f1']:.3f} / {article_metrics['macro_f1']:.3f}"])
        sections.append(Section("Article level", "An article carries a label when any of its sentences does, in gold and in predictions.",
                                tables=[(["label", "articles with it", "precision", "recall", "F1"], rows)]))
    calibration_png, calibration_errors = calibration_plot(scores, gold)
    numbers["calibration_error"] = calibration_errors
    sections += [
        Section("Precision-recall curves", "The red dot is the saved threshold.", images=[("pr_curves.png", pr_curves_plot(scores, gold, thresholds))]),
        Section("Calibration", "Expected calibration error (10 bins): " + ", ".join(f"{label} {e:.3f}" for label, e in calibration_errors.items()) + ".",
                images=[("calibration.png", calibration_png)]),
        Section("Label co-occurrence", "Diagonal: sentences with the label; off-diagonal: sentences with both.", images=[("cooccurrence.png", cooccurrence_plot(preds, gold))]),
        Section("Errors", f"Per label, the {EXAMPLES_PER_TABLE} highest-scoring false positives and the {EXAMPLES_PER_TABLE} lowest-scoring false negatives.",
                tables=error_tables(texts, scores, preds, gold)),
    ]
    return sections, numbers


def _markdown_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def render_markdown(title: str, sections: list[Section]) -> str:
    out = [f"# {title}\n"]
    for section in sections:
        out.append(f"## {section.title}\n")
        if section.text:
            out.append(section.text + "\n")
        for header, rows in section.tables:
            out += [markdown_table(header, [[_markdown_cell(c) for c in row] for row in rows]), ""]
        out += [f"![{section.title}](plots/{name})\n" for name, _ in section.images]
    return "\n".join(out)


def render_html(title: str, sections: list[Section]) -> str:
    """One file with the images inlined, to mail or attach as it is."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        body.append(f"<h2>{html.escape(section.title)}</h2>")
        if section.text:
            body.append(f"<p>{html.escape(section.text)}</p>")
        for header, rows in section.tables:
            body.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
            body += ["<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows]
            body.append("</table>")
        body += [f'<img alt="{html.escape(name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">' for name, png in section.images]
    style = ("body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}"
             "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}"
             "th{background:#f3f3f3}img{max-width:100%;display:block;margin:1rem 0}")
    return f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{style}</style></head>\n<body>\n' + "\n".join(body) + "\n</body></html>\n"


def write_report(folder: Path, title: str, sections: list[Section], numbers: dict) -> Path:
    """report.md with plots/*.png, report.html (self-contained) and report.json, written all or nothing."""
    with replacing_folder(folder) as partial:
        (partial / "plots").mkdir()
        for section in sections:
            for name, png in section.images:
                (partial / "plots" / name).write_bytes(png)
        (partial / "report.md").write_text(render_markdown(title, sections), encoding="utf-8")
        (partial / "report.html").write_text(render_html(title, sections), encoding="utf-8")
        (partial / "report.json").write_text(json.dumps(numbers, indent=2) + "\n", encoding="utf-8")
    return folder
