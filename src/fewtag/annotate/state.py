"""What one running page knows: the queue of suggested issues, what was done, the latest model.

Request threads and the retrain worker share one :class:`AnnotateState`. Requests hold its lock
only for short bookkeeping and one store write; the worker trains on its own store connection
and takes the lock only to install what it computed, so a retrain never blocks the page.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from fewtag.annotate.neighbours import NearestLabelled, Neighbour
from fewtag.annotate.review import ReviewRow
from fewtag.annotate.settings import AnnotateSettings
from fewtag.errors import InputError

__all__ = ["Entry", "Snapshot", "AnnotateState"]

Key = tuple[str, str]


@dataclass
class Entry:
    """One issue to show: the item and the model's suggestion for it (when there was one)."""

    item: Any
    labels: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    reason: str = ""
    version: str | None = None
    review: ReviewRow | None = None

    @property
    def key(self) -> Key:
        return (self.item.repo, str(self.item.id))


@dataclass
class Snapshot:
    """What the worker computed in its latest round (read by the page)."""

    n_labelled: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    estimate: Any = None
    version: str | None = None
    history: list[tuple[int, Any]] = field(default_factory=list)
    stop_hint: str | None = None
    nearest: NearestLabelled | None = None
    rounds: int = 0


class AnnotateState:
    """The shared state of one page.

    Parameters
    ----------
    settings : AnnotateSettings
    task : LabelTask
        The labels, their descriptions and whether several may be given.
    store : Store
        The connection requests write through (the worker opens its own).
    review : list of ReviewRow, optional
        The audit's flags, and the time after which a save counts as a review.
    """

    def __init__(
        self,
        settings: AnnotateSettings,
        task: Any,
        store: Any,
        review: tuple[list[ReviewRow], str] | None = None,
    ):
        self.settings, self.task, self.store = settings, task, store
        self.lock = threading.RLock()
        self.queue: list[Entry] = []
        self.front: list[Key] = []  # undone items come back first
        self.seen: dict[Key, Entry] = {}
        self.snapshot = Snapshot()
        self.busy: str | None = "starting"  # what the worker is doing, shown on the page
        self.error: str | None = None  # the worker's last failure, shown on the page
        self.saved_total = 0  # saves by this process
        self.trained_at = 0  # saved_total when the model in use started training
        self.trained: Any = None
        self.session_saves = 0
        self.shown: Key | None = None  # the issue last put on screen
        self.wakeup: threading.Event = threading.Event()
        self.review_rows: list[ReviewRow] = review[0] if review else []
        self.review_since: str | None = review[1] if review else None
        with self.lock:
            self.done: set[Key] = {(a.repo, a.item_id) for a in store.current_annotations()} | store.skipped_items()
            self.reviewed: set[Key] = set()
            if self.review_since is not None:
                self.reviewed = {(a.repo, a.item_id) for a in store.annotation_log() if a.at > self.review_since}

    # ------------------------------------------------------------------ what to show
    def pending(self) -> list[Entry]:
        """Queued entries not yet labelled or skipped."""
        return [e for e in self.queue if e.key not in self.done]

    def current(self) -> Entry | None:
        """The next issue: an undone one first, else the head of the queue."""
        with self.lock:
            while self.front:
                entry = self.entry_for(*self.front[0])
                if entry is not None and entry.key not in self.done:
                    self.shown = entry.key
                    return entry
                self.front.pop(0)
            pending = self.pending()
            if len(pending) <= 2:
                self.wakeup.set()  # pick more before the queue runs dry
            self.shown = pending[0].key if pending else None
            return pending[0] if pending else None

    def entry_for(self, repo: str, item_id: str) -> Entry | None:
        """The entry of one item (its suggestion when it was queued), or ``None`` if not in the store."""
        with self.lock:
            key = (repo, str(item_id))
            entry = self.seen.get(key)
            if entry is None:
                item = self.store.get_item(repo, item_id)
                if item is None:
                    return None
                entry = Entry(item)
            review = self.review_row(key)
            if review is not None:
                entry = Entry(entry.item, entry.labels, entry.scores, entry.reason, entry.version, review)
            return entry

    def review_row(self, key: Key) -> ReviewRow | None:
        return next((r for r in self.review_rows if r.key == key), None)

    def next_review(self) -> ReviewRow | None:
        with self.lock:
            return next((r for r in self.review_rows if r.key not in self.reviewed), None)

    def current_labels(self, key: Key) -> list[str]:
        """The labels the item has now: its latest kept annotation, else its labels in the store."""
        with self.lock:
            for a in reversed(self.store.current_annotations()):
                if (a.repo, a.item_id) == key:
                    return a.labels
            item = self.store.get_item(*key)
            return self.task.mapped(item.labels) if item else []

    def nearest(self, entry: Entry, text: str, k: int = 3) -> list[Neighbour]:
        index = self.snapshot.nearest
        return index.query(text, k=k, exclude=entry.key) if index is not None else []

    # ------------------------------------------------------------------ changes
    def check_labels(self, labels: list[str]) -> list[str]:
        """The given labels, checked against the task (raises :class:`InputError`)."""
        labels = self.task.check(labels)
        if not self.task.multi_label and not labels:
            raise InputError("pick one label (this task is single-label), or skip the issue")
        return labels

    def save(self, repo: str, item_id: str, labels: list[str], version: str | None, *, review: bool = False) -> int:
        """Append the labels to the annotations log at once; the row id."""
        labels = self.check_labels(labels)
        with self.lock:
            if self.store.get_item(repo, item_id) is None:
                raise InputError(f"no item {repo}#{item_id} in the store")
            [row] = self.store.add_annotations(
                [(repo, item_id, labels)], source="human", who=self.settings.who, model_version=version
            )
            key = (repo, str(item_id))
            self.done.add(key)
            if review:
                self.reviewed.add(key)
            self.saved_total += 1
            self.session_saves += 1
        self.wakeup.set()
        return row

    def skip(self, repo: str, item_id: str, version: str | None, *, review: bool = False) -> None:
        with self.lock:
            self.store.add_annotations(
                [(repo, item_id, [])], source="human", who=self.settings.who, model_version=version, skipped=True
            )
            key = (repo, str(item_id))
            self.done.add(key)
            if review:
                self.reviewed.add(key)
        self.wakeup.set()

    def undo(self) -> Any:
        """Undo this annotator's latest save or skip; that row, or ``None``."""
        with self.lock:
            row = self.store.undo_annotation(who=self.settings.who, source="human")
            if row is None:
                return None
            key = (row.repo, row.item_id)
            still = {(a.repo, a.item_id) for a in self.store.current_annotations()} | self.store.skipped_items()
            if key not in still:
                self.done.discard(key)
                self.reviewed.discard(key)
            self.front.insert(0, key)
            if not row.skipped:
                self.session_saves -= 1
        self.wakeup.set()
        return row

    # ------------------------------------------------------------------ worker side
    def install(
        self, *, snapshot: Snapshot | None = None, batch: list[Entry] | None = None, trained: Any = None
    ) -> None:
        with self.lock:
            if snapshot is not None:
                self.snapshot = snapshot
            if trained is not None:
                self.trained = trained
            if batch is not None:
                # the issue on screen stays first, so a new batch does not swap it under the annotator
                head = [e for e in self.queue if e.key == self.shown and e.key not in self.done]
                self.queue = head + [e for e in batch if e.key != self.shown]
                for e in batch:
                    if e.key != self.shown or e.key not in self.seen:
                        self.seen[e.key] = e
