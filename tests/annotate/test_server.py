"""``fewtag annotate`` as a real process: refused without a token off loopback, and a SIGKILL
mid-session loses nothing that was saved."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fewtag.data.store import Store

from .conftest import REPO

FEWTAG = str(Path(sys.executable).parent / "fewtag")
# wide COLUMNS: rich would otherwise wrap the one error line at 80 columns
ENV = {k: v for k, v in os.environ.items() if k != "FEWTAG_ANNOTATE_TOKEN"} | {"HF_HUB_OFFLINE": "1", "COLUMNS": "400"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(store: Path, port: int) -> subprocess.Popen:
    cmd = [FEWTAG, "annotate", "--store", str(store), "--labels", "bug,docs,question", "--port", str(port)]
    return subprocess.Popen([*cmd, "--who", "ana"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _ready(proc: subprocess.Popen, base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/api/progress", timeout=2).json()["pending"] > 0:
                return
        except (httpx.TransportError, ValueError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the page did not start: {proc.communicate(timeout=10)}")
        time.sleep(0.2)


def test_off_loopback_without_a_token_the_command_stops_with_one_line(store_path):
    cmd = [FEWTAG, "annotate", "--store", str(store_path), "--labels", "bug,docs", "--host", "0.0.0.0"]
    proc = subprocess.run([*cmd, "--port", "9"], env=ENV, capture_output=True, text=True, timeout=120)
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: --host 0.0.0.0 is not loopback: set FEWTAG_ANNOTATE_TOKEN"), lines[0]


@pytest.mark.parametrize(
    ("host", "token", "needle"),
    [
        ("0.0.0.0", None, "is not loopback: set FEWTAG_ANNOTATE_TOKEN"),
        ("192.168.1.20", None, "is not loopback"),
        ("0.0.0.0", "", "FEWTAG_ANNOTATE_TOKEN is set but empty"),
        ("0.0.0.0", "tooshort", "FEWTAG_ANNOTATE_TOKEN has 8 characters, fewer than 16"),
        ("127.0.0.1", "   ", "FEWTAG_ANNOTATE_TOKEN is set but only whitespace"),
        ("0.0.0.0", " a-long-enough-token-1 ", "spaces or a newline around it"),
    ],
)
def test_unusable_access_settings_are_refused_by_the_command(store_path, monkeypatch, host, token, needle):
    from typer.testing import CliRunner

    from fewtag.cli import app
    from fewtag.errors import ConfigError

    if token is None:
        monkeypatch.delenv("FEWTAG_ANNOTATE_TOKEN", raising=False)
    else:
        monkeypatch.setenv("FEWTAG_ANNOTATE_TOKEN", token)
    args = ["annotate", "--store", str(store_path), "--labels", "bug,docs", "--host", host, "--port", "9"]
    result = CliRunner().invoke(app, args)
    assert isinstance(result.exception, ConfigError) and needle in str(result.exception)


def test_loopback_ipv6_and_localhost_need_no_token():
    from fewtag.annotate import AnnotateSettings, check_access

    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_access(AnnotateSettings(store="s.db", host=host))
    check_access(AnnotateSettings(store="s.db", host="0.0.0.0", token="a-long-enough-token-1"))
    check_access(AnnotateSettings(store="s.db", host="0.0.0.0", token="short", allow_weak_secret=True))


@pytest.mark.slow
def test_sigkill_mid_session_loses_nothing_saved(store_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(store_path, port)
    try:
        _ready(proc, base)
        saved = []
        with httpx.Client(base_url=base, follow_redirects=True) as c:
            for label in ("docs", "bug"):
                html = c.get("/").text
                fields = dict(
                    re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html.split("</form>")[0])
                )
                r = c.post("/save", data={**fields, "label": label})
                assert r.status_code == 200 and "Saved." in r.text
                saved.append((fields["id"], label))
        os.kill(proc.pid, signal.SIGKILL)  # no shutdown, no flush: what was answered must be on disk
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
    with Store(store_path) as s:
        rows = [(a.item_id, a.labels[0]) for a in s.current_annotations()]
        assert rows == saved and {a.source for a in s.current_annotations()} == {"human"}
    port = _free_port()
    proc = _start(store_path, port)
    try:
        _ready(proc, f"http://127.0.0.1:{port}")
        progress = httpx.get(f"http://127.0.0.1:{port}/api/progress").json()
        assert progress["n_labelled"] == 6 + 2
        shown = re.search(r'data-id="([^"]+)"', httpx.get(f"http://127.0.0.1:{port}/").text).group(1)
        assert shown not in {i for i, _ in saved}
        with Store(store_path) as s:
            assert all(s.get_item(REPO, i) is not None for i, _ in saved)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
