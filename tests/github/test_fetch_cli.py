"""``fewtag fetch`` end to end: CliRunner, a killed subprocess, and the token's secrecy."""

from __future__ import annotations

import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401  (registers every command)
from fewtag.cli import app
from fewtag.data.store import Store
from tests.github.conftest import REPO, add_issues
from tests.github.fake_github import TOKEN

runner = CliRunner()


FAST = {"FEWTAG_GITHUB_BACKOFF": "0.01", "FEWTAG_GITHUB_TIMEOUT": "5", "COLUMNS": "300"}


def _invoke(args, env=None):
    return runner.invoke(app, args, env={"GITHUB_TOKEN": TOKEN, **FAST, **(env or {})})


def _count(db) -> int:
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        except sqlite3.OperationalError:  # the tables do not exist yet
            return 0


def _duplicates(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) - COUNT(DISTINCT number) FROM items").fetchone()[0]


def test_fetch_command(gh, tmp_path):
    add_issues(gh, 120, prs_every=6)
    db = tmp_path / "s.db"
    res = _invoke(["--quiet", "fetch", REPO, "--store", str(db), "--api-url", gh.url, "--comments"])
    assert res.exit_code == 0, res.output
    assert "120 items (100 issues, 20 pull requests): 120 new" in res.output
    assert "quota left" in res.output
    res = _invoke(["fetch", REPO, "--store", str(db), "--api-url", gh.url, "--since", "auto"])
    assert res.exit_code == 0 and "1 unchanged" in res.output
    assert _count(db) == 120


def test_api_url_from_environment_and_token_env(gh, tmp_path):
    add_issues(gh, 3)
    db = tmp_path / "s.db"
    res = runner.invoke(
        app,
        ["fetch", REPO, "--store", str(db), "--token-env", "MY_GH"],
        env={"GITHUB_API_URL": gh.url, "MY_GH": TOKEN, "GITHUB_TOKEN": ""},
    )
    assert res.exit_code == 0, res.output
    assert gh.calls()[-1]["auth"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "args, env, message",
    [
        ([REPO], {"GITHUB_TOKEN": "bad-token-xyz"}, "GitHub rejected the credentials (401 Bad credentials)"),
        (["nonsense"], {}, "expected a repository as OWNER/NAME"),
        ([REPO, "--since", "last week"], {}, "--since expects an ISO date"),
        ([REPO, "--state", "merged"], {}, "--state must be one of all, open, closed"),
    ],
)
def test_fetch_errors(gh, tmp_path, args, env, message):
    from fewtag.errors import TaggerError

    add_issues(gh, 3)
    res = _invoke(["fetch", *args, "--store", str(tmp_path / "s.db"), "--api-url", gh.url], env)
    assert res.exit_code != 0 and isinstance(res.exception, TaggerError)
    assert message in str(res.exception) and "\n" not in str(res.exception)
    assert "bad-token-xyz" not in str(res.exception) + res.output


def test_unknown_repo_is_one_red_line(gh, tmp_path):
    gh.add_repo(REPO)
    cmd = [
        sys.executable,
        "-c",
        "from fewtag.cli import main; main()",
        "fetch",
        "nobody/nothing",
        "--store",
        str(tmp_path / "s.db"),
        "--api-url",
        gh.url,
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=60, env={**os.environ, "GITHUB_TOKEN": TOKEN, **FAST}
    )
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [f"error: repository nobody/nothing not found at {gh.url} (or the token cannot see it)"]


