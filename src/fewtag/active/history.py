"""Each round's estimate, kept in the store so the stopping hint survives a restart."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from fewtag.active.task import LabelTask
from fewtag.data.store import Store

if TYPE_CHECKING:
    from fewtag.active.session import Trained

__all__ = ["record_round", "round_history"]


def _history_key(task: LabelTask) -> str:
    h = hashlib.sha256(json.dumps([task.labels, task.multi_label, task.repo]).encode()).hexdigest()[:12]
    return f"active.history.{h}"


def round_history(store: Store, task: LabelTask) -> list[dict[str, Any]]:
    """The rounds recorded by :func:`record_round`, oldest first: ``{"version", "n_labelled", "estimate"}``."""
    raw = store.get_meta(_history_key(task))
    return list(json.loads(raw)) if raw else []


def record_round(store: Store, task: LabelTask, trained: Trained) -> list[dict[str, Any]]:
    """Append this round's estimate to the task's history in the store (once per model version); the history.

    Feed ``[(r["n_labelled"], r["estimate"]) for r in history]`` to :func:`stopping_hint`.
    """
    history = round_history(store, task)
    if not history or history[-1]["version"] != trained.version:
        history.append({"version": trained.version, "n_labelled": trained.n_labelled, "estimate": trained.summary()})
        store.set_meta(_history_key(task), json.dumps(history))
    return history
