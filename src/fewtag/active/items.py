"""The store seen by a labelling task: labelled items (annotations, else mapped GitHub labels), the pool, texts."""

from __future__ import annotations

import threading
from collections import OrderedDict

from fewtag.active.task import LabelTask
from fewtag.data.store import Item, Store
from fewtag.data.text import TextSpec

__all__ = ["item_text", "labelled", "pool", "split_items", "DEFAULT_TEXT"]

#: The text settings of the models a round trains (fewtag's defaults).
DEFAULT_TEXT = TextSpec()
_TEXT = DEFAULT_TEXT

_TEXTS: OrderedDict[tuple, str] = OrderedDict()
_TEXTS_MAX = 50_000
_TEXTS_LOCK = threading.Lock()


def item_text(item: Item, spec: TextSpec | None = None) -> str:
    """The model input of a store item (title + body through the text path).

    Memoised in-process (the most recent 50,000 texts), so a long-running labelling
    session cleans each issue's markdown once, not every round.
    """
    spec = spec or _TEXT
    key = (spec.clean, spec.code_blocks, spec.max_chars, item.title, item.body)
    with _TEXTS_LOCK:
        hit = _TEXTS.get(key)
        if hit is not None:
            _TEXTS.move_to_end(key)
            return hit
    text = spec.text_of({"title": item.title, "body": item.body}, f"{item.repo}#{item.id}")
    with _TEXTS_LOCK:
        _TEXTS[key] = text
        while len(_TEXTS) > _TEXTS_MAX:
            _TEXTS.popitem(last=False)
    return text


def _key(item: Item) -> tuple[str, str]:
    return (item.repo, item.id)


def labelled(store: Store, task: LabelTask) -> tuple[list[Item], list[list[str]]]:
    """The task's labelled items and their current labels (task order), in store order.

    An item counts as labelled when it has a kept annotation (the latest wins; its labels
    are cut to the task's; an empty list means "none of these" in a multi-label task), or
    else when its own labels map onto the task's labels (in a single-label task: onto
    exactly one of them).

    Examples
    --------
    >>> s = Store(":memory:")
    >>> _ = s.upsert_items([Item("o/r", "1", title="Crash", labels=["bug"]), Item("o/r", "2", title="Typo")])
    >>> _ = s.add_annotations([("o/r", "2", ["docs"])])
    >>> items, labs = labelled(s, LabelTask.from_labels("bug,docs"))
    >>> [(i.id, lab) for i, lab in zip(items, labs)]
    [('1', ['bug']), ('2', ['docs'])]
    """
    items, labels, _, _ = split_items(store, task)
    return items, labels


def pool(store: Store, task: LabelTask) -> list[Item]:
    """The task's items that are neither labelled nor skipped, in store order."""
    return split_items(store, task)[2]


def split_items(store: Store, task: LabelTask) -> tuple[list[Item], list[list[str]], list[Item], list[Item]]:
    """One pass over the task's items: (labelled items, their labels, pool items, every item)."""
    given = {(a.repo, a.item_id): a.labels for a in store.current_annotations()}
    skipped = store.skipped_items()
    items: list[Item] = []
    labels: list[list[str]] = []
    rest: list[Item] = []
    every = list(task.items(store))
    for item in every:
        ann = given.get(_key(item))
        if ann is not None:
            items.append(item)
            labels.append([x for x in task.labels if x in set(ann)])
            continue
        mapped = task.mapped(item.labels)
        if mapped and (task.multi_label or len(mapped) == 1):
            items.append(item)
            labels.append(mapped)
        elif _key(item) not in skipped:
            rest.append(item)
    return items, labels, rest, every
