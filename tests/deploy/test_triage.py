"""fewtag triage of one issue against the fake GitHub over loopback: labels, one comment,
edit on rerun, removed labels never re-added, excluded authors, dry run, aliases, families."""

from __future__ import annotations

import pytest

from fewtag.deploy.comment import MARKER, comment_state
from fewtag.deploy.config import parse_config
from fewtag.deploy.triage import load_models, parse_issue, triage_issue
from fewtag.errors import ConfigError, InputError
from tests.deploy.conftest import REPO, fit_model

BASE = {
    "labels": {
        "bug": {"description": "Something is broken", "aliases": ["type: bug"], "threshold": 0.5},
        "docs": {"description": "Documentation", "threshold": 0.5},
    },
    "max_labels": 2,
    "exclude_authors": ["dependabot[bot]"],
}


def cfg(**over):
    return parse_config({**BASE, **over})


def writes(gh):
    return [r for r in gh.requests if r["method"] in ("POST", "PATCH", "PUT", "DELETE")]


def run(gh, client, model_dir, config=None, number=1, **kw):
    config = config or cfg()
    return triage_issue(REPO, number, config=config, models=load_models(config, model=model_dir), client=client, **kw)


def test_labels_and_one_comment(gh, client, model_dir):
    gh.add_issue(REPO, 1, "app crashes with segfault", "a traceback error on start")
    res = run(gh, client, model_dir)
    assert res.added == ["bug"]
    assert gh.labels_of(REPO, 1) == ["bug"]
    [comment] = gh.comments_of(REPO, 1)
    assert comment["body"].startswith(MARKER) and res.comment_action == "created"
    assert comment_state(comment["body"])["added"] == {"bug": round(res.candidates[0].score, 2)}
    body = comment["body"]
    assert "fewtag added `bug`" in body and "| `bug` |" in body
    assert "crash" in body or "segfault" in body  # the words that weighed most (a linear model)
    assert "feature" not in [a.label for a in res.actions]  # not allow-listed: never touched


def test_rerun_is_idempotent_and_edits_the_comment(gh, client, model_dir):
    gh.add_issue(REPO, 1, "app crashes with segfault", "a traceback error on start")
    run(gh, client, model_dir)
    before = len(writes(gh))
    again = run(gh, client, model_dir)
    assert again.added == [] and again.comment_action == "unchanged"
    assert len(writes(gh)) == before  # nothing posted, nothing edited
    gh.update_issue(REPO, 1, body="crash, and the readme docs have a typo too")
    third = run(gh, client, model_dir)
    assert len(gh.comments_of(REPO, 1)) == 1
    assert third.comment_action == "edited"
    assert [r["method"] for r in writes(gh)[before:]].count("PATCH") == 1


def test_a_label_a_human_removed_is_never_re_added(gh, client, model_dir, store):
    gh.add_issue(REPO, 1, "app crashes with segfault", "a traceback error on start")
    run(gh, client, model_dir, store=store)
    gh.remove_label(REPO, 1, "bug")
    res = run(gh, client, model_dir, store=store)
    assert "bug" not in gh.labels_of(REPO, 1)
    assert [(a.label, a.action) for a in res.actions] == [("bug", "skipped")]
    # a fresh runner (no store), as in GitHub Actions: the events and the comment's state still say no
    fresh = run(gh, client, model_dir)
    assert fresh.added == [] and "bug" not in gh.labels_of(REPO, 1)
    [comment] = gh.comments_of(REPO, 1)
    assert comment_state(comment["body"])["removed"] == ["bug"] and "never added again" in comment["body"]


def test_excluded_author_is_skipped(gh, client, model_dir):
    gh.add_issue(REPO, 1, "app crashes with segfault", "a traceback error on start")
    gh.update_issue(REPO, 1, user="dependabot[bot]")
    res = run(gh, client, model_dir)
    assert res.skipped and "dependabot[bot]" in res.skipped
    assert writes(gh) == [] and gh.comments_of(REPO, 1) == []


def test_pull_requests_are_skipped(gh, client, model_dir):
    gh.add_issue(REPO, 1, "fix crash with segfault", "", is_pr=True)
    assert run(gh, client, model_dir).skipped == "a pull request" and writes(gh) == []


def test_dry_run_writes_nothing(gh, client, model_dir):
    gh.add_issue(REPO, 1, "app crashes with segfault", "a traceback error on start")
    res = run(gh, client, model_dir, dry_run=True)
    assert res.added == ["bug"] and res.comment_action == "planned" and res.comment.startswith(MARKER)
    assert writes(gh) == [] and gh.labels_of(REPO, 1) == []
    cfg_dry = cfg(dry_run=True)  # the config's dry_run does the same
    assert run(gh, client, model_dir, config=cfg_dry).added == ["bug"] and writes(gh) == []


