from fewtag.data.importers import read_items
from fewtag.data.stats import plot_words_histogram, store_stats
from fewtag.data.store import Store


def test_stats_counts(tmp_path, dump_path):
    with Store(tmp_path / "s.db") as s:
        s.upsert_items(read_items(dump_path))
        st = store_stats(s)
    assert (st["items"], st["issues"], st["pull_requests"], st["labelled_issues"]) == (130, 120, 10, 90)
    # 30 primary + 4 secondary (i % 7 == 0 and i % 3 == 2); the 10 PRs labelled bug do not count
    assert st["labels"]["bug"] == 34
    assert st["labels_per_issue"] == {"0": 30, "1": 77, "2": 13}
    assert sum(st["words_per_issue"]["counts"]) == 120
    png = plot_words_histogram(st["words_per_issue"]["words"], tmp_path / "h.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
