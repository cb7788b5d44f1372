"""``fewtag tag --engine ray`` on a local Ray instance with 2 CPUs (issue 16). Slow: Ray starts in seconds.

The predictions must be exactly those of ``--engine local`` (labels, every score, abstained), an
actor killed mid-run must not lose or double an item, and ``--address`` must join a running cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fewtag.data.store import Store
from fewtag.engine import model_key, tag_store

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
N_SELECTED = 3000 - 3000 // 7  # base_store: 3,000 items, every 7th a PR


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _stored(path: Path) -> dict[tuple[str, str], tuple]:
    with Store(path) as s:
        return {(p["repo"], p["id"]): (p["labels"], p["scores"], p["abstained"]) for p in s.predictions()}


def _once(path: Path) -> set[int]:
    with Store(path) as s:
        rows = s.conn.execute("SELECT COUNT(*) FROM predictions GROUP BY repo, id, model, model_hash").fetchall()
    return {r[0] for r in rows}


def test_ray_gives_exactly_the_local_predictions(ray_local, store_copy, tfidf_model):
    local_db, ray_db = store_copy("local.db"), store_copy("ray.db")
    with Store(local_db) as s:
        local = tag_store(s, tfidf_model, batch_size=64)
    with Store(ray_db) as s:
        on_ray = tag_store(s, tfidf_model, engine="ray", batch_size=64, workers=2)
    assert local.written == on_ray.written == N_SELECTED
    assert on_ray.workers == 2 and len(on_ray.actors) == 2  # two actors, each loaded the model once
    assert all(mb > 0 for mb in on_ray.actors.values())
    a, b = _stored(local_db), _stored(ray_db)
    assert len(a) == N_SELECTED and a == b
    assert _once(ray_db) == {1}
    with Store(ray_db) as s:  # a rerun finds nothing to do
        again = tag_store(s, tfidf_model, engine="ray", batch_size=64, workers=2)
    assert (again.already, again.written) == (N_SELECTED, 0)


def _actor_pids() -> list[int]:
    import psutil

    pids = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        if "TagActor" in cmd and p.info["pid"] != os.getpid():
            pids.append(p.info["pid"])
    return pids


def test_killing_an_actor_mid_run_still_predicts_every_item_once(ray_local, store_copy, tfidf_model):
    db = store_copy("kill.db")
    key = model_key(tfidf_model)
    result: dict = {}

    def run() -> None:
        with Store(db) as s:
            try:
                result["report"] = tag_store(s, tfidf_model, engine="ray", batch_size=10, workers=2)
            except BaseException as exc:  # surfaced by the assertion below
                result["error"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    killed, at_kill = None, None
    deadline = time.monotonic() + 240
    with Store(db) as watch:
        while worker.is_alive() and time.monotonic() < deadline:
            done = watch.count_predictions(key.model, key.hash)
            pids = _actor_pids()
            if done >= 200 and pids:
                killed, at_kill = pids[0], done
                os.kill(killed, signal.SIGKILL)
                break
            time.sleep(0.02)
    worker.join(timeout=300)
    assert not worker.is_alive()
    assert "error" not in result, result.get("error")
    assert killed is not None and at_kill < N_SELECTED  # the kill came mid-run
    report = result["report"]
    assert report.written == N_SELECTED
    assert _once(db) == {1} and len(_stored(db)) == N_SELECTED
    assert str(killed) in report.actors  # the killed actor had predicted chunks before it died
    assert len(report.actors) >= 3  # ... and a restarted actor (a new process) took over


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _stop_head(head: subprocess.Popen, temp_dir: Path) -> None:
    """Kill the head node this test started: its process group, then any of its workers (by pid)."""
    import psutil

    os.killpg(head.pid, signal.SIGKILL)  # SIGTERM would drain for 30 s
    head.wait()
    for p in psutil.process_iter(["pid", "cmdline"]):
        if str(temp_dir) in " ".join(p.info.get("cmdline") or []):
            with contextlib.suppress(psutil.Error):
                p.kill()
    shutil.rmtree(temp_dir, ignore_errors=True)


def test_address_joins_a_running_cluster(store_copy, tfidf_model):
    ray_bin = Path(sys.executable).with_name("ray")
    if not ray_bin.exists():
        pytest.skip("the ray command is not installed beside this Python")
    import tempfile

    db = store_copy("cluster.db")
    temp_dir = Path(tempfile.mkdtemp(prefix="ft-ray-", dir="/tmp"))  # Ray's socket paths must stay short
    port = _free_port()
    # a test cluster without Ray's token authentication (on by default in Ray 2.5x+), for head and client alike
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
    head = subprocess.Popen(
        [
            str(ray_bin),
            "start",
            "--head",
            "--block",
            "--num-cpus",
            "2",
            "--port",
            str(port),
            "--include-dashboard",
            "false",
            "--disable-usage-stats",
            "--temp-dir",
            str(temp_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 90
        while not _listening(port) and time.monotonic() < deadline and head.poll() is None:
            time.sleep(0.5)  # the head takes a few seconds to listen
        cmd = [
            sys.executable,
            "-m",
            "fewtag",
            "--quiet",
            "tag",
            str(tfidf_model),
            "--store",
            str(db),
            "--engine",
            "ray",
            "--address",
            f"127.0.0.1:{port}",
            "--json",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["engine"] == "ray" and report["written"] == N_SELECTED and report["workers"] == 2
    finally:
        _stop_head(head, temp_dir)
    assert _once(db) == {1}
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "fewtag",
            "tag",
            str(tfidf_model),
            "--store",
            str(db),
            "--engine",
            "ray",
            "--address",
            f"127.0.0.1:{_free_port()}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert bad.returncode == 1 and bad.stderr.strip().count("\n") == 0 and "could not start or join" in bad.stderr


def test_index_on_ray_gives_the_local_vectors(ray_local, tmp_path):
    import numpy as np

    from fewtag.engine.ray_engine import ray_batches
    from fewtag.search import build_index
    from fewtag.search.encoder import load_encoder
    from tests.engine.conftest import make_store
    from tests.utils.tiny_encoders import build_sentence_encoder

    enc_dir = str(build_sentence_encoder(tmp_path / "enc"))
    db = make_store(tmp_path / "s.db", 300)
    encoder = load_encoder(enc_dir, max_length=64)
    with Store(db) as s:
        local, a = build_index(s, encoder, folder=tmp_path / "a", ivf="off")
        on_ray, b = build_index(
            s,
            encoder,
            folder=tmp_path / "b",
            ivf="off",
            encode_batches=ray_batches(enc_dir, 64, address=None, workers=2)(encoder),
        )
    assert a.n_embedded == b.n_embedded == 300 - 300 // 7
    assert local.keys == on_ray.keys
    np.testing.assert_allclose(local.vectors, on_ray.vectors, atol=1e-5)
