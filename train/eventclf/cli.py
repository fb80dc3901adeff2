"""The `eventclf` command: each subcommand parses its arguments, calls one function, prints the result.

User mistakes end with one line per problem on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import sys
from pathlib import Path

from .errors import UserError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def _add_config_args(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("config", nargs=None if required else "?", help="YAML run recipe, e.g. configs/default.yaml" + ("" if required else " (default: built-in defaults)"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override one config value; repeatable")


def _config(args):
    from .config import load_config

    return load_config(args.config, args.overrides)


def cmd_data_validate(args) -> int:
    from .corpus import validate_corpus

    records, problems = validate_corpus(args.paths)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problems in {len(records) + len(problems)} records; fix them before training", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"ok: {len(records)} sentences in {len({r['article_id'] for r in records})} articles")
    return 0


def _print_stats(stats: dict) -> None:
    from .corpus import LABELS

    columns = ["sentences", "articles", "none", *LABELS]
    print(f"{'split':<11}" + "".join(f"{c:>12}" for c in columns))
    for name, row in stats.items():
        print(f"{name:<11}" + "".join(f"{row[c]:>12}" for c in columns))


def cmd_data_build(args) -> int:
    from .dataset import build_dataset, dataset_stats

    dataset = build_dataset(_config(args).data)
    dataset.save_to_disk(args.output)
    _print_stats(dataset_stats(dataset))
    print(f"saved to {args.output} (load with datasets.load_from_disk)")
    return 0


def cmd_data_stats(args) -> int:
    from .dataset import build_dataset, dataset_stats

    _print_stats(dataset_stats(build_dataset(_config(args).data)))
    return 0


def cmd_data_audit(args) -> int:
    from .audit import audit_corpus
    from .corpus import LABELS

    report = audit_corpus(_config(args).data)
    print(f"{report.sentences} sentences, {report.articles} articles, {report.none} with no label, {report.multi_label} with two or more")
    for label in LABELS:
        phrases = "; ".join(f"{g} {share:.0%}" for g, share in report.triggers[label][:3])
        print(f"  {label:<12} {report.label_counts[label]:>6}   top triggers: {phrases}")
    for name, counts in report.by_field.items():
        print(f"  by {name}: {len(counts)} values; " + ", ".join(f"{k} {v}" for k, v in counts.most_common(6)))
    for failure in report.failures:
        print(failure, file=sys.stderr)
    if report.failures:
        print(f"audit failed: {len(report.failures)} problems", file=sys.stderr)
        return EXIT_USER_ERROR
    print("audit passed")
    return 0


def cmd_data_agreement(args) -> int:
    from .agreement import agreement_table, measure_agreement
    from .corpus import read_corpus

    print(agreement_table(measure_agreement(read_corpus(_config(args).data.corpus), args.annotations)))
    return 0


def cmd_data_card(args) -> int:
    from .agreement import measure_agreement
    from .atomic import replacing
    from .audit import audit_records, render_data_card
    from .corpus import validate_corpus

    config = _config(args)
    records, problems = validate_corpus(config.data.corpus)
    report = audit_records(records, problems, config.data)
    agreement = measure_agreement(records, [args.agreement]) if Path(args.agreement).is_dir() else []
    target = Path(args.output)
    with replacing(target) as partial:
        partial.write_text(render_data_card(report, config.data.corpus, agreement), encoding="utf-8")
    print(f"wrote {target} ({'audit passes' if not report.failures else f'{len(report.failures)} audit problems: run eventclf data audit'})")
    return 0


def cmd_config(args) -> int:
    import yaml

    from .config import describe_schema

    print(describe_schema() if args.schema else yaml.safe_dump(_config(args).model_dump(), sort_keys=False), end="\n")
    return 0


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _seed_list(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers, e.g. 1,2,3") from None
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError("give at least two different seeds, e.g. 1,2,3")
    return seeds


def cmd_train(args) -> int:
    from .compare import COLUMNS
    from .modeling import METRICS_FILENAME, SEEDS_FILENAME
    from .training import checkpoint_folder, train, train_seeds

    config = _config(args)
    if args.seeds:
        if args.resume:
            raise UserError("--resume and --seeds do not combine; resume each seed's run on its own")
        folder = train_seeds(config, args.seeds)
        summary = json.loads((folder / SEEDS_FILENAME).read_text())["test"]
        print(f"{len(args.seeds)} models written under {folder}; test metrics, mean ± sd over seeds {args.seeds}:")
        for name in COLUMNS:
            print(f"  {name:<16} {summary[name]['mean']:.3f} ± {summary[name]['sd']:.3f}")
        return 0
    try:
        folder = train(config, resume=args.resume)
    except KeyboardInterrupt:
        print(f"interrupted; checkpoints are in {checkpoint_folder(config)}: continue with `eventclf train {args.config} --resume`", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not (folder / METRICS_FILENAME).exists():  # a non-main process under torchrun: rank 0 reports
        return 0
    metrics = json.loads((folder / METRICS_FILENAME).read_text())["test"]
    print(f"model written to {folder}")
    print(f"test: micro-F1 {metrics['micro_f1']:.3f}  macro-F1 {metrics['macro_f1']:.3f}  example-F1 {metrics['samples_f1']:.3f}")
    return 0


def cmd_baseline(args) -> int:
    from .baselines import BASELINES_FOLDER, fit_baselines
    from .dataset import build_dataset

    config = _config(args)
    folder = Path(config.run.output_dir) / config.run.name / BASELINES_FOLDER
    metrics = fit_baselines(build_dataset(config.data), folder)
    for name, splits in metrics.items():
        for split in ("validation", "test"):
            m = splits[split]
            print(f"{name:<9} {split:<11} micro-F1 {m['micro_f1']:.3f}  macro-F1 {m['macro_f1']:.3f}  example-F1 {m['samples_f1']:.3f}")
    print(f"saved to {folder}")
    if args.json:
        print(json.dumps(metrics, indent=2))
    return 0


def cmd_export(args) -> int:
    from .evaluation import backend_agreement
    from .export import onnx_file
    from .modeling import EventClassifier

    EventClassifier.from_pretrained(args.model, device="cpu", backend=args.backend)
    print(f"exported to {onnx_file(Path(args.model), quantized=args.backend == 'onnx-int8')}")
    if args.check:
        result = backend_agreement(args.model, args.check, args.backend)
        print(f"{result['backend']} vs torch on {result['sentences']} sentences: label agreement {result['label_agreement']:.2%}, "
              f"all five labels equal {result['sentence_agreement']:.2%}, largest score difference {result['max_score_difference']:.4f}")
    return 0


def cmd_evaluate(args) -> int:
    from .corpus import read_corpus
    from .evaluation import evaluate_model, model_split

    records = model_split(args.model, args.split) if args.split else read_corpus(args.data)
    result = evaluate_model(args.model, records, report_dir=args.report)
    m = result["metrics"]
    print(result["report"])
    print(f"{result['sentences']} sentences: micro-F1 {m['micro_f1']:.3f}  macro-F1 {m['macro_f1']:.3f}  example-F1 {m['samples_f1']:.3f}")
    if args.report:
        print(f"report written to {args.report}/report.md and report.html")
    if args.json:
        print(json.dumps(m, indent=2))
    return 0


def cmd_compare(args) -> int:
    from .compare import compare_runs

    print(compare_runs(args.runs, split=args.split))
    return 0


def cmd_label(args) -> int:
    from .inference import Fields, LabelOptions, label_files

    options = LabelOptions(
        unit=args.unit, device=args.device, backend=args.backend, fields=Fields(id=args.id_field, text=args.text_field, title=args.title_field),
        max_chars=args.max_chars, batch_tokens=args.batch_tokens, summary_csv=args.summary, errors_file=args.errors,
    )
    if args.engine == "ray":
        if args.resume:
            raise UserError("--resume works with the local engine only; rerun the Ray job, or use --engine local")
        from .inference.ray_engine import label_files_ray

        summary = label_files_ray(args.inputs, args.model, args.output, options, workers=args.workers)
    else:
        summary = label_files(args.inputs, args.model, args.output, options, resume=args.resume, records_per_part=args.part_records, workers=args.workers, progress=not args.quiet)
    speed = f"{summary.sentences / max(summary.seconds, 1e-9):.0f} sentences/s"
    if summary.resumed_parts:
        speed = f"resumed: {summary.resumed_parts} parts were already done"
    print(f"labelled {summary.records} records ({summary.sentences} sentences, {summary.windowed_sentences} windowed) in {summary.seconds:.1f}s, {speed} -> {args.output}", file=sys.stderr)
    if summary.skipped:
        print(f"skipped {summary.skipped} records that could not be labelled; each is in {summary.errors_file} with its line and reason", file=sys.stderr)
    if summary.duplicate_ids:
        shown = ", ".join(summary.duplicate_ids[:5]) + (", ..." if len(summary.duplicate_ids) > 5 else "")
        print(f"{len(summary.duplicate_ids)} records repeat an earlier id ({shown}); all were labelled", file=sys.stderr)
    return 0


def cmd_show(args) -> int:
    from .inference import render_result

    for number, line in enumerate(open(args.file, encoding="utf-8"), start=1):
        try:
            print(render_result(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError):
            raise UserError(f"{args.file}:{number}: not a line written by `eventclf label`; pass its --output file") from None
    return 0


def _command(group, name: str, func, help: str, config: str | None = None) -> argparse.ArgumentParser:
    """One subcommand: its parser, the function it calls, and the config arguments if it takes a recipe."""
    parser = group.add_parser(name, help=help, description=help)
    if config is not None:
        _add_config_args(parser, required=config == "required")
    parser.set_defaults(func=func)
    return parser


def _add_model_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model folder written by `eventclf train`")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eventclf", description="Fine-tune and run a multi-label event classifier for conflict news.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="check, describe and build the annotated corpus").add_subparsers(dest="data_command", required=True, metavar="STEP")
    p = _command(data, "validate", cmd_data_validate, "check corpus JSONL files; list every problem with file and line")
    p.add_argument("paths", nargs="*", default=["data/corpus"], help="JSONL files or folders (default: data/corpus)")
    _command(data, "audit", cmd_data_audit, "check duplicates, conflicting labels, split leakage, trigger dominance; print statistics", config="optional")
    p = _command(data, "card", cmd_data_card, "regenerate the data card from the corpus", config="optional")
    p.add_argument("--output", default="data/DATA_CARD.md", help="where to write it (default: data/DATA_CARD.md)")
    p.add_argument("--agreement", default="data/agreement", help="folder of second annotations whose agreement the card reports, when it exists (default: data/agreement)")
    p = _command(data, "agreement", cmd_data_agreement, "Cohen's kappa and F1 per label between the corpus and second annotations, and between annotators", config="optional")
    p.add_argument("--annotations", nargs="+", default=["data/agreement"], metavar="PATH", help='JSONL files or folders of {"id", "labels"} lines (default: data/agreement)')
    _command(data, "stats", cmd_data_stats, "print sizes and per-label counts per split", config="optional")
    p = _command(data, "build", cmd_data_build, "build the train/validation/test DatasetDict and save it", config="optional")
    p.add_argument("--output", default="data/dataset", help="folder for DatasetDict.save_to_disk (default: data/dataset)")

    p = _command(commands, "config", cmd_config, "print a resolved config, or the schema with every key's meaning", config="optional")
    p.add_argument("--schema", action="store_true", help="print every key with its default and description")
    p = _command(commands, "train", cmd_train, "fine-tune a model from a YAML recipe; writes models/<run.name>/ (works under torchrun and accelerate launch)", config="required")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint in <output_dir>/<name>.checkpoints/")
    p.add_argument("--seeds", type=_seed_list, metavar="S1,S2,...", help="train one model per seed into <output_dir>/<name>/seed-<S>/ and report mean ± sd of every metric")
    p = _command(commands, "baseline", cmd_baseline, "fit keyword rules and TF-IDF + logistic regression on the config's splits; saves them to <output_dir>/<name>/baselines/", config="required")
    p.add_argument("--json", action="store_true", help="also print every metric as JSON")

    p = _command(commands, "evaluate", cmd_evaluate, "score a model folder on labelled sentences; --report writes the full report")
    _add_model_arg(p)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", nargs="+", help="labelled JSONL files or folders (corpus format)")
    source.add_argument("--split", choices=["validation", "test"], help="the model's own split, rebuilt from the corpus and seed in its eventclf.yaml")
    p.add_argument("--report", type=Path, metavar="OUT", help="write OUT/report.md, a self-contained OUT/report.html, OUT/report.json and OUT/plots/")
    p.add_argument("--json", action="store_true", help="also print every metric as JSON")

    p = _command(commands, "compare", cmd_compare, "one table of several runs' metrics (mean ± sd for --seeds groups) and the config keys where they differ")
    p.add_argument("runs", nargs="+", help="model folders, or folders written by `eventclf train --seeds`")
    p.add_argument("--split", choices=["validation", "test"], default="test", help="which split's metrics (default: test)")

    p = _command(commands, "label", cmd_label, "label articles (or single units) in dumps: JSONL, CSV/TSV, Parquet, .txt; resumable")
    p.add_argument("inputs", nargs="+", help="files or folders: .jsonl/.ndjson, .csv, .tsv (each plain, .gz or .zst), .parquet, .txt")
    _add_model_arg(p)
    p.add_argument("--output", required=True, help="output file: .jsonl (one line per input record, in input order) or .parquet")
    p.add_argument("--unit", choices=["article", "sentence"], default="article", help="article: split into sentences and aggregate (default); sentence: each record's text is one unit")
    p.add_argument("--text-field", default="text", help="field or column holding the text (default: text)")
    p.add_argument("--id-field", default="id", help="field or column holding the record id (default: id)")
    p.add_argument("--title-field", default="title", help="field or column holding an optional title, labelled with the article (default: title)")
    p.add_argument("--summary", type=Path, metavar="CSV", help="also write one CSV row per record: id, labels, a score per label")
    p.add_argument("--errors", type=Path, metavar="FILE", help="where unlabellable records go, with line and reason (default: OUTPUT.errors.jsonl)")
    p.add_argument("--max-chars", type=_positive_int, default=1_000_000, help="records with longer text go to the errors file (default: 1,000,000)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from the complete parts in OUTPUT.parts/ (local engine)")
    p.add_argument("--engine", choices=["local", "ray"], default="local", help="local (default): this machine; ray: Ray Data actors on the cluster in RAY_ADDRESS, or a local Ray instance")
    p.add_argument("--workers", type=_positive_int, help="labelling processes (local engine) or actors (ray); default: one per GPU, else one")
    p.add_argument("--part-records", type=_positive_int, default=10_000, help="input records per resumable part (default: 10,000)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="where the model runs (default: auto)")
    p.add_argument("--backend", choices=["torch", "onnx", "onnx-int8"], default="torch", help="torch (default), or ONNX Runtime in fp32 or with int8 weights: faster on CPU; exported once into the model folder")
    p.add_argument("--batch-tokens", type=_positive_int, help="tokens per model batch, padding included (default: 65,536 on CUDA; on CPU 1,024 for torch, 256 for ONNX)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = _command(commands, "export", cmd_export, "export a model folder to ONNX (and int8) and check label agreement with torch")
    _add_model_arg(p)
    p.add_argument("--backend", choices=["onnx", "onnx-int8"], default="onnx-int8", help="what to export (default: onnx-int8)")
    p.add_argument("--check", nargs="+", metavar="FILE", help="labelled JSONL: report how often its labels equal the torch backend's")

    p = _command(commands, "show", cmd_show, "print a labelled JSONL file for reading: articles, labels, sentences")
    p.add_argument("file", help="output of `eventclf label`")
    return parser


def _environment_error(err: OSError) -> str | None:
    """Known environment failures become one readable line; anything else stays a bug."""
    known = {
        errno.ENOSPC: ("disk full", "free some space and run again"),
        errno.EACCES: ("permission denied", "fix the permissions or choose another path"),
        errno.EROFS: ("read-only file system", "choose another path"),
        errno.ENOENT: ("no such file or folder", "check the path"),
    }
    if err.errno in known:
        problem, fix = known[err.errno]
        return f"{err.filename or ''}: {problem}; {fix}"
    return None


def main(argv: list[str] | None = None) -> int:
    # Never reach the hub unless the user asks for it (HF_HUB_OFFLINE=0).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # The reader went away (`eventclf show out.jsonl | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted; no half-written output was kept (`eventclf label ... --resume` continues from complete parts)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:
        message = _environment_error(err)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
