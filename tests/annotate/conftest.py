"""A small store of issues to label (three topics with their own words) and a page over it."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from fewtag.data.store import Item, Store

REPO = "acme/widgets"
SCRIPT_BODY = '<script>window.__pwned = 1; document.title = "pwned"</script> <b>not bold</b> & "quoted"'
_WORDS = {
    "bug": ["crash", "traceback", "error", "fails", "exception", "segfault", "broken"],
    "docs": ["typo", "documentation", "readme", "docstring", "tutorial", "example", "link"],
    "question": ["how", "why", "possible", "help", "understand", "advice", "question"],
}


def make_store(path: Path, *, n: int = 36, labelled: int = 6, seed: int = 0) -> list[Item]:
    """``n`` issues, a third per topic; the first ``labelled`` carry their GitHub label.

    Item ``1`` is the one whose body holds a ``<script>`` tag.
    """
    rng = random.Random(seed)
    topics = list(_WORDS)
    items = []
    for k in range(n):
        topic = topics[k % 3]
        words = rng.sample(_WORDS[topic], 4)
        body = SCRIPT_BODY if k == 0 else f"The {words[2]} appears when I {words[3]} the widget.\n\nDetails: {words[1]}"
        items.append(
            Item(
                REPO,
                str(k + 1),
                title=f"{words[0].capitalize()} {words[1]} in widget {k + 1}",
                body=body,
                labels=[topic] if 0 < k <= labelled else [],
                number=k + 1,
                url=f"https://github.com/{REPO}/issues/{k + 1}",
            )
        )
    with Store(path) as s:
        s.upsert_items(items)
    return items


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    path = tmp_path / "fewtag.db"
    make_store(path)
    return path


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
