"""Progress of long-running loops, reported to whoever listens.

Training loops (setfit, finetune, adapt, distill) call :func:`report` once per
step; by default nothing listens and a report costs one context-variable read.
The command line installs a listener with :func:`reporting` that draws a
progress bar (steps, loss, time left), so no training API has to take a
callback argument through every layer in between.

Examples
--------
>>> seen = []
>>> with reporting(lambda task, done, total, fields: seen.append((task, done, total))):
...     report("setfit", 1, 4, loss=0.5)
>>> seen
[('setfit', 1, 4)]
>>> report("setfit", 2, 4)  # nobody listens: a no-op
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["Listener", "report", "reporting"]

#: ``listener(task, done, total, fields)``: ``fields`` holds e.g. ``loss``
Listener = Callable[[str, int, int, dict[str, Any]], None]

_listener: ContextVar[Listener | None] = ContextVar("fewtag_progress", default=None)


def report(task: str, done: int, total: int, **fields: Any) -> None:
    """Tell the current listener, if any, that ``done`` of ``total`` steps of ``task`` ran."""
    listener = _listener.get()
    if listener is not None:
        listener(task, done, total, fields)


@contextmanager
def reporting(listener: Listener | None) -> Iterator[None]:
    """Send the :func:`report` calls made inside the block to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)
