"""Sentence embeddings with an offline-first model resolver and a persistent cache.

>>> from fewtag.embed import get_encoder, configure_cache
>>> configure_cache(None)  # in-process cache only

See :func:`get_encoder` and :meth:`Encoder.encode`.
"""

from fewtag.embed.backends import BACKENDS, resolve_backend
from fewtag.embed.cache import CACHE_ENV, EmbeddingCache, configure_cache, text_hash
from fewtag.embed.encoder import Encoder, clear_encoders, get_encoder
from fewtag.embed.loading import load_sentence_transformer
from fewtag.embed.long_text import LONG_TEXT_MODES

__all__ = [
    "get_encoder",
    "configure_cache",
    "Encoder",
    "EmbeddingCache",
    "clear_encoders",
    "load_sentence_transformer",
    "text_hash",
    "CACHE_ENV",
    "BACKENDS",
    "LONG_TEXT_MODES",
    "resolve_backend",
]
