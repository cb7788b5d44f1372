"""The background worker: a retrain every N labels, and a page that answers while it trains."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from fewtag.active.task import LabelTask
from fewtag.annotate import AnnotateSettings, create_annotate_app
from fewtag.annotate.worker import ActiveEngine

from .conftest import wait_for
from .test_page import BASE, _form, _shown

TASK = LabelTask.from_labels("bug,docs,question")


class CountingEngine(ActiveEngine):
    """The real engine; counts its trainings and can hold one until released."""

    def __init__(self, *args, hold: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.trains = 0
        self.hold = hold
        self.entered = threading.Event()
        self.release = threading.Event()

    def train(self, store):
        self.trains += 1
        if self.hold:
            self.entered.set()
            assert self.release.wait(60), "the test never released the training"
        return super().train(store)


def _app(store_path, engine_kwargs=None, **settings):
    s = AnnotateSettings(store=str(store_path), who="ana", batch=10, **settings)
    engine = CountingEngine(TASK, s, **(engine_kwargs or {}))
    return create_annotate_app(s, TASK, engine=engine), engine


def _save(c, label: str) -> str:
    html = c.get("/").text
    r = c.post("/save", data={**_form(html), "label": label}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return _shown(html)


def test_retrains_every_n_labels(store_path):
    app, engine = _app(store_path, retrain_every=3)
    with TestClient(app, base_url=BASE) as c:
        first = wait_for(lambda: c.get("/api/progress").json()["version"], what="the first model")
        assert engine.trains == 1
        for label in ("bug", "docs", "question"):
            _save(c, label)
        wait_for(lambda: engine.trains == 2 and c.get("/api/progress").json()["rounds"] == 2, what="a retrain")
        after = c.get("/api/progress").json()
        assert after["version"] != first and after["n_labelled"] == 9
        assert after["version"].startswith("tfidf-logreg-9-")
        assert after["estimate"].startswith("micro ") and "macro" in after["estimate"]  # 3 labels x 3 examples
        for label in ("bug", "docs"):  # two more: under N, no retrain
            _save(c, label)
        wait_for(lambda: c.get("/api/progress").json()["n_labelled"] == 11, what="the recount")
        wait_for(lambda: app.state.annotate.busy is None, what="the worker to go idle")
        assert engine.trains == 2


def test_the_page_answers_while_a_retrain_runs(store_path):
    app, engine = _app(store_path, engine_kwargs={"hold": True})
    with TestClient(app, base_url=BASE) as c:
        try:
            assert engine.entered.wait(60), "the worker never started training"
            wait_for(lambda: c.get("/api/progress").json()["pending"] > 0, what="the first batch")
            started = time.monotonic()
            page = c.get("/")
            shown = _save(c, "bug")
            progress = c.get("/api/progress").json()
            took = time.monotonic() - started
            assert page.status_code == 200 and 'id="issue"' in page.text
            assert progress["busy"].startswith("retraining") and progress["session"] == 1
            assert took < 5, f"page, save and progress took {took:.1f} s while the model trained"
            assert app.state.annotate.store.current_annotations()[-1].item_id == shown
        finally:
            engine.release.set()
        wait_for(lambda: c.get("/api/progress").json()["version"], what="the held training to finish")


def test_cold_start_with_no_labels_shows_diverse_issues_without_a_suggestion(tmp_path):
    from .conftest import make_store

    store = tmp_path / "cold.db"
    make_store(store, labelled=0)
    app, engine = _app(store)
    with TestClient(app, base_url=BASE) as c:
        wait_for(lambda: c.get("/api/progress").json()["pending"] > 0, what="the cold-start batch")
        wait_for(lambda: app.state.annotate.busy is None, what="the worker to go idle")
        html = c.get("/").text
        assert "picked: <span" in html and ">cold-start</span>" in html
        assert "no suggestion yet" in html and engine.trains == 0
        assert _form(html)["version"] == ""  # no model made this suggestion
        assert app.state.worker.rounds == 1
