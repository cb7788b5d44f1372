"""``--track mlflow`` on ``fewtag bench`` and ``fewtag train``, in a local MLflow file store (issue 16)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.engine.conftest import WORDS, synthetic_items
from tests.utils.cli import run_cli

mlflow = pytest.importorskip("mlflow")


@pytest.fixture
def labelled(tmp_path) -> Path:
    path = tmp_path / "issues.jsonl"
    with path.open("w") as fh:
        for it in synthetic_items(240, seed=3):
            label = sorted(WORDS)[int(it.id) % 3]
            fh.write(json.dumps({"id": it.id, "title": it.title, "body": it.body, "labels": [label]}) + "\n")
    return path


@pytest.fixture(autouse=True)
def no_tracking_env(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


def _client(uri: str):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def _only_run(uri: str, experiment: str):
    client = _client(uri)
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    return client, runs[0]


def test_bench_run_shows_params_metrics_and_the_figure(tmp_path, labelled, monkeypatch, capsys):
    out = tmp_path / "run"
    code, stdout, err = run_cli(
        monkeypatch, capsys, "bench", str(labelled), "--methods", "naive-bayes,tfidf-logreg",
        "--slices", "8,16,all", "--seeds", "2", "--out", str(out), "--track", "mlflow",
    )  # fmt: skip
    assert code == 0, err
    uri = (out / "mlruns").resolve().as_uri()
    assert f"in {uri}" in err
    client, run = _only_run(uri, "fewtag-bench")
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["methods"] == "naive-bayes,tfidf-logreg" and params["slices"] == "8,16,all" and params["seeds"] == "2"
    results = [line.split(",") for line in (out / "results.csv").read_text().splitlines()]
    header, rows = results[0], results[1:]
    assert len(rows) == 2 * 3 * 2
    metrics = run.data.metrics
    for row in rows:
        r = dict(zip(header, row))
        key = f"macro_f1/{r['method']}/slice_{r['slice']}/seed_{r['seed']}"
        assert metrics[key] == pytest.approx(float(r["macro_f1"]))
        assert f"train_s/{r['method']}/slice_{r['slice']}/seed_{r['seed']}" in metrics
    curve = client.get_metric_history(run.info.run_id, "macro_f1/tfidf-logreg/seed_1")
    assert sorted(m.step for m in curve)[:2] == [8, 16] and len(curve) == 3  # the learning curve, step = labels
    assert len(client.get_metric_history(run.info.run_id, "micro_f1/naive-bayes/mean")) == 3
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"learning_curves.png", "report.md", "results.csv", "config.json"} <= artifacts
    png = Path(client.download_artifacts(run.info.run_id, "learning_curves.png", str(tmp_path / "dl")))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_run_honours_mlflow_tracking_uri(tmp_path, labelled, monkeypatch, capsys):
    uri = (tmp_path / "elsewhere").resolve().as_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    code, stdout, err = run_cli(
        monkeypatch, capsys, "train", str(labelled), "--method", "tfidf-logreg", "--out", str(tmp_path / "m"),
        "--folds", "3", "--track", "mlflow",
    )  # fmt: skip
    assert code == 0, err
    assert not (tmp_path / "mlruns").exists()
    client, run = _only_run(uri, "fewtag-train")
    assert run.data.params["method"] == "tfidf-logreg" and run.data.params["folds"] == "3"
    assert run.data.metrics["train_size"] == 240
    assert 0 <= run.data.metrics["estimate/macro_f1/mean"] <= 1
    assert len(client.get_metric_history(run.info.run_id, "estimate/fold/macro_f1")) == 3
    assert "fewtag.json" in {a.path for a in client.list_artifacts(run.info.run_id)}


def test_training_steps_are_logged_per_fit_with_loss_and_lr(tmp_path):
    from fewtag.progress import report, reporting
    from fewtag.track import StepRecorder, tracked

    bar: list[int] = []
    recorder = StepRecorder()
    with reporting(lambda task, done, total, fields: bar.append(done)), recorder.listening():
        for fit in range(2):  # a tuning fit, then the refit on all rows
            for step in range(1, 4):
                report("setfit", step, 3, loss=1.0 / step + fit, lr=2e-5 * step)
        report("teacher embeds", 5, 10)  # no loss: nothing to log
    assert bar == [1, 2, 3, 1, 2, 3, 5]  # the progress bar still gets every step
    with tracked("mlflow", tmp_path, "steps", "r") as tracker:
        recorder.replay(tracker)
    client, run = _only_run((tmp_path / "mlruns").resolve().as_uri(), "steps")
    loss2 = client.get_metric_history(run.info.run_id, "setfit/fit2/loss")
    assert [(m.step, m.value) for m in sorted(loss2, key=lambda m: m.step)] == [(1, 2.0), (2, 1.5), (3, 4 / 3)]
    lr1 = client.get_metric_history(run.info.run_id, "setfit/fit1/lr")
    assert sorted(m.value for m in lr1) == pytest.approx([2e-5, 4e-5, 6e-5])


def test_bad_or_missing_tracker_is_one_line_before_any_work(tmp_path, labelled, monkeypatch, capsys):
    out = tmp_path / "run"
    args = ["bench", str(labelled), "--methods", "naive-bayes", "--slices", "8", "--out", str(out)]
    code, _, err = run_cli(monkeypatch, capsys, *args, "--track", "wandb")
    assert code == 1 and err.count("\n") == 1 and "not a tracker" in err
    monkeypatch.setitem(sys.modules, "mlflow", None)
    code, _, err = run_cli(monkeypatch, capsys, *args, "--track", "mlflow")
    assert code == 1 and err.count("\n") == 1 and "pip install 'fewtag" in err
    assert not out.exists()