def test_alias_on_the_issue_counts_as_the_tag(gh, client, model_dir):
    gh.add_issue(REPO, 1, "app crashes with segfault", "a traceback error", labels=["type: bug"])
    res = run(gh, client, model_dir)
    assert res.added == [] and gh.labels_of(REPO, 1) == ["type: bug"]


def test_a_model_trained_on_an_alias_writes_the_tag(gh, client, tmp_path):
    from tests.deploy.conftest import TRAIN

    aliased = fit_model(tmp_path / "aliased", {("type: bug" if k == "bug" else k): v for k, v in TRAIN.items()})
    gh.add_issue(REPO, 1, "app crashes with segfault", "a traceback error on start")
    assert run(gh, client, aliased).added == ["bug"]


def test_default_label_when_fewtag_abstains(gh, client, model_dir):
    gh.add_issue(REPO, 1, "something about the thing", "nothing in particular")
    strict = cfg(labels={"bug": {"threshold": 0.99}, "docs": {"threshold": 0.99}}, default_label="needs-triage")
    res = run(gh, client, model_dir, config=strict)
    assert res.added == ["needs-triage"] and gh.labels_of(REPO, 1) == ["needs-triage"]
    [comment] = gh.comments_of(REPO, 1)
    assert "not sure enough" in comment["body"] and "needs-triage" in comment["body"]
    assert run(gh, client, model_dir, config=strict).comment_action == "unchanged"


def test_max_labels_caps_the_picks(gh, client, model_dir):
    gh.add_issue(REPO, 1, "crash error in the readme docs typo", "segfault traceback, docs outdated")
    loose = cfg(labels={"bug": {"threshold": 0.05}, "docs": {"threshold": 0.05}}, max_labels=1)
    res = run(gh, client, model_dir, config=loose)
    assert len(res.added) == 1


def test_families_one_model_each(gh, client, model_dir, tmp_path):
    area = fit_model(
        tmp_path / "area",
        {
            "area: cli": ["the command line flag", "cli option parse", "terminal command fails", "cli args"],
            "area: hub": ["upload to the hub", "hub download slow", "push to hub fails", "hub repo token"],
        },
        multi_label=False,
    )
    config = parse_config({**BASE, "families": {"area": {"labels": ["area: cli", "area: hub"], "model": str(area)}}})
    gh.add_issue(
        REPO, 1, "app crashes with segfault when the cli flag is given", "traceback error from the command line"
    )
    res = run(gh, client, model_dir, config=config)
    assert "bug" in res.added and len([x for x in res.added if x.startswith("area: ")]) == 1


def test_offline_needs_dry_run_and_a_stored_issue(model_dir, store):
    config = cfg()
    models = load_models(config, model=model_dir)
    with pytest.raises(InputError, match="--dry-run"):
        triage_issue(REPO, 1, config=config, models=models, store=store)
    with pytest.raises(InputError, match="not in the store"):
        triage_issue(REPO, 1, config=config, models=models, store=store, dry_run=True)


def test_model_sources_that_need_the_action(model_dir):
    with pytest.raises(ConfigError, match="release asset URL"):
        load_models(cfg(model="https://example.invalid/m.tar.gz"))
    with pytest.raises(ConfigError, match="cache key"):
        load_models(cfg(model="cache:fewtag-model"))
    with pytest.raises(InputError, match="does not exist"):
        load_models(cfg(model="/nonexistent/model"))
    with pytest.raises(ConfigError, match="predicts none"):
        load_models(parse_config({"labels": ["x", "y"]}), model=model_dir)


def test_parse_issue():
    assert parse_issue("octo/widgets#7") == ("octo/widgets", 7)
    for bad in ("octo/widgets", "octo#7", "../x#1", "o/r#x"):
        with pytest.raises(InputError):
            parse_issue(bad)


def test_a_marker_comment_by_someone_else_is_not_edited(gh, client, model_dir):
    gh.add_issue(REPO, 1, "app crashes with segfault", "a traceback error on start")
    gh.add_comment(REPO, 1, '<!-- fewtag:triage {"added": {}, "removed": []} -->\nI wrote this by hand')
    first = run(gh, client, model_dir)
    assert first.comment_action == "created" and first.added == ["bug"]
    comments = gh.comments_of(REPO, 1)
    assert len(comments) == 2 and comments[0]["body"].endswith("I wrote this by hand")
    assert run(gh, client, model_dir).comment_action == "unchanged"  # it finds its own (a bot's) comment
    assert len(gh.comments_of(REPO, 1)) == 2


def test_a_comment_template(gh, client, model_dir):
    gh.add_issue(REPO, 1, "app crashes with segfault", "a traceback error on start")
    res = run(gh, client, model_dir, config=cfg(comment="Labels: {labels}\n\n{words}"))
    [comment] = gh.comments_of(REPO, 1)
    assert comment["body"].startswith(MARKER) and "Labels: fewtag added `bug`" in comment["body"]
    assert "| label |" not in comment["body"] and res.comment_action == "created"
    assert run(gh, client, model_dir, config=cfg(comment=False)).comment is None
