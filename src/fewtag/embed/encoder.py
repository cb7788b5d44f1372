"""Sentence encoders: load a model offline-first and embed texts in batches.

``get_encoder(model_id)`` resolves a Hub id or a local folder with
:func:`fewtag.models.resolve_model`, loads it as a sentence-transformers model
(a plain transformers encoder folder gets mean pooling) and memoises it per
``(model_id, max_length, backend, long_text)``. :meth:`Encoder.encode` returns
L2-normalised float32 rows and computes only what the cache does not hold.

The texts are tokenized once; :mod:`fewtag.embed.long_text` turns each into
one or more token windows (``head``, ``head-tail`` or ``chunks``); the windows
are sorted by their exact token count and batched under a CPU token budget, so
a batch pads to nearly its own length; the model runs on the token ids and a
text's vector is its window (or the re-normalised mean of its windows).
torch is imported only here, lazily.

The *backend* runs the forward pass (:mod:`fewtag.embed.backends`): ``torch``
(fp32, the reference), ``torch-bf16`` (bfloat16 autocast, cosine > 0.999 to
fp32, same downstream F1), ``onnx`` (ONNX Runtime fp32) or ``onnx-int8`` (ONNX
Runtime, int8 weights; see :mod:`fewtag.embed.onnx`), or ``auto`` (the encoder
methods' default): ``torch-bf16`` where the CPU (or GPU) has native bf16, ``torch``
elsewhere.
Vectors from each resolved backend and each long-text mode are cached apart.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.embed.backends import BACKENDS, check_backend, resolve_backend
from fewtag.embed.cache import EmbeddingCache, text_hash
from fewtag.embed.loading import best_device, load_sentence_transformer
from fewtag.embed.long_text import check_long_text, token_cap, windows
from fewtag.errors import InputError, ModelFileError

__all__ = [
    "Encoder",
    "get_encoder",
    "clear_encoders",
    "BACKENDS",
    "check_backend",
    "resolve_backend",
]

#: padded tokens per batch on CPU, at most: onnx backends, torch backends
CPU_TOKEN_BUDGET = 1024
TORCH_CPU_TOKEN_BUDGET = 4096
_encoders: dict[tuple[str, int, str, str], Encoder] = {}
_lock = threading.Lock()


def _special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after a single text (``[CLS]`` / ``[SEP]``, ``<s>`` / ``</s>``)."""
    full = list(tokenizer("a")["input_ids"])
    content = list(tokenizer("a", add_special_tokens=False)["input_ids"])
    for i in range(len(full) - len(content) + 1):
        if full[i : i + len(content)] == content:
            return full[:i], full[i + len(content) :]
    raise ModelFileError("cannot tell the tokenizer's special tokens apart from a text's")  # pragma: no cover


