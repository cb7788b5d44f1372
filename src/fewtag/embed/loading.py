"""Load a sentence-transformers model from a local folder, on the best device.

A folder without ``modules.json`` (a plain transformers encoder) is wrapped
with mean pooling. Used by :func:`fewtag.embed.encoder.get_encoder` and by the
training loops (setfit, adapt, distill), which need a fresh, trainable copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fewtag.errors import MissingDependencyError, ModelFileError

__all__ = ["load_sentence_transformer", "best_device"]


def best_device() -> str:
    """``"cuda"`` when torch sees a GPU, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


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
    device = device or best_device()
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
