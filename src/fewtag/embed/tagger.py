"""What every encoder-based tagger shares: the encoder it uses and its metadata.

Mixed into the ``knn``, ``embed-logreg``, ``zero-shot-embed`` and ``setfit``
taggers. It expects ``self.model`` and ``self.max_length`` (constructor
arguments), and ``self.backend`` / ``self.long_text`` where the method lets the
user choose the encoder backend and what happens to long texts (defaults
``"torch"`` and ``"head"``); it records ``metadata_["encoder"] = {"id",
"revision", "max_length", "dim", "backend", "long_text"}`` at fit time, with
the resolved backend.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.embed.encoder import Encoder, get_encoder

__all__ = ["EncoderMixin", "label_phrase"]


def label_phrase(label: str) -> str:
    """A label name as words: ``"dataset-viewer"`` -> ``"dataset viewer"``.

    >>> label_phrase("good_first-issue")
    'good first issue'
    """
    return " ".join(label.replace("_", " ").replace("-", " ").split())


class EncoderMixin:
    """Access to the (memoised, cached) sentence encoder of a tagger."""

    model: str
    max_length: int
    batch_size: int = 64
    metadata_: dict[str, Any]

    def _encoder(self) -> Encoder:
        enc = getattr(self, "_encoder_cache", None)
        if enc is None:
            enc = get_encoder(
                self.model,
                self.max_length,
                method=getattr(self, "name", None),
                backend=getattr(self, "backend", "torch"),
                long_text=getattr(self, "long_text", "head"),
            )
            saved = getattr(self, "metadata_", {}).get("encoder", {}).get("revision")
            if saved and saved != enc.revision:
                warnings.warn(
                    f"encoder {self.model} has revision {enc.revision}, but this model was trained "
                    f"with revision {saved}; predictions may differ",
                    stacklevel=3,
                )
            self._encoder_cache = enc
        return enc

    def _record_encoder(self) -> Encoder:
        enc = self._encoder()
        self.metadata_["encoder"] = {
            "id": enc.model_id,
            "revision": enc.revision,
            "max_length": enc.max_length,
            "dim": enc.dim,
            "backend": enc.backend,
            "long_text": enc.long_text,
        }
        return enc

    def _embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return self._encoder().encode(list(texts), batch_size=getattr(self, "batch_size", 64))
