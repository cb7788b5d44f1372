"""A small store of issues on three topics, some labelled through GitHub labels."""

from __future__ import annotations

import pytest

from fewtag.active.task import LabelTask
from fewtag.data.store import Item, Store

TOPICS = {
    "bug": [
        "crash when loading {w}",
        "segfault in {w} on start",
        "error traceback from {w}",
        "{w} fails with exception",
    ],
    "docs": ["typo in the {w} docs", "readme example for {w} is wrong", "document the {w} option", "{w} page 404"],
    "question": ["how do i use {w}?", "why is {w} slow?", "what does {w} return?", "can i stream {w}?"],
}
WORDS = ["parquet", "csv", "json", "arrow", "audio", "image", "text", "cache", "hub", "split"]


def make_items(repo: str = "o/r") -> list[tuple[Item, str]]:
    """60 issues (20 per topic) with their gold topic; ids 1..60."""
    out = []
    k = 0
    for w in WORDS:
        for topic, patterns in TOPICS.items():
            for p in patterns[:2] if w in WORDS[:5] else patterns[2:]:
                k += 1
                out.append((Item(repo, str(k), number=k, title=p.format(w=w), body=f"details about {w} {k}"), topic))
    return out


@pytest.fixture
def gold():
    return {item.id: topic for item, topic in make_items()}


@pytest.fixture
def store(tmp_path):
    """60 issues; the first 3 of each topic carry their topic as a GitHub label."""
    s = Store(tmp_path / "s.db")
    seen: dict[str, int] = {}
    items = []
    for item, topic in make_items():
        seen[topic] = seen.get(topic, 0) + 1
        if seen[topic] <= 3:
            item.labels = [topic, "triage"]
        items.append(item)
    s.upsert_items(items)
    yield s
    s.close()


@pytest.fixture
def task():
    return LabelTask.from_labels("bug,docs,question")
