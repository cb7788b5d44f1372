"""Label write-back against the fake server: plan, dry run, real write, never re-add."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401
from fewtag.cli import app
from fewtag.github.apply import apply_labels, apply_to_issue, plan_labels
from fewtag.github.sync import fetch_repo
from tests.github.conftest import REPO
from tests.github.fake_github import TOKEN

TRAIN = {
    "bug": [
        "app crashes with segfault on start",
        "error when saving crash traceback",
        "exception thrown crash on load",
        "segfault error in parser crash",
    ],
    "docs": [
        "typo in the readme docs",
        "documentation page is outdated docs",
        "docs example in readme is wrong",
        "missing docs for the api readme",
    ],
    "feature": [
        "please add support for yaml feature",
        "feature request: dark mode support",
        "add an option to export feature",
        "support plugins feature request",
    ],
}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from fewtag.registry import get_method

    texts = [t for texts in TRAIN.values() for t in texts]
    labels = [[lab] for lab, texts in TRAIN.items() for _ in texts]
    tagger = get_method("naive-bayes")().fit(texts, labels, multi_label=True)
    return tagger.save(tmp_path_factory.mktemp("model") / "nb")


@pytest.fixture
def tagger(model_dir):
    from fewtag.registry import load_tagger

    return load_tagger(model_dir)


@pytest.fixture
def synced(gh, make_client, store):
    gh.add_issue(REPO, 1, "crash with segfault on start", "the app crashes, error everywhere")
    gh.add_issue(REPO, 2, "readme docs have a typo", None, labels=["triage"])
    gh.add_issue(REPO, 3, "feature request: support yaml", "please add support")
    gh.add_issue(REPO, 4, "crash segfault error", "closed already", state="closed")
    gh.add_issue(REPO, 5, "crash in parser segfault", "a PR fixing it", is_pr=True)
    gh.add_issue(REPO, 6, "docs readme typo again", "", labels=["docs"])
    fetch_repo(store, REPO, client=make_client())
    return store


def test_plan_covers_open_issues_only(tagger, synced):
    plans = {p.number: p for p in plan_labels(tagger, synced.items(REPO))}
    assert set(plans) == {1, 2, 3}  # 4 closed, 5 a PR, 6 already has its label
    assert [lab for lab, _ in plans[1].new] == ["bug"]
    assert [lab for lab, _ in plans[2].new] == ["docs"]
    assert all(0 <= s <= 1 for p in plans.values() for _, s in p.suggestions)
    only = plan_labels(tagger, synced.items(REPO), only_unlabelled=True)
    assert {p.number for p in only} == {1, 3}
    assert len(plan_labels(tagger, synced.items(REPO), max_issues=1)) == 1
    assert plan_labels(tagger, synced.items(REPO), min_score=1.0) == []


def test_dry_run_posts_nothing_and_records_nothing(gh, make_client, tagger, synced):
    actions = apply_labels(tagger, synced, REPO, client=make_client(), dry_run=True)
    assert {(a.number, a.label, a.action) for a in actions} == {
        (1, "bug", "planned"),
        (2, "docs", "planned"),
        (3, "feature", "planned"),
    }
    assert not gh.calls("POST")
    assert synced.conn.execute("SELECT COUNT(*) FROM label_actions").fetchone()[0] == 0
    assert gh.repos[REPO].issues[1]["labels"] == []


def test_real_write_adds_labels_and_records_them(gh, make_client, tagger, synced):
    actions = apply_labels(tagger, synced, REPO, client=make_client(), model="nb")
    assert sorted((a.number, a.label, a.action) for a in actions) == [
        (1, "bug", "added"),
        (2, "docs", "added"),
        (3, "feature", "added"),
    ]
    posts = gh.calls("POST")
    assert sorted(p["path"] for p in posts) == [f"/repos/{REPO}/issues/{n}/labels" for n in (1, 2, 3)]
    assert gh.repos[REPO].issues[2]["labels"] == ["triage", "docs"]  # the human's label is kept
    assert synced.get_item(REPO, 2).labels == ["triage", "docs"]
    rows = synced.conn.execute("SELECT number, label, action, model FROM label_actions ORDER BY number").fetchall()
    assert rows == [(1, "bug", "added", "nb"), (2, "docs", "added", "nb"), (3, "feature", "added", "nb")]
    # a second run has nothing left to do
    assert apply_labels(tagger, synced, REPO, client=make_client()) == []
    assert len(gh.calls("POST")) == 3


def test_never_re_adds_a_label_a_human_removed(gh, make_client, tagger, synced):
    apply_labels(tagger, synced, REPO, client=make_client())
    gh.remove_label(REPO, 1, "bug")  # a maintainer disagrees
    fetch_repo(synced, REPO, client=make_client(), since="auto")
    assert synced.get_item(REPO, 1).labels == []
    posts = len(gh.calls("POST"))
    actions = apply_labels(tagger, synced, REPO, client=make_client())
    assert [(a.number, a.label, a.action) for a in actions] == [(1, "bug", "skipped")]
    assert "removed by a human" in actions[0].reason
    assert len(gh.calls("POST")) == posts and gh.repos[REPO].issues[1]["labels"] == []
    # the local record alone is enough, even without reading events
    acts = apply_to_issue(make_client(), synced, REPO, 1, {"bug": 0.9}, check_events=False)
    assert acts[0].action == "skipped" and "local record" in acts[0].reason


def test_events_alone_block_a_label_removed_before_fewtag_ever_ran(gh, make_client, synced):
    gh.update_issue(REPO, 3, labels=["feature"])
    gh.remove_label(REPO, 3, "feature")
    acts = apply_to_issue(make_client(), synced, REPO, 3, [("feature", 0.8), ("bug", 0.6)], current_labels=[])
    assert [(a.label, a.action) for a in acts] == [("feature", "skipped"), ("bug", "added")]
    assert gh.repos[REPO].issues[3]["labels"] == ["bug"]


def test_failed_post_is_recorded_as_failed(gh, make_client, synced):
    gh.add_fault("/labels", method="POST", status=422, times=1)
    acts = apply_to_issue(make_client(), synced, REPO, 1, {"bug": 0.9})
    assert [a.action for a in acts] == ["failed"] and "422" in acts[0].reason
    assert synced.conn.execute("SELECT action FROM label_actions").fetchall() == [("failed",)]


def test_apply_cli_dry_run_table_and_real_run(gh, synced, model_dir):
    runner = CliRunner()
    env = {"GITHUB_TOKEN": TOKEN, "COLUMNS": "200"}
    base = [str(model_dir), REPO, "--store", synced.path, "--api-url", gh.url]
    res = runner.invoke(app, ["apply", *base, "--dry-run"], env=env)
    assert res.exit_code == 0, res.output
    assert "dry run, nothing changed" in res.output and "#1" in res.output and "planned" in res.output
    assert not gh.calls("POST")
    res = runner.invoke(app, ["apply", *base, "--max", "1", "--min-score", "0.5"], env=env)
    assert res.exit_code == 0, res.output
    assert len(gh.calls("POST")) == 1 and "added" in res.output
    res = runner.invoke(app, ["apply", *base], env={"GITHUB_TOKEN": "", "COLUMNS": "200"})
    assert res.exit_code == 1 and "writing labels needs a token" in res.output
    res = runner.invoke(app, ["apply", *base, "--min-score", "1.5"], env=env)
    assert res.exit_code != 0 and "--min-score must be between 0 and 1" in str(res.exception)


def test_suggest_labels_for_one_text(tagger):
    from fewtag.github.apply import suggest_labels

    [picked] = suggest_labels(tagger, ["segfault crash on start with an error"])
    assert picked[0][0] == "bug" and 0.5 <= picked[0][1] <= 1
    assert suggest_labels(tagger, []) == []
    everything = suggest_labels(tagger, ["anything"], min_score=0.0)[0]
    assert sorted(lab for lab, _ in everything) == ["bug", "docs", "feature"]
    assert [s for _, s in everything] == sorted((s for _, s in everything), reverse=True)


def test_items_without_an_issue_number_are_not_planned(tagger):
    from fewtag.data.store import Item

    items = [
        Item("local/notes", "abc123", title="crash segfault error"),
        Item("o/r", "9", title="crash segfault error", number=9, state="open"),
    ]
    assert [p.number for p in plan_labels(tagger, items)] == [9]
