"""Search with the real offline MiniLM encoder (slow: loads torch and the model)."""

from __future__ import annotations

import pytest

from fewtag.data.store import Item, Store
from fewtag.search import Searcher, build_index, load_encoder

pytestmark = pytest.mark.slow


def test_minilm_search_finds_the_paraphrase(tmp_path):
    items = [
        Item(
            "o/r",
            "1",
            number=1,
            title="load_dataset hangs forever",
            body="Calling load_dataset('squad') never returns and uses no CPU.",
        ),
        Item("o/r", "2", number=2, title="Add a drop_duplicates method", body="Remove duplicate rows."),
        Item("o/r", "3", number=3, title="Typo in the quickstart docs", body="'datset' should be 'dataset'."),
        Item("o/r", "4", number=4, title="Audio decoding is slow", body="Decoding mp3 takes minutes."),
    ]
    with Store(tmp_path / "s.db") as store:
        store.upsert_items(items)
        encoder = load_encoder(max_length=128)
        index, report = build_index(store, encoder)
        assert report.n_embedded == 4 and index.meta["dim"] == 384
        searcher = Searcher(store, encoder)
        assert searcher.query("loading a dataset gets stuck and never finishes", k=1)[0].id == "1"
        assert searcher.query("spelling mistake in the documentation", k=1)[0].id == "3"
        assert searcher.similar("o/r", "2", k=3)[0].score < 0.9
