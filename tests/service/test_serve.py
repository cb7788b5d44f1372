"""`fewtag serve` as a real process: start-up faults and one real uvicorn server.

The three processes start together (module fixture) because each start
imports the whole CLI, which takes seconds on a busy machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

FEWTAG = str(Path(sys.executable).parent / "fewtag")
TOKEN = "serve-test-token-0123456789"
# wide COLUMNS: rich would otherwise wrap the one error line at 80 columns
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "400", "FEWTAG_API_TOKEN": TOKEN}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def launched(model_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    bad_json = tmp / "bad-json"
    shutil.copytree(model_dir, bad_json)
    (bad_json / "fewtag.json").write_text("{not json")
    port = _free_port()
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "env": ENV}
    procs = {
        "missing": subprocess.Popen([FEWTAG, "serve", str(tmp / "nope"), "--port", "9"], **pipes),
        "corrupt": subprocess.Popen([FEWTAG, "serve", str(bad_json), "--port", "9"], **pipes),
        "server": subprocess.Popen(
            [FEWTAG, "serve", str(model_dir), "--port", str(port), "--log-level", "warning"], **pipes
        ),
    }
    yield procs, f"http://127.0.0.1:{port}"
    for p in procs.values():
        if p.poll() is None:
            p.terminate()
        p.communicate(timeout=30)


def _one_line_error(proc: subprocess.Popen, needle: str) -> None:
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error:") and needle in lines[0], lines[0]


def test_missing_model_dir_exits_with_one_line(launched):
    _one_line_error(launched[0]["missing"], "does not exist")


def test_corrupt_model_dir_exits_with_one_line(launched):
    _one_line_error(launched[0]["corrupt"], "corrupt")


def test_every_corrupt_model_dir_is_a_model_file_error(tmp_path, model_dir):
    """What `fewtag serve` checks before binding the port (in-process: subprocesses are slow)."""
    from fewtag.errors import ModelFileError
    from fewtag.service.app import load_service_model

    no_meta = tmp_path / "empty"
    no_meta.mkdir()
    bad_weights = tmp_path / "bad-weights"
    shutil.copytree(model_dir, bad_weights)
    for f in bad_weights.iterdir():
        if f.name != "fewtag.json":
            f.write_bytes(b"\x00garbage")
    for path, needle in [
        (no_meta, "fewtag.json is missing"),
        (bad_weights, "cannot load"),
        (tmp_path / "nope", "does not exist"),
        (None, "no model to serve"),
    ]:
        with pytest.raises(ModelFileError, match=needle):
            load_service_model(str(path) if path else None)


def test_real_server_on_loopback(launched):
    procs, base = launched
    proc = procs["server"]
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"server did not start: {proc.communicate(timeout=5)[1]}")
        time.sleep(0.2)
    r = httpx.post(
        f"{base}/v1/predict",
        json={"items": [{"id": 1, "text": "typo in the docs"}]},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert r.status_code == 200 and r.json()["predictions"][0]["labels"] == ["documentation"]
    assert httpx.post(f"{base}/v1/predict", json={"items": []}).status_code == 401
    assert "fewtag_requests_total" in httpx.get(f"{base}/metrics").text
