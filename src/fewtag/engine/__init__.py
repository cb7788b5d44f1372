"""Engines that run a model over a whole store: ``local`` (this process) and ``ray`` (a Ray cluster).

:func:`tag_store` is the work behind ``fewtag tag``: the predictions land in
the store's ``predictions`` table, keyed by item, model name and model content
hash, resumably (see :mod:`fewtag.engine.local` and
:mod:`fewtag.engine.ray_engine`). Ray is imported only by the ray engine.

Examples
--------
>>> ENGINES
('local', 'ray')
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fewtag.data.store import Store
from fewtag.data.store_predictions import Selection
from fewtag.engine.base import ModelKey, TagReport, model_key
from fewtag.errors import ConfigError

__all__ = ["ENGINES", "ModelKey", "Selection", "TagReport", "model_key", "tag_store"]

ENGINES = ("local", "ray")


def tag_store(
    store: Store,
    model_dir: str | Path,
    selection: Selection | None = None,
    *,
    engine: str = "local",
    batch_size: int = 256,
    workers: int | None = None,
    address: str | None = None,
    model_name: str | None = None,
    quiet: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> TagReport:
    """Predict every selected item of ``store`` that this model has not predicted yet.

    Parameters
    ----------
    store : Store
    model_dir : a saved model folder (``fewtag train``)
    selection : which items (default: every issue, no pull requests)
    engine : ``local`` or ``ray``
    batch_size : items per predict call and per commit (the same batches on both engines)
    workers, address : the ray engine's actors and cluster (``address``: join it; else Ray starts locally)
    model_name : the model's name in the table (default: the folder's name)

    Returns
    -------
    TagReport

    Raises
    ------
    ConfigError
        An unknown engine, a bad batch size, or options the engine does not take.
    MissingDependencyError
        ``engine="ray"`` without Ray installed.
    """
    if engine not in ENGINES:
        raise ConfigError(f"--engine {engine!r} is not an engine. Available: {', '.join(ENGINES)}")
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
    if engine == "local" and (address is not None or workers is not None):
        raise ConfigError("--address and --workers are for --engine ray")
    selection = selection or Selection()
    store.check_selection(selection)  # a bad filter fails before the model loads
    from fewtag.methods.model_folder import read_model_meta

    read_model_meta(model_dir)  # not a model folder: one error, before Ray starts
    key = model_key(model_dir, model_name)
    if engine == "ray":
        from fewtag.engine.ray_engine import tag_ray

        return tag_ray(
            store,
            model_dir,
            key,
            selection,
            batch_size=batch_size,
            workers=workers,
            address=address,
            quiet=quiet,
            progress=progress,
        )
    from fewtag.engine.local import tag_local

    return tag_local(store, model_dir, key, selection, batch_size=batch_size, progress=progress)
