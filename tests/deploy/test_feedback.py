"""fewtag feedback: counting from recorded label events and reactions (fetched from the fake GitHub)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fewtag.cli import app
from fewtag.deploy.config import parse_config
from fewtag.deploy.feedback import feedback_report, training_rows
from fewtag.deploy.triage import load_models, triage_issue
from fewtag.github.events import fetch_feedback
from fewtag.github.sync import fetch_repo
from tests.deploy.conftest import REPO
from tests.deploy.fake import BOT

CONFIG = {"labels": {"bug": {"threshold": 0.3}, "docs": {"threshold": 0.3}, "feature": {"threshold": 0.3}}}
BOTS = (BOT, "fewtag-bot")  # the fake's POST .../labels records its events as fewtag-bot


def scenario(gh, client, store, model_dir):
    """Four issues triaged; then people correct, confirm and react."""
    config = parse_config(CONFIG)
    models = load_models(config, model=model_dir)
    gh.add_issue(REPO, 1, "app crashes with segfault", "traceback error")  # bug: kept, 👍
    gh.add_issue(REPO, 2, "crash error in the parser", "segfault")  # bug: removed (wrong), 👎
    gh.add_issue(REPO, 3, "the readme docs have a typo", "docs typo")  # docs: kept; +feature missed
    gh.add_issue(REPO, 4, "something", "nothing at all")  # not triaged by fewtag
    for n in (1, 2, 3):
        triage_issue(REPO, n, config=config, models=models, client=client, store=store)
    gh.remove_label(REPO, 2, "bug", actor="maintainer")
    gh.add_label(REPO, 2, "docs", actor="maintainer")
    gh.add_label(REPO, 3, "feature", actor="maintainer")
    gh.add_label(REPO, 4, "bug", actor="maintainer")  # never triaged: not a miss
    c1 = gh.comments_of(REPO, 1)[0]["id"]
    c2 = gh.comments_of(REPO, 2)[0]["id"]
    gh.react(c1, "+1")
    gh.react(c1, "heart")
    gh.react(c2, "-1")
    gh.extra_labels.add("feature")
    fetch_repo(store, REPO, client=client)
    fetch_feedback(client, store, REPO)
    return config


def test_counts_from_events_and_reactions(gh, client, store, model_dir):
    config = scenario(gh, client, store, model_dir)
    assert [
        (e["number"], e["action"], e["label"], e["actor"]) for e in store.label_events(REPO) if e["number"] == 2
    ] == [
        (2, "labeled", "bug", "fewtag-bot"),
        (2, "unlabeled", "bug", "maintainer"),
        (2, "labeled", "docs", "maintainer"),
    ]
    report = feedback_report(store, REPO, config, bots=BOTS)
    rows = {r.label: r for r in report.labels}
    assert report.issues == 3
    assert (rows["bug"].added, rows["bug"].kept, rows["bug"].removed, rows["bug"].missed) == (2, 1, 1, 0)
    assert (rows["docs"].added, rows["docs"].kept, rows["docs"].missed) == (1, 1, 1)
    assert (rows["feature"].added, rows["feature"].missed) == (0, 1)
    assert rows["bug"].precision == 0.5 and rows["bug"].recall == 1.0 and rows["docs"].recall == 0.5
    assert (rows["bug"].thumbs_up, rows["bug"].thumbs_down) == (1, 1)
    assert not any(r.retired for r in report.labels)
    total = report.total()
    assert (total.added, total.kept, total.removed, total.missed) == (3, 2, 1, 2)


def test_a_window_and_retired_labels(gh, client, store, model_dir):
    config = scenario(gh, client, store, model_dir)
    assert feedback_report(store, REPO, config, since="2999-01-01T00:00:00Z", bots=BOTS).issues == 0
    gh.repos[REPO].issues[1]["labels"] = []  # 'bug' disappears from the repository's labels ...
    for n in (2, 4):
        gh.repos[REPO].issues[n]["labels"] = [x for x in gh.repos[REPO].issues[n]["labels"] if x != "bug"]
    fetch_feedback(client, store, REPO, numbers=[1])
    rows = {r.label: r for r in feedback_report(store, REPO, config, bots=BOTS).labels}
    assert rows["bug"].retired and not rows["docs"].retired  # ... but fewtag still predicts it


def test_training_rows_carry_the_corrections(gh, client, store, model_dir):
    config = scenario(gh, client, store, model_dir)
    rows = {r["id"]: r["labels"] for r in training_rows(store, REPO, config, bots=BOTS)}
    assert rows["2"] == ["docs"]  # the removed bug is a negative, the added docs a positive
    assert rows["3"] == ["docs", "feature"]  # the missed feature is there
    assert rows["4"] == ["bug"]
    assert "1" not in rows  # open, and only fewtag's label: nobody has looked yet


def test_cli_report_and_exports(gh, client, store, model_dir, tmp_path):
    scenario(gh, client, store, model_dir)
    cfg = tmp_path / "fewtag.yml"
    cfg.write_text(json.dumps(CONFIG))
    args = ["feedback", REPO, "--store", str(store.path), "--config", str(cfg), "--bot", BOT, "--bot", "fewtag-bot"]
    res = CliRunner().invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    got = {r["label"]: r for r in json.loads(res.output)["labels"]}
    assert got["bug"]["removed"] == 1 and got["docs"]["missed"] == 1
    res = CliRunner().invoke(
        app, [*args, "--export-training", str(tmp_path / "t.jsonl"), "--export-holdout", str(tmp_path / "h.jsonl")]
    )
    assert res.exit_code == 0, res.output
    assert "precision" in res.output
    n_train = len((tmp_path / "t.jsonl").read_text().splitlines())
    n_hold = len((tmp_path / "h.jsonl").read_text().splitlines())
    assert n_train + n_hold == 3 and n_hold == 1


def test_fetch_records_label_events_too(gh, client, store):
    gh.add_issue(REPO, 1, "app crashes", "")
    gh.add_label(REPO, 1, "bug", actor="maintainer")
    gh.remove_label(REPO, 1, "bug", actor="someone")
    result = fetch_repo(store, REPO, client=client, events=True)
    assert result.label_events == 2
    assert [(e["action"], e["actor"]) for e in store.label_events(REPO)] == [
        ("labeled", "maintainer"),
        ("unlabeled", "someone"),
    ]
