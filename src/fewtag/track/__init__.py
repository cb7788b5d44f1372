"""Experiment tracking: ``--track mlflow`` on ``fewtag bench`` and ``fewtag train``.

:class:`StepRecorder` keeps every training step that the loops report through
:func:`fewtag.progress.report` (loss, learning rate) while a command runs; once
the command has written its folder, :func:`tracked` opens a run and
:func:`log_bench` / :func:`log_train` log its settings, scores, timings and files,
and the recorder replays the steps into it. Only finished commands are logged (a
bench's ``--out`` is written at its very end, and its ``mlruns/`` lives inside).
MLflow is imported only when a run is opened.

Examples
--------
>>> TRACKERS
('mlflow',)
>>> check_tracker(None) is None
True
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fewtag.errors import ConfigError
from fewtag.track.mlflow_tracker import MlflowTracker, default_uri

__all__ = [
    "TRACKERS",
    "StepRecorder",
    "check_tracker",
    "tracked",
    "log_bench",
    "log_train",
    "MlflowTracker",
    "default_uri",
]

TRACKERS = ("mlflow",)
_BENCH_METRICS = ("val_micro_f1", "val_macro_f1", "micro_f1", "macro_f1", "accuracy", "train_s", "predict_s", "peak_mb")


def check_tracker(name: str | None) -> str | None:
    """``name`` when it is a tracker (or ``None``), checked before any work starts.

    Raises
    ------
    ConfigError
        Not a tracker.
    MissingDependencyError
        The tracker's client is not installed.
    """
    if name is None:
        return None
    if name not in TRACKERS:
        raise ConfigError(f"--track {name!r} is not a tracker. Available: {', '.join(TRACKERS)}")
    from fewtag.track.mlflow_tracker import _mlflow

    _mlflow()
    return name


class StepRecorder:
    """Keeps the training steps reported while a command runs (:mod:`fewtag.progress`), to log them
    once the command has finished; the listener that was there before (the progress bar) still gets them.

    >>> from fewtag.progress import report
    >>> rec = StepRecorder()
    >>> with rec.listening():
    ...     report("setfit", 1, 2, loss=0.5, lr=2e-5)
    >>> rec.steps
    [('setfit', 1, 2, {'loss': 0.5, 'lr': 2e-05})]
    """

    def __init__(self) -> None:
        self.steps: list[tuple[str, int, int, dict[str, Any]]] = []

    @contextmanager
    def listening(self) -> Iterator[None]:
        from fewtag.progress import _listener, reporting

        before = _listener.get()

        def listener(task: str, done: int, total: int, fields: dict[str, Any]) -> None:
            self.steps.append((task, done, total, {k: v for k, v in fields.items() if k in ("loss", "lr")}))
            if before is not None:
                before(task, done, total, fields)

        with reporting(listener):
            yield

    def replay(self, tracker: MlflowTracker) -> None:
        """Log the kept steps: ``TASK/fitN/loss`` and ``TASK/fitN/lr`` with the step number."""
        for task, done, total, fields in self.steps:
            tracker.on_step(task, done, total, fields)
        tracker.flush()


@contextmanager
def tracked(
    name: str | None, folder: str | Path, experiment: str, run_name: str, tags: Mapping[str, str] | None = None
) -> Iterator[MlflowTracker | None]:
    """A tracking run (``None``: no tracking), its store in ``folder/mlruns`` unless ``MLFLOW_TRACKING_URI`` is set."""
    if check_tracker(name) is None:
        yield None
        return
    with MlflowTracker.open(folder, experiment, run_name, tags) as tracker:
        yield tracker


def log_bench(tracker: MlflowTracker, folder: str | Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Log a finished bench run: its settings, every row's scores and timings, and its files.

    Per row (method x slice x seed) ``METRIC/METHOD/slice_S/seed_K``; per method and seed the
    learning curve ``METRIC/METHOD/seed_K`` with the slice size as the step, and its mean over
    seeds ``METRIC/METHOD/mean``. Artifacts: every file of the run folder (report, results,
    ``learning_curves.png``, ``config.json``).
    """
    import json

    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    settings = config.get("settings", {})
    tracker.log_params(
        {
            "data": settings.get("data"),
            "methods": ",".join(m.get("label") or m.get("name", "") for m in settings.get("methods", []))
            if isinstance(settings.get("methods"), list)
            else settings.get("methods"),
            "slices": ",".join(map(str, settings.get("slices", []))),
            "seeds": settings.get("seeds"),
            "model": settings.get("model"),
            "objective": config.get("objective"),
            "fewtag_version": config.get("fewtag_version"),
            "command": config.get("command"),
        }
    )
    curves: dict[tuple[str, str, int], list[float]] = {}
    for row in rows:
        if row.get("status") != "ok":
            continue
        method, sl, seed, size = str(row["method"]), str(row["slice"]), int(row["seed"]), int(row["slice_size"])
        for m in _BENCH_METRICS:
            value = row.get(m)
            if value is None:
                continue
            tracker.log_metrics({f"{m}/{method}/slice_{sl}/seed_{seed}": value})
            tracker.log_metrics({f"{m}/{method}/seed_{seed}": value}, step=size)
            curves.setdefault((m, method, size), []).append(float(value))
    for (m, method, size), values in sorted(curves.items()):
        tracker.log_metrics({f"{m}/{method}/mean": sum(values) / len(values)}, step=size)
    tracker.log_metrics({"runs_failed": sum(r.get("status") != "ok" for r in rows), "runs": len(rows)})
    tracker.flush()
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            tracker.log_artifact(path)


def log_train(
    tracker: MlflowTracker, model_dir: str | Path, params: Mapping[str, Any], metrics: Mapping[str, Any]
) -> None:
    """Log a finished ``fewtag train``: its options, timings and scores, and the model's ``fewtag.json``."""
    tracker.log_params(params)
    flat: dict[str, float | None] = {}
    for key in ("train_s", "train_size", "micro_f1", "macro_f1", "test_size"):
        if isinstance(metrics.get(key), int | float):
            flat[key] = float(metrics[key])
    estimate = metrics.get("estimate") or {}
    for key in ("micro_f1", "macro_f1"):
        stats = estimate.get(key)
        if isinstance(stats, Mapping):
            for stat in ("mean", "sd", "lo", "hi"):
                if isinstance(stats.get(stat), int | float):
                    flat[f"estimate/{key}/{stat}"] = float(stats[stat])
    for label, f1 in (estimate.get("per_label_f1") or {}).items():
        flat[f"estimate/per_label_f1/{label}"] = f1
    for i, fold in enumerate(estimate.get("per_fold") or []):
        for key in ("micro_f1", "macro_f1"):
            if key in fold:
                tracker.log_metrics({f"estimate/fold/{key}": fold[key]}, step=i)
    tracker.log_metrics(flat)
    tracker.flush()
    meta = Path(model_dir) / "fewtag.json"
    if meta.is_file():
        tracker.log_artifact(meta)
