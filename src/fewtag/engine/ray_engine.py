"""The Ray engine: Ray Data ``map_batches`` over an actor pool, one writer back into SQLite.

The driver (this process) reads the selected, not yet predicted items from the
store in chunks of ``batch_size`` (rowid order, the same chunks as the local
engine), makes a Ray Dataset of them (one row = one chunk, so a batch holds
the same items on both engines) and maps it over a pool of actors. Each actor
loads the model **once**: the model folder's files travel through the object
store (so an actor on another machine of a cluster needs fewtag and the
model's extras installed, not the folder), are unpacked into a temporary
folder, checked against the model's content hash and loaded. The driver is the
only writer: it commits each chunk's predictions as they stream back, so a run
killed mid-way is resumed by the next one (the store skips what it has).

An actor that dies is restarted by Ray and its chunk retried (Ray Data's
actor pools restart actors and retry their tasks by default); the store's
primary key makes a retried prediction that was already written a no-op, so
every item is predicted once.

Items are read in windows of ``window`` items; each window is one Dataset and
one actor pool, so with more items than a window the model is loaded once per
actor and window (200,000 items by default: at 50-5,000 items/s a window runs
for minutes, its model load for a second or two).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from fewtag.data.store import Store
from fewtag.data.store_predictions import Selection
from fewtag.engine.base import Clock, ModelKey, TagReport, chunks_of, pack_folder, predict_chunk, unpack_folder
from fewtag.errors import ConfigError, MissingDependencyError, ModelFileError

__all__ = ["require_ray", "ray_session", "tag_ray", "encode_with_ray", "ray_batches", "RAY_INSTALL", "DEFAULT_WINDOW"]

RAY_INSTALL = "pip install 'fewtag[ray]'"
#: items per Dataset (and per actor pool); see the module docstring
DEFAULT_WINDOW = 200_000


def require_ray() -> Any:
    """The ``ray`` module (with Ray Data).

    Raises
    ------
    MissingDependencyError
        Ray is not installed; the message gives the pip command.
    """
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            f"--engine ray needs Ray with Ray Data: {RAY_INSTALL} ({type(exc).__name__}: {exc})"
        ) from None
    return ray


@contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None, quiet: bool = True) -> Iterator[Any]:
    """Join the Ray cluster at ``address``, else start Ray locally; shut down what was started.

    An already initialised Ray (a test's ``ray.init(num_cpus=2)``, a notebook) is used as it is.

    Raises
    ------
    MissingDependencyError
        Ray is not installed.
    ConfigError
        The cluster at ``address`` cannot be joined.
    """
    import logging

    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": not quiet}
    if quiet:
        options["logging_level"] = logging.WARNING
    if address:
        _check_reachable(address)
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=num_cpus, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise ConfigError(f"could not start or join {where}: {type(exc).__name__}: {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail at once, not after Ray's minutes of retries, when nothing listens at ``host:port``."""
    import socket

    target = address.split("://", 1)[-1]
    host, sep, port = target.rpartition(":")
    if address == "auto" or not sep or not port.isdigit():
        return  # "auto" or a form Ray resolves itself
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise ConfigError(
            f"could not start or join the Ray cluster at {address}: nothing answers there ({exc})"
        ) from None


def _quiet_data(ray: Any, quiet: bool) -> None:
    import logging

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = not quiet
    if quiet:
        logging.getLogger("ray.data").setLevel(logging.WARNING)


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TagActor:
    """One actor of the pool: loads the model once, predicts one chunk per row.

    Parameters
    ----------
    files : the model folder (:func:`fewtag.engine.base.pack_folder`)
    model_hash : the content hash the unpacked folder must have
    batch_size : items per predict call
    """

    def __init__(self, files: dict[str, bytes], model_hash: str, batch_size: int):
        import tempfile

        from fewtag.models import model_revision
        from fewtag.registry import load_tagger

        _no_shared_cache()
        self.folder = unpack_folder(files, tempfile.mkdtemp(prefix="fewtag-model-"))
        got = model_revision(self.folder)
        if got != model_hash:
            raise ModelFileError(f"the model reached the actor with content hash {got}, expected {model_hash}")
        self.tagger = load_tagger(self.folder)
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import time

        out, busy = [], []
        for payload in batch["chunk"]:
            t0 = time.perf_counter()
            out.append(json.dumps(predict_chunk(self.tagger, json.loads(payload), self.batch_size)))
            busy.append(time.perf_counter() - t0)
        n = len(out)
        return {
            "predictions": np.array(out, dtype=object),
            "pid": np.full(n, os.getpid()),
            "peak_mb": np.full(n, _peak_mb()),
            "busy_s": np.array(busy),
        }


def _no_shared_cache() -> None:
    """Actors keep embeddings in memory only: the driver is the store's one writer."""
    try:
        from fewtag.embed import configure_cache
    except ImportError:
        return
    configure_cache(None)


def _workers(ray: Any, workers: int | None) -> int:
    if workers is not None:
        if workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {workers}")
        return workers
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def tag_ray(
    store: Store,
    model_dir: str | Path,
    key: ModelKey,
    selection: Selection,
    *,
    batch_size: int = 256,
    workers: int | None = None,
    address: str | None = None,
    window: int = DEFAULT_WINDOW,
    quiet: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> TagReport:
    """Tag the selected, not yet predicted items of ``store`` on Ray.

    Parameters
    ----------
    store : Store
    model_dir : a saved model folder
    key : the model's key (:func:`fewtag.engine.base.model_key`)
    selection : which items
    batch_size : items per chunk, per predict call and per commit
    workers : actors in the pool (default: the cluster's CPUs); each takes one CPU
    address : a Ray cluster to join (``ray://host:10001`` or ``host:6379``); else Ray starts locally
    window : items per Dataset and actor pool
    quiet : no Ray progress bars or worker logs
    progress : ``progress(done, total)`` after each chunk written

    Returns
    -------
    TagReport
        ``actors``: peak resident MiB of each actor process; ``startup_s``: until Ray was up.

    Raises
    ------
    MissingDependencyError
        Ray is not installed.
    """
    require_ray()
    if address:
        _check_reachable(address)  # a wrong address is an error even when nothing is left to tag
    clock = Clock()
    selected = store.check_selection(selection)
    todo = store.count_untagged(selection, key.model, key.hash)
    report = TagReport("ray", key.model, key.hash, selected=selected, already=selected - todo)
    if todo == 0:
        report.seconds = clock()
        return report
    files = pack_folder(model_dir)
    with ray_session(address, quiet=quiet) as ray:
        _quiet_data(ray, quiet)
        report.workers = _workers(ray, workers)
        report.startup_s = clock()
        chunks = store.untagged_chunks(selection, key.model, key.hash, chunk_size=batch_size)
        for group in chunks_of(chunks, window):
            ds = ray.data.from_items([{"chunk": json.dumps(list(c))} for c in group], override_num_blocks=len(group))
            mapped = ds.map_batches(
                TagActor,
                fn_constructor_kwargs={"files": files, "model_hash": key.hash, "batch_size": batch_size},
                batch_size=1,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=report.workers),
                num_cpus=1,
            )
            for out in mapped.iter_batches(batch_size=None, batch_format="numpy"):
                for payload, pid, peak, busy in zip(out["predictions"], out["pid"], out["peak_mb"], out["busy_s"]):
                    report.written += store.put_predictions(key.model, key.hash, json.loads(payload))
                    report.busy_s += float(busy)
                    report.actors[str(int(pid))] = max(float(peak), report.actors.get(str(int(pid)), 0.0))
                if progress is not None:
                    progress(report.written, todo)
    report.seconds = clock()
    return report


class EncodeActor:
    """One actor of an index build: loads the sentence encoder once, embeds one batch per row."""

    def __init__(self, model_id: str | None, max_length: int, vector_key: Sequence[Any]):
        from fewtag.search.encoder import load_encoder
        from fewtag.search.encoder import vector_key as key_of

        _no_shared_cache()
        self.encoder = load_encoder(model_id, max_length=max_length)
        got = list(key_of(self.encoder))
        if got != list(vector_key):
            raise ModelFileError(f"the actor's encoder is {got}, the driver's {list(vector_key)}")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = [np.asarray(self.encoder.encode(json.loads(t)), dtype=np.float32) for t in batch["texts"]]
        return {
            "i": np.asarray(batch["i"]),
            "vectors": np.array([v.tobytes() for v in vectors], dtype=object),
            "dim": np.array([v.shape[1] if v.ndim == 2 else 0 for v in vectors]),
        }


def encode_with_ray(
    batches: Sequence[Sequence[str]],
    *,
    model_id: str | None,
    max_length: int,
    vector_key: Sequence[Any],
    workers: int | None = None,
    address: str | None = None,
    quiet: bool = True,
) -> Iterator[tuple[int, np.ndarray]]:
    """Embed ``batches`` of texts on a Ray actor pool; yields ``(batch number, vectors)`` as they finish.

    Each actor loads the encoder ``model_id`` once and checks that it is the driver's
    (:func:`fewtag.search.encoder.vector_key`), so the vectors are the ones a local build computes.
    """
    if not batches:
        return
    with ray_session(address, quiet=quiet) as ray:
        _quiet_data(ray, quiet)
        n_workers = _workers(ray, workers)
        rows = [{"i": i, "texts": json.dumps(list(b))} for i, b in enumerate(batches)]
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))
        mapped = ds.map_batches(
            EncodeActor,
            fn_constructor_kwargs={"model_id": model_id, "max_length": max_length, "vector_key": list(vector_key)},
            batch_size=1,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=n_workers),
            num_cpus=1,
        )
        for out in mapped.iter_batches(batch_size=None, batch_format="numpy"):
            for i, blob, dim in zip(out["i"], out["vectors"], out["dim"]):
                vec = np.frombuffer(blob, dtype=np.float32)
                yield int(i), vec.reshape(-1, int(dim)) if dim else vec.reshape(0, 0)


def ray_batches(
    model_id: str | None, max_length: int, *, address: str | None, workers: int | None, quiet: bool = True
) -> Callable[[Any], Callable[[list[list[str]]], Iterator[tuple[int, np.ndarray]]]]:
    """For ``fewtag index --engine ray``: ``make(encoder)`` gives the ``encode_batches`` of
    :func:`fewtag.search.index.build_index`, embedding on Ray with the encoder the driver loaded.

    Ray is checked at once (a missing Ray fails before the encoder loads).
    """
    require_ray()
    if address:
        _check_reachable(address)

    def make(encoder: Any) -> Callable[[list[list[str]]], Iterator[tuple[int, np.ndarray]]]:
        from fewtag.search.encoder import vector_key

        key = list(vector_key(encoder))
        return lambda batches: encode_with_ray(
            batches, model_id=model_id, max_length=max_length, vector_key=key, workers=workers, address=address,
            quiet=quiet,
        )  # fmt: skip

    return make
