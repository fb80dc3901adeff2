"""ONNX export and dynamic int8 quantisation, cached inside the model folder, run with ONNX Runtime.

On CPU, ONNX Runtime beats eager PyTorch, and int8 weights beat it again at a small cost in agreement;
`eventclf export --check` measures that agreement on labelled data.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from .atomic import replacing

ONNX_DIRNAME = "onnx"
BACKENDS = ("torch", "onnx", "onnx-int8")


def onnx_file(folder: Path, quantized: bool) -> Path:
    return folder / ONNX_DIRNAME / ("model.int8.onnx" if quantized else "model.onnx")


def _input_names(tokenizer) -> list[str]:
    return [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in tokenizer.model_input_names]


class _LogitsOnly(torch.nn.Module):
    """Positional inputs in, logits out: the signature the exporter wants."""

    def __init__(self, model, names: list[str]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *inputs):
        return self.model(**dict(zip(self.names, inputs))).logits


def export_onnx(model, tokenizer, folder: Path) -> Path:
    """Export once; later calls return the cached file. Written to a temporary name, then renamed."""
    target = onnx_file(folder, quantized=False)
    if target.exists():
        return target
    target.parent.mkdir(exist_ok=True)
    names = _input_names(tokenizer)
    sample = tokenizer(["a short sentence", "and a slightly longer second sentence"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in names} | {"logits": {0: "batch"}}
    # The tracer warns about branches that are constant for our inputs (the mask is always given).
    with replacing(target) as partial, torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _LogitsOnly(model.float().cpu().eval(), names),
            tuple(sample[name] for name in names),
            str(partial),
            input_names=names,
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    return target


def quantize_onnx(source: Path) -> Path:
    """Dynamic int8 weights (activations stay float): the fastest CPU path."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = onnx_file(source.parent.parent, quantized=True)
    if target.exists():
        return target
    with replacing(target) as partial:
        quantize_dynamic(str(source), str(partial), weight_type=QuantType.QInt8)
    return target


class OnnxRunner:
    """Scores tokenised batches with ONNX Runtime; same contract as the torch path.

    On CPU, one single-threaded run per core over independent batches beats one run spread over
    all cores (small matrices parallelise poorly: 1,327 against 1,004 sentences/s on 2 cores, see
    benchmarks/RESULTS.md). A session is safe to run from several threads at once.
    """

    def __init__(self, path: Path, input_names: list[str], parallel_runs: int | None = None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in onnxruntime.get_available_providers()]
        self.on_cpu = providers[0] == "CPUExecutionProvider"
        # torch's thread count is this process's share of the cores (dump workers divide them).
        self.parallel_runs = parallel_runs or (torch.get_num_threads() if self.on_cpu else 1)
        if self.on_cpu:
            options.intra_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(path), options, providers=providers)
        self.input_names = input_names
        self.pool = ThreadPoolExecutor(self.parallel_runs, thread_name_prefix="eventclf-onnx") if self.parallel_runs > 1 else None

    def __call__(self, batch: dict) -> np.ndarray:
        feed = {name: np.asarray(batch[name], dtype=np.int64) for name in self.input_names}
        (logits,) = self.session.run(["logits"], feed)
        return 1.0 / (1.0 + np.exp(-logits.astype(np.float32)))

    def score_batches(self, batches: list[dict]) -> list[np.ndarray]:
        """Scores per batch, in order; batches run concurrently when there are several cores."""
        return list(self.pool.map(self, batches)) if self.pool else [self(batch) for batch in batches]


def onnx_runner(model, tokenizer, folder: Path, quantized: bool) -> OnnxRunner:
    path = export_onnx(model, tokenizer, folder)
    if quantized:
        path = quantize_onnx(path)
    return OnnxRunner(path, _input_names(tokenizer))
