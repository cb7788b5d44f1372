"""Sentence encoders run by ONNX Runtime, fp32 or dynamically quantised int8.

:func:`onnx_sentence_model` exports a loaded sentence-transformers model
(transformer, pooling and normalisation in one graph) with the TorchScript
exporter, quantises it when asked, and caches the files under
``$FEWTAG_CACHE_DIR/onnx/<revision>/`` (default ``~/.cache/fewtag``), so the
export runs once per model. ``revision`` is :func:`fewtag.models.model_revision`,
a content hash of the weights: a re-weighted model of the same size gets its own
export. :class:`OnnxSentenceModel` is the small part of
``SentenceTransformer``'s interface that :class:`fewtag.embed.Encoder` uses.

int8 uses per-channel dynamic quantisation of the weights (VNNI on modern
CPUs), except the feed-forward output projections (``layer.N/output/dense``, whose
inputs, after GELU, carry the activation outliers that one per-tensor dynamic scale
handles worst), which stay fp32. On MiniLM and 150 issues that recipe
(:data:`INT8_RECIPE` ``v2``) halved the gap to the fp32 vectors (mean cosine 0.9965,
min 0.989, against 0.9930 / 0.981 with every weight MatMul quantised).
``benchmarks/encoder_speed.py`` measures the speed and the F1 cost.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import MissingDependencyError, ModelFileError

__all__ = [
    "OnnxSentenceModel",
    "onnx_sentence_model",
    "cached_onnx_model",
    "onnx_cache_dir",
    "ONNX_POOLING",
    "INT8_RECIPE",
]

#: pooling modes the exported graph reproduces
ONNX_POOLING = ("mean", "cls", "max")
_SUPPORTED_MODULES = {"Transformer", "Pooling", "Normalize"}
#: the int8 quantisation recipe: names the int8 file and the int8 embedding cache key
INT8_RECIPE = "v2"
_export_lock = threading.Lock()


def onnx_cache_dir() -> Path:
    """``$FEWTAG_CACHE_DIR/onnx``, default ``~/.cache/fewtag/onnx``."""
    from fewtag.models import cache_dir

    return cache_dir() / "onnx"


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MissingDependencyError("the onnx encoder backends need ONNX Runtime: pip install 'fewtag[onnx]'") from exc
    return onnxruntime


def _pooling_mode(st_model: Any) -> str:
    """The pooling of a sentence-transformers model, checked to be exportable."""
    names = [type(module).__name__ for module in st_model]
    unsupported = [n for n in names if n not in _SUPPORTED_MODULES]
    if unsupported or "Pooling" not in names:
        raise ModelFileError(
            f"the onnx backends export Transformer + Pooling (+ Normalize) models; this one has "
            f"{', '.join(names)}: use --encoder-backend torch"
        )
    mode = st_model[names.index("Pooling")].get_config_dict().get("pooling_mode", "mean")
    if mode not in ONNX_POOLING:
        raise ModelFileError(
            f"pooling {mode!r} is not exported to ONNX (only {', '.join(ONNX_POOLING)}): use --encoder-backend torch"
        )
    return mode


def _embedder(auto_model: Any, mode: str, input_names: list[str]) -> Any:
    """A torch module: transformer, pooling and L2 normalisation (what is exported)."""
    import torch

    class Embedder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = auto_model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            feed = dict(zip(input_names, inputs))
            hidden = self.body(**feed).last_hidden_state
            mask = feed["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            if mode == "cls":
                pooled = hidden[:, 0]
            elif mode == "max":
                pooled = (hidden - (1.0 - mask) * 1e9).max(dim=1).values
            else:
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return Embedder()


def _export(st_model: Any, target: Path, input_names: list[str]) -> None:
    """Write the fp32 graph of ``st_model`` to ``target`` (atomically)."""
    import torch

    mode = _pooling_mode(st_model)
    module = _embedder(st_model[0].auto_model, mode, input_names).eval()
    sample = st_model.tokenizer(
        ["an example issue", "a second, longer example of an issue text"], padding=True, return_tensors="pt"
    )
    args = tuple(sample[name] for name in input_names)
    axes = {name: {0: "batch", 1: "tokens"} for name in input_names}
    axes["embedding"] = {0: "batch"}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=target.parent)
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes about shapes the dynamic axes cover
            torch.onnx.export(
                module,
                args,
                tmp,
                input_names=input_names,
                output_names=["embedding"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _fp32_matmuls(source: Path) -> list[str]:
    """The MatMuls kept fp32: the feed-forward output projections (``.../output/dense/MatMul``)."""
    import onnx

    graph = onnx.load(str(source), load_external_data=False).graph
    return [
        n.name for n in graph.node if n.op_type == "MatMul" and "/output/dense/" in n.name and "attention" not in n.name
    ]


def _quantize(source: Path, target: Path) -> None:
    """Per-channel dynamic int8 quantisation of ``source`` into ``target`` (atomically)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp = tempfile.mkstemp(suffix=".onnx", dir=target.parent)
    os.close(fd)
    try:
        # Only the weight MatMuls (MatMulConstBOnly): quantising the attention-score MatMuls too
        # was slower and no more accurate. 7-bit weights (reduce_range) avoid the u8 x s8 overflow
        # of CPUs without VNNI and gave MiniLM the best downstream F1 of the variants tried.
        # DefaultTensorType: shape inference leaves some MatMul outputs untyped; they are float.
        logging.disable(logging.WARNING)  # the quantiser's advice to pre-process goes to the root logger
        quantize_dynamic(
            str(source),
            tmp,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            nodes_to_exclude=_fp32_matmuls(source),
            extra_options={"DefaultTensorType": 1, "MatMulConstBOnly": True},
        )
        os.replace(tmp, target)
    finally:
        logging.disable(logging.NOTSET)
        Path(tmp).unlink(missing_ok=True)


