"""Shared plumbing for the methods that run a Hugging Face transformers model.

torch and transformers are imported here lazily, only when a method asks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fewtag.errors import MissingDependencyError

__all__ = ["require_transformers", "pick_device", "length_batches", "model_max_length", "quiet_transformers"]


def require_transformers(method: str) -> tuple[Any, Any]:
    """Import and return ``(torch, transformers)``, or raise a clear error."""
    try:
        import torch
        import transformers
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"{method} needs torch and transformers: pip install 'fewtag[encoders]' ({exc})"
        ) from exc
    quiet_transformers()
    return torch, transformers


def quiet_transformers() -> None:
    """Silence the per-load progress bars and 'newly initialised weights' notices."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except Exception:  # pragma: no cover - older/newer transformers
        pass


def pick_device(device: str | None) -> str:
    """``"auto"``/``None`` -> ``"cuda"`` when available, else ``"cpu"``; other values pass through."""
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def length_batches(lengths: Sequence[int], batch_size: int) -> Iterator[np.ndarray]:
    """Index batches of at most ``batch_size``, longest items first, so padding stays small."""
    order = np.argsort(-np.asarray(lengths), kind="stable")
    for start in range(0, len(order), max(1, int(batch_size))):
        yield order[start : start + batch_size]


def model_max_length(tokenizer: Any, config: Any, limit: int | None = None) -> int:
    """The longest input the model accepts: tokenizer limit, position embeddings, ``limit``."""
    candidates = [int(getattr(tokenizer, "model_max_length", 0) or 0)]
    candidates.append(int(getattr(config, "max_position_embeddings", 0) or 0))
    if limit:
        candidates.append(int(limit))
    usable = [c for c in candidates if 0 < c < 1_000_000]
    return min(usable) if usable else 512


def local_files(path: Path) -> dict[str, Any]:
    """Keyword arguments for ``from_pretrained`` on a resolved local folder."""
    return {"local_files_only": True}
