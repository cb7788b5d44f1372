"""The sentence encoder that search embeds issues and queries with.

:func:`load_encoder` returns the memoised :func:`fewtag.embed.get_encoder`;
:func:`vector_key` names the store rows an index build checkpoints its vectors
under (see :func:`fewtag.search.index.build_index`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import MissingDependencyError

__all__ = ["Encoder", "load_encoder", "vector_key", "VECTOR_KEY_PREFIX"]

#: store rows written by an index build start with this, apart from the encoders' own cache
VECTOR_KEY_PREFIX = "index:"


class Encoder(Protocol):
    """What search needs from an encoder (``fewtag.embed.get_encoder`` returns one).

    ``revision`` is a content hash of the weights (:func:`fewtag.models.model_revision`),
    so vectors are reused only for the very same weights.
    """

    @property
    def model_id(self) -> str: ...

    @property
    def revision(self) -> str | None: ...

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """L2-normalised float32 vectors of shape ``(len(texts), dim)``."""
        ...


def load_encoder(model_id: str | None = None, *, max_length: int = 256) -> Encoder:
    """The sentence encoder used to embed issues and queries.

    Parameters
    ----------
    model_id : str, optional
        Hugging Face id or local folder; default the offline MiniLM encoder.
    max_length : int
        Tokens kept per text.

    Raises
    ------
    MissingDependencyError
        When the encoder extra (torch, sentence-transformers) is not installed.
    """
    try:
        from fewtag.embed import get_encoder
    except ImportError as exc:
        raise MissingDependencyError(
            f"search needs the sentence encoders: pip install 'fewtag[encoders]' ({exc})"
        ) from exc
    from fewtag.models import DEFAULT_ENCODER

    return get_encoder(model_id or DEFAULT_ENCODER, max_length=max_length)


def vector_key(encoder: Encoder) -> tuple[str, str, int]:
    """``(model, revision, max_length)`` of the store rows holding this encoder's index vectors.

    >>> class E: model_id, revision, max_length, backend = "m", "abc", 128, "onnx"
    >>> vector_key(E())
    ('index:m#onnx', 'abc', 128)
    """
    model = VECTOR_KEY_PREFIX + str(encoder.model_id)
    variant = getattr(encoder, "variant", None)  # backend, int8 recipe and long-text mode
    backend = getattr(encoder, "backend", None)
    if variant is not None:
        model += variant
    elif backend and backend != "torch":
        model += f"#{backend}"
    return model, str(encoder.revision), int(getattr(encoder, "max_length", None) or 0)