def onnx_sentence_model(
    st_model: Any, revision: str, *, quantize: bool = False, threads: int | None = None
) -> OnnxSentenceModel:
    """An ONNX Runtime twin of a loaded sentence-transformers model.

    Parameters
    ----------
    st_model : SentenceTransformer
        Transformer + Pooling (mean, cls or max) + optional Normalize.
    revision : str
        Content hash of the weights (:func:`fewtag.models.model_revision`); names
        the cache folder.
    quantize : bool
        Dynamic int8 weights instead of fp32.
    threads : int, optional
        Intra-op threads (default: torch's thread count).

    Raises
    ------
    MissingDependencyError
        onnxruntime (or onnx, for the export) is not installed.
    ModelFileError
        The model has modules or a pooling the export does not reproduce.
    """
    _import_ort()  # a missing onnxruntime is one clear error before any export work
    tokenizer = st_model.tokenizer
    input_names = [n for n in tokenizer.model_input_names if n in ("input_ids", "attention_mask", "token_type_ids")]
    folder = onnx_cache_dir() / revision
    fp32, int8 = folder / "model.onnx", folder / f"model-int8-{INT8_RECIPE}.onnx"
    with _export_lock:
        try:
            if not fp32.is_file():
                _export(st_model, fp32, input_names)
            if quantize and not int8.is_file():
                _quantize(fp32, int8)
        except ImportError as exc:
            raise MissingDependencyError(
                f"exporting to ONNX needs the onnx package: pip install 'fewtag[onnx]' ({exc})"
            ) from exc
    path = int8 if quantize else fp32
    session = _session(path, threads)
    dim = int(session.get_outputs()[0].shape[-1] or st_model.get_embedding_dimension())
    return OnnxSentenceModel(session, tokenizer, input_names, int(st_model.max_seq_length), dim, path)


