"""A model folder's ``tokenizer.json`` through the ``tokenizers`` library alone.

Importing transformers imports torch (seconds on a laptop). An encoder that runs on ONNX Runtime
from an export already in the cache needs neither: this adapter answers the few calls
:class:`fewtag.embed.Encoder` and :class:`~fewtag.embed.onnx.OnnxSentenceModel` make of a
transformers tokenizer, with the same ids (``tests/encoders/test_fast_tokenizer.py`` compares
them on real issues).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FastTokenizer", "load_fast_tokenizer"]


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


class FastTokenizer:
    """The subset of a transformers fast tokenizer that fewtag's encoders call.

    Parameters
    ----------
    backend : tokenizers.Tokenizer
        Loaded from ``tokenizer.json``; its own truncation and padding are switched off (they are
        applied per call, as transformers does).
    pad_token_id : int
    model_input_names : list of str
    """

    def __init__(self, backend: Any, pad_token_id: int, model_input_names: list[str]):
        backend.no_truncation()
        backend.no_padding()
        self._lock = threading.Lock()
        self.backend = backend
        self.pad_token_id = pad_token_id
        self.model_input_names = model_input_names

    def __call__(
        self,
        texts: str | list[str],
        *,
        add_special_tokens: bool = True,
        padding: bool = False,
        truncation: bool = False,
        max_length: int | None = None,
        return_tensors: str | None = None,
        return_attention_mask: bool = True,
        return_token_type_ids: bool = True,
        verbose: bool = True,
    ) -> dict[str, Any]:
        single = isinstance(texts, str)
        batch = [texts] if isinstance(texts, str) else list(texts)
        with self._lock:  # truncation is the backend's state; set it for this call only
            if truncation and max_length is not None:
                self.backend.enable_truncation(int(max_length))
            try:
                encoded = self.backend.encode_batch(batch, add_special_tokens=add_special_tokens)
            finally:
                self.backend.no_truncation()
        ids = [list(e.ids) for e in encoded]
        types = [list(e.type_ids) for e in encoded]
        masks = [[1] * len(i) for i in ids]
        if padding:
            width = max((len(i) for i in ids), default=0)
            ids = [i + [self.pad_token_id] * (width - len(i)) for i in ids]
            types = [t + [0] * (width - len(t)) for t in types]
            masks = [m + [0] * (width - len(m)) for m in masks]
        out: dict[str, Any] = {"input_ids": ids}
        if return_token_type_ids and "token_type_ids" in self.model_input_names:
            out["token_type_ids"] = types
        if return_attention_mask:
            out["attention_mask"] = masks
        if return_tensors == "np":
            return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}
        return {k: v[0] for k, v in out.items()} if single else out


def load_fast_tokenizer(folder: str | Path) -> FastTokenizer | None:
    """The folder's ``tokenizer.json`` as a :class:`FastTokenizer`; ``None`` when it has none (or
    the ``tokenizers`` package is missing), so the caller loads transformers' tokenizer instead."""
    folder = Path(folder)
    spec = folder / "tokenizer.json"
    if not spec.is_file():
        return None
    try:
        from tokenizers import Tokenizer
    except ImportError:  # pragma: no cover - a dependency of transformers
        return None
    config: dict[str, Any] = {}
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        path = folder / name
        if path.is_file():
            try:
                config = {**json.loads(path.read_text(encoding="utf-8")), **config}
            except (OSError, ValueError):
                return None
    backend = Tokenizer.from_file(str(spec))
    pad = _token_text(config.get("pad_token"))
    pad_id = backend.token_to_id(pad) if pad else None
    if pad_id is None:
        return None
    names = config.get("model_input_names") or ["input_ids", "token_type_ids", "attention_mask"]
    return FastTokenizer(backend, int(pad_id), [str(n) for n in names])
