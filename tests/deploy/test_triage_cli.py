"""`fewtag triage` on the command line: online with GITHUB_TOKEN / GITHUB_API_URL as fetch takes
them, and offline with --store DB --dry-run (what `make demo` shows)."""

from __future__ import annotations

from typer.testing import CliRunner

from fewtag.cli import app
from tests.deploy.conftest import REPO
from tests.github.fake_github import TOKEN

CONFIG = """
labels:
  bug: {description: "Something is broken", threshold: 0.5}
  docs: {description: "Documentation", threshold: 0.5}
max_labels: 2
default_label: needs-triage
"""


def config_file(tmp_path, text=CONFIG):
    path = tmp_path / "fewtag.yml"
    path.write_text(text)
    return str(path)


def test_online_with_token_and_api_url_from_the_environment(gh, model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    gh.add_issue(REPO, 3, "app crashes with segfault", "traceback error on load")
    args = ["triage", f"{REPO}#3", "--config", config_file(tmp_path), "--model", str(model_dir)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "added bug" in res.output and gh.labels_of(REPO, 3) == ["bug"]
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in gh.requests)
    res2 = CliRunner().invoke(app, [*args, "--json"])
    assert res2.exit_code == 0 and '"comment": "unchanged"' in res2.output
    assert len(gh.comments_of(REPO, 3)) == 1


def test_without_a_token_it_refuses_to_write(gh, model_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    gh.add_issue(REPO, 3, "app crashes with segfault", "")
    res = CliRunner().invoke(app, ["triage", f"{REPO}#3", "--config", config_file(tmp_path), "--model", str(model_dir)])
    assert res.exit_code == 1 and "needs a token" in res.output and gh.requests == []


def test_offline_store_dry_run_prints_labels_and_comment(gh, client, model_dir, tmp_path, monkeypatch):
    from fewtag.data.store import Store
    from fewtag.github.sync import fetch_repo

    gh.add_issue(REPO, 1, "segfault crash on start", "error everywhere", labels=["bug"])
    gh.add_issue(REPO, 2, "the readme docs have a typo", "", labels=["docs"])
    gh.add_issue(REPO, 3, "app crashes with segfault", "traceback error on load")
    db = tmp_path / "fewtag.db"
    with Store(db) as s:
        fetch_repo(s, REPO, client=client)
    seen = len(gh.requests)
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # nothing must be reached
    args = ["triage", f"{REPO}#3", "--config", config_file(tmp_path), "--model", str(model_dir)]
    res = CliRunner().invoke(app, [*args, "--store", str(db), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "would add bug" in res.output and "<!-- fewtag:triage" in res.output
    assert "[#1 segfault crash on start](https://github.com/octo/widgets/issues/1)" in res.output  # a neighbour
    assert len(gh.requests) == seen and gh.labels_of(REPO, 3) == []
    args[1] = f"{REPO}#99"
    missing = CliRunner().invoke(app, [*args, "--store", str(db), "--dry-run"])
    assert missing.exit_code != 0 and "not in the store" in str(missing.exception)
