"""Sentence encoders: load a model offline-first and embed texts in batches.

``get_encoder(model_id)`` resolves a Hub id or a local folder with
:func:`fewtag.models.resolve_model`, loads it as a sentence-transformers model
(a plain transformers encoder folder gets mean pooling) and memoises it per
``(model_id, max_length)``. :meth:`Encoder.encode` returns L2-normalised
float32 rows, computes only what the cache does not hold, batches texts sorted
by length and restores the input order. torch is imported only here, lazily.

The *backend* runs the forward pass: ``torch`` (fp32, the reference),
``torch-bf16`` (bfloat16 autocast: about 1.8x on CPUs with AVX-512 bf16, cosine
> 0.9999 to fp32), ``onnx`` (ONNX Runtime fp32) or ``onnx-int8`` (ONNX Runtime,
int8 weights; see :mod:`fewtag.embed.onnx`). Vectors from each backend are
cached apart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.embed.cache import EmbeddingCache, text_hash
from fewtag.errors import InputError, MissingDependencyError, ModelFileError

__all__ = ["Encoder", "get_encoder", "load_sentence_transformer", "clear_encoders", "BACKENDS", "check_backend"]

#: what runs an encoder's forward pass
BACKENDS = ("torch", "torch-bf16", "onnx", "onnx-int8")
#: padded tokens per batch on CPU, at most (about 4 characters per token)
CPU_TOKEN_BUDGET = 1024
_encoders: dict[tuple[str, int, str], Encoder] = {}
_lock = threading.Lock()


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def check_backend(backend: str) -> str:
    """``backend`` if it is one of :data:`BACKENDS`, else an :class:`InputError`."""
    if backend not in BACKENDS:
        raise InputError(f"unknown encoder backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return backend


def load_sentence_transformer(path: str | Path, max_length: int = 256, device: str | None = None) -> Any:
    """A fresh ``SentenceTransformer`` from a local folder.

    A folder without ``modules.json`` (a plain transformers encoder) is
    wrapped with mean pooling.

    Raises
    ------
    MissingDependencyError
        sentence-transformers is not installed.
    ModelFileError
        The folder holds no loadable model.
    """
    try:
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MissingDependencyError(
            "sentence-transformers is needed for encoder methods: pip install 'fewtag[encoders]'"
        ) from exc
    hf_logging.disable_progress_bar()
    path = Path(path)
    device = device or _device()
    try:
        if (path / "modules.json").is_file():
            model = SentenceTransformer(str(path), device=device, local_files_only=True)
        else:
            body = Transformer(str(path), max_seq_length=max_length)
            pool = Pooling(
                body.get_embedding_dimension()
                if hasattr(body, "get_embedding_dimension")
                else body.get_word_embedding_dimension(),
                pooling_mode="mean",
            )
            model = SentenceTransformer(modules=[body, pool], device=device)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelFileError(f"cannot load a sentence encoder from {path}: {exc}") from exc
    model.max_seq_length = int(max_length)
    model.eval()
    return model


class Encoder:
    """A loaded sentence encoder with a cache.

    Parameters
    ----------
    model_id : str
        The id or folder the user gave (part of the cache key).
    path : Path
        The local folder it resolved to.
    model : SentenceTransformer
    max_length : int
        Tokens kept per text.
    revision : str or None
        Fingerprint of the weights; ``None`` turns the cache off (fine-tuned
        in-memory models).
    backend : str
        One of :data:`BACKENDS`; ``model`` is an :class:`OnnxSentenceModel`
        for the onnx ones.

    Attributes
    ----------
    dim : int
        Embedding size.
    calls : int
        Forward batches run so far (the cache's tests count them).
    """

    def __init__(
        self, model_id: str, path: Path, model: Any, max_length: int, revision: str | None, backend: str = "torch"
    ):
        self.model_id = model_id
        self.backend = check_backend(backend)
        # where the forward pass runs: an onnx model has no torch device and runs on the CPU
        self.device_type = getattr(getattr(model, "device", None), "type", "cpu")
        self.path = Path(path)
        self.model = model
        self.max_length = int(max_length)
        self.revision = revision
        self.calls = 0
        # local folders are keyed by their absolute path, so "./m" in two places differs
        cache_id = str(self.path.resolve()) if Path(model_id).expanduser().is_dir() else model_id
        if backend != "torch":
            cache_id += f"#{backend}"
        self._cache = EmbeddingCache(cache_id, revision, self.max_length) if revision else None

    @property
    def dim(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False) -> NDArray[np.float32]:
        """Embed ``texts``.

        Parameters
        ----------
        texts : sequence of str, length n
        batch_size : int
        show_progress : bool
            A rich progress bar over the batches that are computed.

        Returns
        -------
        ndarray of shape (n, dim), float32, rows of unit length
        """
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        hashes = [text_hash(t) for t in texts]
        found = self._cache.get(hashes) if self._cache is not None else {}
        todo: dict[str, str] = {}
        for h, t in zip(hashes, texts):
            if h not in found and h not in todo:
                todo[h] = t
        if todo:
            vectors = self._embed(list(todo.values()), batch_size, show_progress)
            new = dict(zip(todo.keys(), vectors))
            if self._cache is not None:
                self._cache.put(new)
            found = {**found, **new}
        for i, h in enumerate(hashes):
            out[i] = found[h]
        return out

    def _batches(self, sorted_chars: list[int], order: NDArray[np.int64], batch_size: int) -> list[NDArray[np.int64]]:
        """Split ``order`` (texts by decreasing length) into batches.

        On CPU a batch also holds at most about :data:`CPU_TOKEN_BUDGET` padded
        tokens (estimated from characters): the activations of a smaller batch
        stay in the caches, and 8 issues of 128 tokens ran 1.3-1.4x faster per
        text than 64 (torch and onnx-int8, MiniLM, 2 cores).
        """
        budget = CPU_TOKEN_BUDGET if self.device_type == "cpu" else None
        batches, start = [], 0
        while start < len(order):
            size = batch_size
            if budget is not None:  # the first text of a batch is its longest
                tokens = min(self.max_length, sorted_chars[start] // 4 + 2)
                size = max(1, min(batch_size, budget // max(tokens, 1)))
            batches.append(order[start : start + size])
            start += size
        return batches

    def _embed(self, texts: list[str], batch_size: int, show_progress: bool) -> NDArray[np.float32]:
        """Run the model on ``texts`` (no cache), sorted by length, input order restored."""
        import torch

        order = np.argsort([-len(t) for t in texts], kind="stable")
        batches: Iterable[NDArray[np.int64]] = self._batches([len(texts[i]) for i in order], order, batch_size)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if show_progress:
            from rich.progress import track

            batches = track(batches, description="Embedding")
        was_training = self.model.training
        self.model.eval()
        try:
            with (
                torch.inference_mode(),
                torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.backend == "torch-bf16"),
            ):
                for idx in batches:
                    self.calls += 1
                    emb = self.model.encode(
                        [texts[i] for i in idx],
                        batch_size=len(idx),
                        convert_to_numpy=True,
                        normalize_embeddings=True,
                        show_progress_bar=False,
                    )
                    out[idx] = emb
        finally:
            self.model.train(was_training)
        return out

    def __repr__(self) -> str:
        return (
            f"Encoder({self.model_id!r}, revision={self.revision!r}, max_length={self.max_length}, "
            f"backend={self.backend!r})"
        )


def get_encoder(
    model_id: str | Path, max_length: int = 256, *, method: str | None = None, backend: str = "torch"
) -> Encoder:
    """The encoder for ``model_id``, loaded once per ``(model_id, max_length, backend)``.

    The memo is checked against :func:`fewtag.models.model_revision` (a content
    hash of the weights), so a model folder re-saved with other weights is
    loaded again.

    Parameters
    ----------
    model_id : str or Path
        Hub id (resolved offline first) or local folder.
    max_length : int
        Tokens kept per text (longer texts are truncated).
    method : str, optional
        Named in the error when the model cannot be found.
    backend : str
        One of :data:`BACKENDS`. The onnx ones export the model once into
        ``$FEWTAG_CACHE_DIR/onnx`` (see :mod:`fewtag.embed.onnx`).

    Returns
    -------
    Encoder

    Raises
    ------
    ModelNotFoundError
        The model is not available offline (raised in well under a second).
    InputError
        ``backend`` is not one of :data:`BACKENDS`.

    Examples
    --------
    >>> enc = get_encoder("sentence-transformers/all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> enc.encode(["crash on start"]).shape  # doctest: +SKIP
    (1, 384)
    """
    from fewtag.models import model_revision, resolve_model

    key = (str(model_id), int(max_length), check_backend(backend))
    path = resolve_model(model_id, method=method)
    # a content hash (stat-only after the first call): a folder re-saved with other weights
    # is loaded again instead of answered from the memo
    revision = model_revision(path)
    with _lock:
        known = _encoders.get(key)
        if known is not None and known.revision == revision and known.path == path:
            return known
    model = load_sentence_transformer(path, max_length, device="cpu" if backend.startswith("onnx") else None)
    if backend.startswith("onnx"):
        from fewtag.embed.onnx import onnx_sentence_model

        model = onnx_sentence_model(model, revision, quantize=backend == "onnx-int8")
    enc = Encoder(str(model_id), path, model, max_length, revision, backend)
    with _lock:
        known = _encoders.get(key)
        if known is not None and known.revision == revision and known.path == path:
            return known
        _encoders[key] = enc
        return enc


def clear_encoders() -> None:
    """Forget the memoised encoders (tests, or to free memory)."""
    with _lock:
        _encoders.clear()
