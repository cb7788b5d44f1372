"""fewtag fetch --events: the label events land in the store from the command line too."""

from __future__ import annotations

from typer.testing import CliRunner

from fewtag.cli import app
from fewtag.data.store import Store
from tests.deploy.conftest import REPO
from tests.github.fake_github import TOKEN


def test_fetch_events_flag_records_who_changed_which_label(gh, tmp_path):
    gh.add_issue(REPO, 1, "app crashes", "")
    gh.add_label(REPO, 1, "bug", actor="maintainer")
    gh.remove_label(REPO, 1, "bug", actor="someone")
    db = tmp_path / "s.db"
    args = ["fetch", REPO, "--store", str(db), "--api-url", gh.url]
    res = CliRunner().invoke(app, [*args, "--events"], env={"GITHUB_TOKEN": TOKEN})
    assert res.exit_code == 0, res.output
    assert "2 label events" in res.output
    with Store(db) as s:
        assert [(e["action"], e["actor"]) for e in s.label_events(REPO)] == [
            ("labeled", "maintainer"),
            ("unlabeled", "someone"),
        ]
    res = CliRunner().invoke(app, args, env={"GITHUB_TOKEN": TOKEN})
    assert res.exit_code == 0 and "label events" not in res.output