def _session(path: Path, threads: int | None) -> Any:
    """An ONNX Runtime session on ``path`` (``threads``: intra-op threads, default torch's count when
    torch is loaded, else ONNX Runtime's own default, the physical cores)."""
    ort = _import_ort()
    if threads is None and "torch" in sys.modules:
        threads = sys.modules["torch"].get_num_threads()
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads or 0)
    options.inter_op_num_threads = 1
    # idle workers sleep instead of spinning: a server's event loop and other processes
    # share the cores (spinning halved the throughput on 2 busy cores)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelFileError(f"cannot load {path}: {exc}; delete the file to export it again") from exc


def cached_onnx_model(
    folder: str | Path, revision: str, max_length: int, *, quantize: bool = False, threads: int | None = None
) -> OnnxSentenceModel | None:
    """The ONNX twin of the model in ``folder`` from the export cache, loaded without torch, or
    ``None`` when there is no export of this ``revision`` yet (or no ``tokenizer.json``).

    The export is keyed by the content hash of the weights, so it is the graph
    :func:`onnx_sentence_model` made from these very weights; only the tokenizer is read from
    ``folder`` (through ``tokenizers``, see :mod:`fewtag.embed.fast_tokenizer`). This is what makes
    a cold ``fewtag triage`` or ``predict`` with an onnx model skip the torch import.
    """
    from fewtag.embed.fast_tokenizer import load_fast_tokenizer

    cached = onnx_cache_dir() / revision
    path = cached / (f"model-int8-{INT8_RECIPE}.onnx" if quantize else "model.onnx")
    if not path.is_file():
        return None
    tokenizer = load_fast_tokenizer(folder)
    if tokenizer is None:
        return None
    session = _session(path, threads)
    names = [i.name for i in session.get_inputs()]
    dim = session.get_outputs()[0].shape[-1]
    if not isinstance(dim, int) or not set(names) <= {"input_ids", "attention_mask", "token_type_ids"}:
        return None
    tokenizer.model_input_names = names
    return OnnxSentenceModel(session, tokenizer, names, int(max_length), dim, path)


class OnnxSentenceModel:
    """What :class:`fewtag.embed.Encoder` needs of a sentence model, on ONNX Runtime.

    Parameters
    ----------
    session : onnxruntime.InferenceSession
    tokenizer : a transformers tokenizer
    input_names : list of str
        Tokenizer outputs the graph takes, in order.
    max_seq_length : int
        Tokens kept per text.
    dim : int
        Embedding size.
    path : Path
        The ``.onnx`` file (for messages).
    """

    training = False

    def __init__(self, session: Any, tokenizer: Any, input_names: list[str], max_seq_length: int, dim: int, path: Path):
        self.session = session
        self.tokenizer = tokenizer
        self.input_names = input_names
        self.max_seq_length = max_seq_length
        self.dim = dim
        self.path = path

    def get_embedding_dimension(self) -> int:
        return self.dim

    def eval(self) -> OnnxSentenceModel:
        return self

    def train(self, mode: bool = True) -> OnnxSentenceModel:
        return self

    def encode(self, texts: list[str], batch_size: int = 64, **_: Any) -> NDArray[np.float32]:
        """Unit-length embeddings of ``texts``, one forward pass per ``batch_size`` texts."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(
                texts[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=self.max_seq_length,
                return_tensors="np",
            )
            out[start : start + batch_size] = self.embed_ids(batch["input_ids"], batch["attention_mask"])
        return out

    def embed_ids(self, input_ids: NDArray[np.int64], attention_mask: NDArray[np.int64]) -> NDArray[np.float32]:
        """Unit-length embeddings of a padded batch of token ids, shape ``(batch, dim)``."""
        given = {"input_ids": input_ids, "attention_mask": attention_mask}
        feed = {
            name: np.asarray(given[name], dtype=np.int64) if name in given else np.zeros_like(input_ids, dtype=np.int64)
            for name in self.input_names
        }
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)