def _runs_on_token_ids(model: Any) -> bool:
    """Whether ``model`` takes token ids: an :class:`OnnxSentenceModel`, or a
    sentence-transformers model whose first module is a transformers ``Transformer``."""
    if getattr(model, "tokenizer", None) is None:
        return False
    if hasattr(model, "embed_ids"):
        return True
    try:
        first = model[0]
    except (TypeError, IndexError, KeyError):
        return False
    return type(first).__name__ == "Transformer"


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
        Tokens per window (special tokens included).
    revision : str or None
        Fingerprint of the weights; ``None`` turns the cache off (fine-tuned
        in-memory models).
    backend : str
        One of :data:`BACKENDS`; ``"auto"`` is resolved here (see
        :func:`fewtag.embed.backends.resolve_backend`). ``model`` is an
        :class:`OnnxSentenceModel` for the onnx ones.
    long_text : {"head", "head-tail", "chunks"}
        What happens to a text longer than ``max_length`` tokens (see
        :mod:`fewtag.embed.long_text`).

    Attributes
    ----------
    backend : str
        The resolved backend (never ``"auto"``).
    dim : int
        Embedding size.
    calls : int
        Forward batches run so far (the cache's tests count them).

    Raises
    ------
    InputError
        An unknown backend or long-text mode, or a long-text mode other than
        ``head`` for a model that does not run on token ids.
    """

    def __init__(
        self,
        model_id: str,
        path: Path,
        model: Any,
        max_length: int,
        revision: str | None,
        backend: str = "torch",
        long_text: str = "head",
    ):
        self.model_id = model_id
        # where the forward pass runs: an onnx model has no torch device and runs on the CPU
        self.device_type = getattr(getattr(model, "device", None), "type", "cpu")
        self.backend = resolve_backend(backend, self.device_type)
        self.long_text = check_long_text(long_text)
        self.path = Path(path)
        self.model = model
        self.max_length = int(max_length)
        self.revision = revision
        self.calls = 0
        self._on_tokens = _runs_on_token_ids(model)
        if not self._on_tokens and self.long_text != "head":
            raise InputError(
                f"long_text={self.long_text!r} needs a transformers encoder; {model_id} only embeds whole "
                "texts: use long_text='head'"
            )
        # local folders are keyed by their absolute path, so "./m" in two places differs
        cache_id = str(self.path.resolve()) if Path(model_id).expanduser().is_dir() else model_id
        #: what, besides the model, decides the vectors: backend (int8 recipe) and long-text mode;
        #: part of every cache key (embedding cache, search index rows)
        self.variant = ""
        if self.backend == "onnx-int8":  # vectors of an older int8 recipe are not these
            from fewtag.embed.onnx import INT8_RECIPE

            self.variant += f"#{self.backend}-{INT8_RECIPE}"
        elif self.backend != "torch":
            self.variant += f"#{self.backend}"
        if self.long_text != "head":
            self.variant += f"@{self.long_text}"
        cache_id += self.variant
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
            Windows per forward pass, at most (on CPU also at most
            :data:`CPU_TOKEN_BUDGET` padded tokens).
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

    def _batches(self, lengths: Sequence[int], batch_size: int) -> list[slice]:
        """Split windows sorted by decreasing token count into batches.

        On CPU a batch also holds at most :data:`CPU_TOKEN_BUDGET` padded
        tokens on ONNX Runtime (the activations of a smaller batch stay in the
        caches: 8 issues of 128 tokens ran 1.3-1.4x faster per text than 64,
        MiniLM, 2 cores) and :data:`TORCH_CPU_TOKEN_BUDGET` on torch, whose
        OpenMP threads spin at every batch: on 2 cores shared with other jobs
        batches of 8 ran at half the speed of batches of 32 (fp32 and bf16).
        The counts are exact, so a batch pads only to its own longest window.
        """
        on_torch = self.backend.startswith("torch")
        budget = (TORCH_CPU_TOKEN_BUDGET if on_torch else CPU_TOKEN_BUDGET) if self.device_type == "cpu" else None
        batches, start = [], 0
        while start < len(lengths):
            size = batch_size
            if budget is not None:  # the first window of a batch is its longest
                size = max(1, min(batch_size, budget // max(lengths[start], 1)))
            batches.append(slice(start, start + size))
            start += size
        return batches

    def _windows(self, texts: list[str]) -> tuple[list[list[int]], NDArray[np.int64]]:
        """Token windows (special tokens added) of ``texts`` and the text each belongs to."""
        tokenizer = self.model.tokenizer
        prefix, suffix = _special_tokens(tokenizer)
        limit = min(self.max_length, int(getattr(self.model, "max_seq_length", None) or self.max_length))
        room = max(1, limit - len(prefix) - len(suffix))
        cap = token_cap(self.long_text, room)
        ids = tokenizer(
            [t.strip() for t in texts],
            add_special_tokens=False,
            truncation=cap is not None,
            max_length=cap,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )["input_ids"]
        groups = [windows(row, self.long_text, room) for row in ids]
        seqs = [prefix + w + suffix for group in groups for w in group]
        owner = np.repeat(np.arange(len(texts)), [len(g) for g in groups])
        return seqs, owner

    def _forward(self, seqs: list[list[int]]) -> NDArray[np.float32]:
        """Unit vectors of one batch of token windows (padded here)."""
        tokenizer = self.model.tokenizer
        width = max(len(s) for s in seqs)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        ids = np.full((len(seqs), width), pad, dtype=np.int64)
        mask = np.zeros((len(seqs), width), dtype=np.int64)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = s
            mask[i, : len(s)] = 1
        if hasattr(self.model, "embed_ids"):
            return self.model.embed_ids(ids, mask)
        import torch

        device = self.model.device
        features = {"input_ids": torch.from_numpy(ids).to(device), "attention_mask": torch.from_numpy(mask).to(device)}
        if "token_type_ids" in tokenizer.model_input_names:
            features["token_type_ids"] = torch.zeros_like(features["input_ids"])
        emb = self.model(features)["sentence_embedding"].float()
        return torch.nn.functional.normalize(emb, p=2.0, dim=1).cpu().numpy()

    def _inference(self) -> contextlib.AbstractContextManager[Any]:
        """torch's inference mode (and bf16 autocast for ``torch-bf16``); nothing for ONNX Runtime,
        so an onnx encoder never imports torch."""
        if hasattr(self.model, "embed_ids"):
            return contextlib.nullcontext()
        import torch

        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        stack.enter_context(
            torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.backend == "torch-bf16")
        )
        return stack

    def _embed(self, texts: list[str], batch_size: int, show_progress: bool) -> NDArray[np.float32]:
        """Run the model on ``texts`` (no cache), input order kept."""
        if self._on_tokens:
            seqs, owner = self._windows(texts)
        else:  # a model that embeds whole texts: one "window" per text, sorted by characters
            seqs, owner = texts, np.arange(len(texts))  # type: ignore[assignment]
        order = np.argsort([-len(s) for s in seqs], kind="stable")
        lengths = [len(seqs[i]) if self._on_tokens else len(seqs[i]) // 4 + 2 for i in order]
        batches: Iterable[slice] = self._batches(lengths, batch_size)
        vectors = np.zeros((len(seqs), self.dim), dtype=np.float32)
        if show_progress:
            from rich.progress import track

            batches = track(batches, description="Embedding")
        was_training = self.model.training
        self.model.eval()
        try:
            with self._inference():
                for part in batches:
                    self.calls += 1
                    idx = order[part]
                    batch = [seqs[i] for i in idx]
                    if self._on_tokens:
                        vectors[idx] = self._forward(batch)
                    else:
                        vectors[idx] = self.model.encode(
                            batch,
                            batch_size=len(idx),
                            convert_to_numpy=True,
                            normalize_embeddings=True,
                            show_progress_bar=False,
                        )
        finally:
            self.model.train(was_training)
        if len(seqs) == len(texts):
            return vectors
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, owner, vectors)  # the mean of a text's windows, up to its length
        return out / np.linalg.norm(out, axis=1, keepdims=True).clip(1e-12)

    def __repr__(self) -> str:
        return (
            f"Encoder({self.model_id!r}, revision={self.revision!r}, max_length={self.max_length}, "
            f"backend={self.backend!r}, long_text={self.long_text!r})"
        )


def get_encoder(
    model_id: str | Path,
    max_length: int = 256,
    *,
    method: str | None = None,
    backend: str = "torch",
    long_text: str = "head",
) -> Encoder:
    """The encoder for ``model_id``, loaded once per ``(model_id, max_length, backend)``.

    The memo is checked against :func:`fewtag.models.model_revision` (a content
    hash of the weights), so a model folder re-saved with other weights is
    loaded again. Encoders that differ only in ``long_text`` share the loaded
    model.

    Parameters
    ----------
    model_id : str or Path
        Hub id (resolved offline first) or local folder.
    max_length : int
        Tokens per window (longer texts: see ``long_text``).
    method : str, optional
        Named in the error when the model cannot be found.
    backend : str
        One of :data:`BACKENDS`; ``"auto"`` picks ``torch-bf16`` where the
        hardware has native bf16, else ``torch``. The default here is the fp32
        reference (``torch``); the encoder methods default to ``auto``. The onnx ones
        export the model once into ``$FEWTAG_CACHE_DIR/onnx`` (see
        :mod:`fewtag.embed.onnx`).
    long_text : {"head", "head-tail", "chunks"}
        What happens to texts over ``max_length`` tokens
        (:mod:`fewtag.embed.long_text`).

    Returns
    -------
    Encoder
        ``encoder.backend`` is the resolved backend.

    Raises
    ------
    ModelNotFoundError
        The model is not available offline (raised in well under a second).
    InputError
        ``backend`` is not one of :data:`BACKENDS`, or ``long_text`` not a mode.

    Examples
    --------
    >>> enc = get_encoder("sentence-transformers/all-MiniLM-L6-v2")  # doctest: +SKIP
    >>> enc.encode(["crash on start"]).shape  # doctest: +SKIP
    (1, 384)
    """
    from fewtag.models import model_revision, resolve_model

    check_backend(backend)
    check_long_text(long_text)
    path = resolve_model(model_id, method=method)
    on_onnx = backend.startswith("onnx")
    backend = resolve_backend(backend, "cpu" if on_onnx else best_device())
    key = (str(model_id), int(max_length), backend, long_text)
    # a content hash (stat-only after the first call): a folder re-saved with other weights
    # is loaded again instead of answered from the memo
    revision = model_revision(path)
    with _lock:
        known = _encoders.get(key)
        if known is not None and known.revision == revision and known.path == path:
            return known
        twins = [e for k, e in _encoders.items() if k[:3] == key[:3] and e.revision == revision and e.path == path]
    if twins:
        model = twins[0].model
    elif on_onnx:
        from fewtag.embed.onnx import cached_onnx_model, onnx_sentence_model

        # an export of these weights in the cache: no torch needed (seconds less at start-up)
        model = cached_onnx_model(path, revision, max_length, quantize=backend == "onnx-int8")
        if model is None:
            st_model = load_sentence_transformer(path, max_length, device="cpu")
            model = onnx_sentence_model(st_model, revision, quantize=backend == "onnx-int8")
    else:
        model = load_sentence_transformer(path, max_length)
    enc = Encoder(str(model_id), path, model, max_length, revision, backend, long_text)
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