def test_network_down_is_one_line(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = _invoke(["fetch", REPO, "--store", str(tmp_path / "s.db"), "--api-url", f"http://127.0.0.1:{port}"])
    assert res.exit_code != 0
    assert "network error" in str(res.exception) or "network error" in res.output


def _spawn(gh, db):
    cmd = [
        sys.executable,
        "-c",
        "from fewtag.cli import main; main()",
        "--quiet",
        "fetch",
        REPO,
        "--store",
        str(db),
        "--since",
        "auto",
        "--comments",
        "--api-url",
        gh.url,
    ]
    return subprocess.Popen(
        cmd, env={**os.environ, "GITHUB_TOKEN": TOKEN, **FAST}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_kill_mid_fetch_then_resume_gives_every_item_once(gh, tmp_path):
    add_issues(gh, 450, prs_every=9)
    for n in (50, 150, 250, 350):
        gh.add_comment(REPO, n, f"comment on {n}", bump=False)
    db = tmp_path / "s.db"
    # 1. a kill while the third page is in flight: the first two pages are in, whole
    gh.add_fault("/issues", kind="hold", query="page=3", delay=30)
    proc = _spawn(gh, db)
    try:
        assert gh.held.wait(30), "the fetch never reached page 3"
        assert _count(db) == 200
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        gh.release()
    assert _count(db) == 200 and _duplicates(db) == 0
    gh.faults.clear()
    # 2. kills at random moments (a fixed seed keeps it repeatable), each followed by a check
    rnd = random.Random(0)
    gh.add_fault("/issues", kind="slow", delay=0.2, times=-1)  # stretch each page so kills land mid-fetch
    for _ in range(2):
        gh.update_issue(REPO, rnd.randint(1, 450), title="edited meanwhile")
        before = len(gh.calls("GET", "/issues"))
        proc = _spawn(gh, db)
        deadline = time.monotonic() + 30
        while len(gh.calls("GET", "/issues")) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rnd.uniform(0.0, 0.5))
        proc.kill()
        proc.wait(10)
        assert _duplicates(db) == 0
    gh.faults.clear()
    # 3. an uninterrupted rerun completes it
    proc = _spawn(gh, db)
    assert proc.wait(60) == 0, proc.stderr.read().decode()
    with Store(db) as s:
        got = sorted(i.number for i in s.items(REPO))
        assert got == list(range(1, 451))
        for n, issue in gh.repos[REPO].issues.items():
            assert s.get_item(REPO, n).title == issue["title"]
        ncomments = s.conn.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
    assert ncomments == 4


def test_token_never_appears_in_output_logs_or_store(gh, tmp_path, caplog):
    add_issues(gh, 150)
    gh.add_fault("/issues", status=502, times=2)
    gh.add_fault("/issues", status=429, retry_after=0, times=1)
    gh.add_fault("/issues", kind="truncated", times=1)
    db = tmp_path / "s.db"
    caplog.set_level(logging.DEBUG)
    outputs = []
    res = _invoke(["--verbose", "fetch", REPO, "--store", str(db), "--api-url", gh.url, "--comments"])
    assert res.exit_code == 0, res.output
    outputs.append(res.output)
    res = _invoke(["--verbose", "fetch", "nobody/nothing", "--store", str(db), "--api-url", gh.url])  # 404
    assert res.exit_code != 0
    outputs += [res.output, str(res.exception), repr(res.exception)]
    for args, env in [
        ([REPO, "--api-url", gh.url], {"GITHUB_TOKEN": TOKEN + "x"}),  # 401: wrong token
        ([REPO, "--api-url", "http://127.0.0.1:9"], {}),
    ]:  # network down
        cmd = [
            sys.executable,
            "-c",
            "from fewtag.cli import main; main()",
            "--verbose",
            "fetch",
            *args,
            "--store",
            str(db),
        ]
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "GITHUB_TOKEN": TOKEN, **FAST, **env}
        )
        assert proc.returncode != 0
        outputs += [proc.stdout, proc.stderr]
    from fewtag.github.client import GitHubClient

    client = GitHubClient(TOKEN, gh.url)
    outputs += [repr(client), str(vars(client))]
    client.close()
    for text in outputs + [caplog.text]:
        assert TOKEN not in text
        assert TOKEN[4:20] not in text
    for path in tmp_path.iterdir():
        assert TOKEN.encode() not in path.read_bytes(), path


def test_rate_limit_wait_is_visible_and_fetch_completes(tmp_path):
    from tests.github.fake_github import FakeGitHub

    with FakeGitHub(window=1.0) as gh:  # a quota window of one second: a short real wait
        add_issues(gh, 150)
        gh.add_fault("/issues", query="page=2", kind="exhaust")
        t0 = time.monotonic()
        res = _invoke(["fetch", REPO, "--store", str(tmp_path / "s.db"), "--api-url", gh.url])
        assert res.exit_code == 0, res.output
        assert "primary rate limit exceeded: waiting" in res.output
        assert "150 items" in res.output and time.monotonic() - t0 < 10
        res = _invoke(["--quiet", "fetch", REPO, "--store", str(tmp_path / "q.db"), "--api-url", gh.url])
        assert "waiting" not in res.output
