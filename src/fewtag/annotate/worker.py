"""The background worker: recount, retrain every N labels, pick the next batch.

It runs in one daemon thread with a store connection of its own, so the page answers while it
trains. The query strategies, the training and the F1 estimate are :mod:`fewtag.active`'s; the
:class:`ActiveEngine` only calls them (tests may wrap it to slow a round down).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import replace
from typing import Any

from fewtag.annotate.neighbours import NearestLabelled
from fewtag.annotate.settings import AnnotateSettings
from fewtag.annotate.state import AnnotateState, Entry
from fewtag.data.text import TextSpec

__all__ = ["ActiveEngine", "RetrainWorker", "record_text"]

log = logging.getLogger("fewtag.annotate")


def record_text(item: Any, tagger: Any = None) -> str:
    """The model input of an item: the tagger's own text path, else the default one."""
    record = {"title": item.title or "", "body": item.body or ""}
    if tagger is not None and hasattr(tagger, "text_of"):
        return str(tagger.text_of(record))
    return TextSpec().text_of(record)


class ActiveEngine:
    """The session API of :mod:`fewtag.active.session`, bound to one task and one setting."""

    def __init__(self, task: Any, settings: AnnotateSettings):
        self.task, self.settings = task, settings

    def labelled(self, store: Any) -> list[tuple[Any, list[str]]]:
        from fewtag.active.session import labelled

        items, labels = labelled(store, self.task)
        return list(zip(items, labels))

    def train(self, store: Any) -> Any:
        from fewtag.active.session import train_current

        return train_current(store, self.task, method=self.settings.method, seed=self.settings.seed)

    def pick(self, store: Any, n: int, trained: Any) -> list[Any]:
        from fewtag.active.session import next_batch

        return list(
            next_batch(
                store,
                self.task,
                n=n,
                strategy=self.settings.strategy,
                method=self.settings.method,
                seed=self.settings.seed,
                trained=trained,
            )
        )

    def stop_hint(self, history: list[tuple[int, Any]]) -> str | None:
        from fewtag.active.session import stopping_hint

        return stopping_hint(history)


class RetrainWorker:
    """Keeps ``state`` fed: counts after every change, a new model every ``retrain_every`` saves,
    a new batch when the model changed or the queue runs low."""

    def __init__(self, state: AnnotateState, engine: Any, store_path: str):
        self.state, self.engine, self.store_path = state, engine, store_path
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._picked_at: int | None = None  # saved_total of the last pick that found nothing
        self.rounds = 0

    def start(self) -> RetrainWorker:
        self._thread = threading.Thread(target=self._run, name="fewtag-annotate-retrain", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.state.wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        from fewtag.data.store import Store

        store = Store(self.store_path)
        try:
            first = True
            while not self._stop.is_set():
                if not first:
                    self.state.wakeup.wait()
                    if self._stop.is_set():
                        break
                self.state.wakeup.clear()
                try:
                    self.round(store, first=first)
                except Exception as exc:  # the page stays up and says what failed
                    log.exception("annotate worker round failed")
                    self.state.error = f"{type(exc).__name__}: {exc}"
                finally:
                    self.state.busy = None
                first = False
        finally:
            store.close()

    def round(self, store: Any, *, first: bool = False) -> None:
        """One round: recount; retrain when due; pick when due. Installs the results as they come.

        Without a model yet (the first round) the first batch is picked at once with one plain
        fit, so the page has an issue to show while the cross-validated model trains.
        """
        state, settings = self.state, self.state.settings
        with state.lock:
            saved = state.saved_total
            want_train = first or saved - state.trained_at >= settings.retrain_every
            low = len(state.pending()) <= 2 and self._picked_at != saved
        state.busy = "counting labels"
        rows = self.engine.labelled(store)
        counts = Counter(label for _, labels in rows for label in labels)
        snapshot = replace(
            state.snapshot,
            n_labelled=len(rows),
            counts={x: counts.get(x, 0) for x in state.task.labels},
            history=list(state.snapshot.history),
        )
        state.install(snapshot=snapshot)
        if want_train and state.trained is None and (low or first):
            state.busy = "picking the first issues"
            state.install(batch=self._pick(store, None, saved))
            low = False
        trained = state.trained
        if want_train:
            state.busy = f"retraining on {len(rows)} labels"
            with state.lock:
                state.trained_at = saved
            if rows:
                trained = self.engine.train(store)
                state.error = None
                snapshot = replace(snapshot, history=list(snapshot.history))
                snapshot.estimate = trained.summary() if getattr(trained, "estimate", None) is not None else None
                snapshot.version = trained.version if getattr(trained, "tagger", None) is not None else None
                n = int(getattr(trained, "n_labelled", len(rows)))
                if snapshot.estimate is not None and (not snapshot.history or snapshot.history[-1][0] != n):
                    snapshot.history.append((n, snapshot.estimate))
                snapshot.stop_hint = self.engine.stop_hint(snapshot.history)
            tagger = getattr(trained, "tagger", None)
            snapshot.nearest = NearestLabelled(rows, [record_text(item, tagger) for item, _ in rows])
            snapshot.rounds += 1
            state.install(snapshot=snapshot, trained=trained)
        if (want_train and trained is not None) or low:
            state.busy = "picking the next issues"
            state.install(batch=self._pick(store, trained, saved))
        self.rounds += 1

    def _pick(self, store: Any, trained: Any, saved: int) -> list[Entry]:
        suggestions = self.engine.pick(store, self.state.settings.batch, trained)
        batch = [
            Entry(
                s.item,
                list(getattr(s, "labels", []) or []),
                {str(k): float(v) for k, v in dict(getattr(s, "scores", {}) or {}).items()},
                str(getattr(s, "reason", "") or ""),
                (getattr(s, "model_version", None) or None) if getattr(s, "scores", None) else None,
            )
            for s in suggestions
        ]
        if not batch:
            self._picked_at = saved
        return batch
