"""The local engine: today's batched predict in this process, one commit per batch.

A run killed mid-way loses at most the batch in flight; the next run reads
only the items that have no prediction of this model yet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fewtag.data.store import Store
from fewtag.data.store_predictions import Selection
from fewtag.engine.base import Clock, ModelKey, TagReport, predict_chunk

__all__ = ["tag_local"]


def tag_local(
    store: Store,
    model_dir: str | Path,
    key: ModelKey,
    selection: Selection,
    *,
    batch_size: int = 256,
    progress: Callable[[int, int], None] | None = None,
) -> TagReport:
    """Tag the selected, not yet predicted items of ``store`` in this process.

    Parameters
    ----------
    store : Store
    model_dir : a saved model folder
    key : the model's key (:func:`fewtag.engine.base.model_key`)
    selection : which items
    batch_size : items per predict call and per commit
    progress : ``progress(done, total)`` after each batch

    Returns
    -------
    TagReport
    """
    from fewtag.registry import load_tagger

    clock = Clock()
    selected = store.check_selection(selection)
    todo = store.count_untagged(selection, key.model, key.hash)
    report = TagReport("local", key.model, key.hash, selected=selected, already=selected - todo)
    tagger = load_tagger(model_dir)
    report.startup_s = clock()
    for chunk in store.untagged_chunks(selection, key.model, key.hash, chunk_size=batch_size):
        t0 = clock()
        rows = predict_chunk(tagger, chunk, batch_size)
        report.busy_s += clock() - t0
        report.written += store.put_predictions(key.model, key.hash, rows)
        if progress is not None:
            progress(report.written, todo)
    report.seconds = clock()
    return report
