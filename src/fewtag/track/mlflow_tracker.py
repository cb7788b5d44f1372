"""An MLflow run for one ``fewtag bench`` or ``fewtag train`` (the optional extra ``fewtag[track]``).

The client is MLflow's own (``mlflow-skinny`` is enough): ``MLFLOW_TRACKING_URI`` is
honoured (a server, ``sqlite:///...`` where SQLAlchemy is installed, ...); without it
the run goes to a local file store, ``mlruns/`` in the folder the command names.
``mlflow-skinny`` has no SQLAlchemy, so its one server-less backend is the file store,
which MLflow 3 keeps in maintenance mode behind ``MLFLOW_ALLOW_FILE_STORE``: fewtag
sets that variable for its default store only. ``mlflow ui --backend-store-uri
file:<folder>/mlruns`` (the full ``mlflow`` package) shows the runs.

Metrics are logged in batches (``log_batch``) so a bench of hundreds of rows stays a
few calls; a training loop's steps (:mod:`fewtag.progress`) are buffered and flushed
every :data:`FLUSH_EVERY` steps.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fewtag.errors import MissingDependencyError

__all__ = ["MlflowTracker", "default_uri", "FLUSH_EVERY", "TRACK_INSTALL"]

TRACK_INSTALL = "pip install 'fewtag[track]'"
FLUSH_EVERY = 50
_MAX_BATCH_METRICS = 1000  # MLflow's limits per log_batch call
_MAX_BATCH_PARAMS = 100
_MAX_PARAM = 6000


def _mlflow() -> Any:
    try:
        import mlflow
        from mlflow.tracking import MlflowClient  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            f"--track mlflow needs the MLflow client: {TRACK_INSTALL} ({type(exc).__name__}: {exc})"
        ) from None
    return mlflow


def default_uri(folder: str | Path) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else a file store in ``folder/mlruns``."""
    return os.environ.get("MLFLOW_TRACKING_URI") or (Path(folder).resolve() / "mlruns").as_uri()


def _key(text: str) -> str:
    """A metric or parameter name MLflow accepts (letters, digits, ``_ - . / :`` and spaces)."""
    return "".join(c if c.isalnum() or c in "_-./: " else "_" for c in text)[:250]


class MlflowTracker:
    """One MLflow run. Use :meth:`open` (a context manager) to start and end it.

    Parameters
    ----------
    uri : tracking URI (see :func:`default_uri`)
    experiment : experiment name, created when missing
    run_name : the run's name
    """

    def __init__(self, uri: str, experiment: str, run_name: str):
        self.uri, self.experiment, self.run_name = uri, experiment, run_name
        self.run_id: str | None = None
        self._client: Any = None
        self._pending: list[Any] = []
        self._fits: dict[str, tuple[int, int]] = {}  # task -> (fit number, last step)

    # ----------------------------------------------------------- lifecycle
    @classmethod
    @contextmanager
    def open(
        cls, folder: str | Path, experiment: str, run_name: str, tags: Mapping[str, str] | None = None
    ) -> Iterator[MlflowTracker]:
        """Start a run (in ``folder/mlruns`` unless ``MLFLOW_TRACKING_URI`` says otherwise), end it
        ``FINISHED``, or ``FAILED`` when the block raises."""
        _mlflow()
        uri = default_uri(folder)
        if uri.startswith("file:") and not os.environ.get("MLFLOW_TRACKING_URI"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")  # mlflow-skinny's server-less store
        tracker = cls(uri, experiment, run_name)
        tracker._start(dict(tags or {}))
        status = "FAILED"
        try:
            yield tracker
            status = "FINISHED"
        finally:
            tracker.flush()
            tracker._client.set_terminated(tracker.run_id, status=status)

    def _start(self, tags: dict[str, str]) -> None:
        from mlflow.tracking import MlflowClient

        self._client = MlflowClient(tracking_uri=self.uri)
        exp = self._client.get_experiment_by_name(self.experiment)
        exp_id = exp.experiment_id if exp is not None else self._client.create_experiment(self.experiment)
        run = self._client.create_run(exp_id, run_name=self.run_name, tags={"fewtag": "1", **tags})
        self.run_id = run.info.run_id

    # -------------------------------------------------------------- logging
    def log_params(self, params: Mapping[str, Any]) -> None:
        """Parameters (values as text, nested dicts flattened with dots)."""
        from mlflow.entities import Param

        flat = _flatten(params)
        items = [Param(_key(k), str(v)[:_MAX_PARAM]) for k, v in flat.items()]
        for start in range(0, len(items), _MAX_BATCH_PARAMS):
            self._client.log_batch(self.run_id, params=items[start : start + _MAX_BATCH_PARAMS])

    def log_metrics(self, metrics: Mapping[str, float | None], step: int = 0) -> None:
        """Numbers at one step (``None`` and non-finite values are left out); buffered until :meth:`flush`."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        for k, v in metrics.items():
            if v is None:
                continue
            value = float(v)
            if value == value and abs(value) != float("inf"):
                self._pending.append(Metric(_key(k), value, now, int(step)))
        if len(self._pending) >= _MAX_BATCH_METRICS:
            self.flush()

    def flush(self) -> None:
        """Send the buffered metrics."""
        while self._pending:
            batch, self._pending = self._pending[:_MAX_BATCH_METRICS], self._pending[_MAX_BATCH_METRICS:]
            self._client.log_batch(self.run_id, metrics=batch)

    def log_artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        """A file or a folder's files."""
        path = Path(path)
        if path.is_dir():
            self._client.log_artifacts(self.run_id, str(path), artifact_path)
        elif path.is_file():
            self._client.log_artifact(self.run_id, str(path), artifact_path)

    def set_tag(self, key: str, value: str) -> None:
        self._client.set_tag(self.run_id, _key(key), value)

    # -------------------------------------------------------- training steps
    def on_step(self, task: str, done: int, total: int, fields: Mapping[str, Any]) -> None:
        """A :mod:`fewtag.progress` listener: ``loss`` and ``lr`` of each step under ``TASK/fitN/...``.

        A task that starts again (step back to 1: the next fold, the refit on all rows) is the next fit.
        """
        fit, last = self._fits.get(task, (0, 0))
        if fit == 0 or done <= last:
            fit += 1
        self._fits[task] = (fit, done)
        values = {f"{task}/fit{fit}/{name}": fields.get(name) for name in ("loss", "lr") if name in fields}
        if values:
            self.log_metrics(values, step=done)
            if len(self._pending) >= FLUSH_EVERY:
                self.flush()


def _flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in params.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, name + "."))
        elif v is not None:
            out[name] = v
    return out
