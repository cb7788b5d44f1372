"""One text path: a record gives the same model input on every path (STYLE rule 16).

The record is an issue whose body has everything the clean-up removes (an HTML
comment, a template heading, a checklist, a long code block). Its text is
taken from ``prepare``, ``train FILE`` (the labelled-file reader), ``predict``,
``fewtag apply``'s planner, the service's ``/v1/predict`` and the webhook's job;
all must equal ``TextSpec.text_of`` with the model's saved settings.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from fewtag.data.config import PrepareConfig
from fewtag.data.labelled import read_labelled_file
from fewtag.data.prepare import prepare_items
from fewtag.data.store import Item
from fewtag.data.text import TextSpec
from fewtag.methods.naive_bayes import NaiveBayesTagger
from fewtag.pipeline import predict_records, read_predict_input
from fewtag.registry import load_tagger

TITLE = "Crash when loading a parquet file"
BODY = (
    "<!-- Thanks for filing an issue! -->\n### Describe the bug\nload_dataset fails with a traceback\n"
    "- [x] I searched the issues\n```python\n" + "\n".join(f"line {i}" for i in range(20)) + "\n```\n"
)


class Recorder(NaiveBayesTagger):
    """Naive Bayes that remembers every text it was asked to score."""

    seen: list[str] = []

    def _scores(self, texts):
        Recorder.seen.extend(texts)
        return super()._scores(texts)


@pytest.fixture
def model(tmp_path):
    spec = TextSpec(code_blocks="shorten", max_chars=200)
    texts = ["crash traceback error", "add an option please", "crash on save", "new option request"]
    t = Recorder().fit(texts, ["bug", "feature", "bug", "feature"], text=spec)
    t.save(tmp_path / "m")
    Recorder.seen = []
    return t, spec


def expected(spec: TextSpec) -> str:
    return spec.text_of({"title": TITLE, "body": BODY})


def test_the_text_settings_are_saved_and_loaded(model, tmp_path):
    t, spec = model
    meta = json.loads((tmp_path / "m" / "fewtag.json").read_text())
    assert meta["text"] == {"clean": True, "code_blocks": "shorten", "max_chars": 200}
    assert load_tagger(tmp_path / "m").text_of({"title": TITLE, "body": BODY}) == expected(spec)
    assert "Describe the bug" not in expected(spec) and "Thanks" not in expected(spec)


def test_prepare_and_train_file_build_the_same_text(tmp_path):
    spec = TextSpec()
    items = [
        Item(
            repo="o/r",
            id=str(i),
            number=i,
            title=TITLE if i == 0 else f"other issue {i}",
            body=BODY if i == 0 else "x",
            labels=["bug" if i % 2 else "docs"],
        )
        for i in range(40)
    ]
    prepared = prepare_items(items, PrepareConfig(min_count=1))
    ds = prepared.dataset
    all_texts = ds.train.texts + ds.valid.texts + ds.test.texts
    assert expected(spec) in all_texts
    f = tmp_path / "train.jsonl"
    f.write_text(
        "".join(
            json.dumps({"id": it.id, "title": it.title, "body": it.body, "labels": it.labels}) + "\n" for it in items
        )
    )
    assert read_labelled_file(f, text=spec).texts[0] == expected(spec)


def test_predict_uses_the_model_text_path(model):
    t, spec = model
    lines = json.dumps({"id": 1, "title": TITLE, "body": BODY}) + "\n"
    list(predict_records(t, read_predict_input(io.StringIO(lines), "<stdin>")))
    assert Recorder.seen == [expected(spec)]


def test_apply_plans_from_the_model_text_path(model):
    from fewtag.github.apply import plan_labels

    t, spec = model
    plan_labels(t, [Item(repo="o/r", id="1", number=1, title=TITLE, body=BODY, state="open")])
    assert Recorder.seen == [expected(spec)]


def test_service_and_webhook_use_the_model_text_path(model):
    pytest.importorskip("fastapi")
    from fewtag.service.webhook import IssueJob

    t, spec = model
    from fastapi.testclient import TestClient

    from fewtag.service import ServiceSettings, create_app

    with TestClient(create_app(ServiceSettings(model="unused"), tagger=t)) as client:
        Recorder.seen = []
        r = client.post("/v1/predict", json={"items": [{"id": "1", "title": TITLE, "body": BODY}]})
        assert r.status_code == 200, r.text
    assert Recorder.seen == [expected(spec)]
    job = IssueJob("d", "issues", "o/r", 1, TITLE, BODY, [])
    assert t.text_of(job.record()) == expected(spec)
    assert np.all(t.predict_proba([t.text_of(job.record())]) >= 0)


def test_distill_reads_unlabelled_files_through_the_model_text_path(tmp_path):
    from fewtag.distill.data import read_distill_data

    spec = TextSpec(max_chars=200)
    labelled = tmp_path / "train.jsonl"
    rows = [
        {"title": TITLE, "body": BODY, "label": "bug"},
        {"title": "Crash on save", "label": "bug"},
        {"title": "Add a flag", "label": "feature"},
        {"title": "Support YAML", "label": "feature"},
    ]
    labelled.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"title": TITLE, "body": BODY}) + "\n", encoding="utf-8")
    data = read_distill_data(labelled, unlabelled=more, text=spec)
    assert data.unlabelled[-1] == spec.text_of({"title": TITLE, "body": BODY}) in data.train.texts
