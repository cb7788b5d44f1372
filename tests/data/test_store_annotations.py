"""The annotations log: saves, skips, undo, and what survives a reopen."""

from __future__ import annotations

from fewtag.data.store import Store


def test_latest_save_wins_and_undo_restores_the_one_before(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as s:
        s.add_annotations([("o/r", "1", ["bug"])], who="ana")
        s.add_annotations([("o/r", "1", ["feature", "bug"])], who="ana")
        s.add_annotations([("o/r", "2", ["question"])], who="ana", model_version="m1")
        current = [(a.item_id, a.labels) for a in s.current_annotations()]
        assert current == [("1", ["bug", "feature"]), ("2", ["question"])]
        undone = s.undo_annotation(who="ana")
        assert undone is not None and undone.item_id == "2" and undone.model_version == "m1"
        s.undo_annotation(who="ana")
    with Store(db) as s:  # a new process sees exactly what was committed
        assert [(a.item_id, a.labels) for a in s.current_annotations()] == [("1", ["bug"])]
        assert len(s.annotation_log()) == 1 and len(s.annotation_log(include_undone=True)) == 3


def test_a_skip_is_not_a_label_and_is_remembered(tmp_path):
    with Store(tmp_path / "s.db") as s:
        s.add_annotations([("o/r", "7", [])], who="ana", skipped=True)
        assert s.current_annotations() == []
        assert s.skipped_items() == {("o/r", "7")}
        s.add_annotations([("o/r", "7", ["bug"])], who="ana")
        assert s.skipped_items() == set()
        assert [a.labels for a in s.current_annotations()] == [["bug"]]


def test_undo_of_an_empty_log_is_none_and_undo_is_per_person(tmp_path):
    with Store(tmp_path / "s.db") as s:
        assert s.undo_annotation() is None
        s.add_annotations([("o/r", "1", ["bug"])], who="ana")
        assert s.undo_annotation(who="bo") is None
        assert s.current_annotations()[0].who == "ana"
