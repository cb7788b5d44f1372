"""The webhook's write-back, off the request path: a bounded queue, one worker, a retry budget.

The webhook answers GitHub (202) as soon as a delivery is validated and
recorded as *received*. This worker then predicts and writes the labels back,
retrying a failure (an exception, or a label GitHub refused) with a short
backoff while the delivery's budget lasts (default 3 attempts within 9 s, so a
write-back never takes longer than GitHub's own 10 s delivery timeout). Only
then is the delivery *done*; one that fails past its budget stays *received*,
and is processed again when GitHub redelivers it or when the service restarts.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from fewtag.service.webhook import DeliveryLog, IssueJob

__all__ = ["WriteBackWorker", "WriteBackFailed"]

log = logging.getLogger("fewtag.service.webhook")

#: ``process(job, deadline) -> result dict``; ``deadline`` is a ``time.monotonic()`` value
Process = Callable[[IssueJob, float], dict[str, Any]]


class WriteBackFailed(RuntimeError):
    """A write-back finished with labels GitHub did not take (worth a retry)."""


class WriteBackWorker:
    """Runs :class:`IssueJob` s one at a time from a bounded queue.

    Parameters
    ----------
    process : callable
        ``process(job, deadline)`` does the work and returns the result to record.
    deliveries : DeliveryLog
        Marks each job done, or counts its failed attempts.
    max_queue : int
        Jobs waiting at most; :meth:`submit` returns False beyond it.
    attempts : int
        Attempts per job.
    budget : float
        Seconds all attempts of one job may take (backoff included).
    on_outcome : callable, optional
        ``on_outcome(event, status)`` with ``status`` the result's ``status`` or ``"failed"``.
    """

    def __init__(
        self,
        process: Process,
        deliveries: DeliveryLog,
        *,
        max_queue: int = 100,
        attempts: int = 3,
        budget: float = 9.0,
        backoff: float = 0.25,
        on_outcome: Callable[[str, str], None] | None = None,
        on_size: Callable[[int], None] | None = None,
    ):
        self.process, self.deliveries = process, deliveries
        self.attempts, self.budget, self.backoff = max(1, attempts), budget, backoff
        self.on_outcome, self.on_size = on_outcome, on_size
        self._queue: queue.Queue[IssueJob] = queue.Queue(maxsize=max_queue)
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control
    def start(self) -> WriteBackWorker:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="fewtag-writeback", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the job in hand; queued jobs stay *received* for the next start."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, job: IssueJob) -> bool:
        """Queue ``job``; False when the queue is full. A job already queued is not queued twice."""
        with self._lock:
            if job.delivery in self._inflight:
                return True
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                return False
            self._inflight.add(job.delivery)
            size = len(self._inflight)
        if self.on_size is not None:
            self.on_size(size)
        return True

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or running (tests); False on timeout."""
        end = time.monotonic() + timeout
        with self._idle:
            while self._inflight:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # ------------------------------------------------------------------- worker
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                self._handle(job)
            except BaseException:  # pragma: no cover - keep the worker alive
                log.exception("delivery %s: write-back crashed", job.delivery)
            finally:
                with self._idle:
                    self._inflight.discard(job.delivery)
                    size = len(self._inflight)
                    self._idle.notify_all()
                if self.on_size is not None:
                    self.on_size(size)

    def _handle(self, job: IssueJob) -> None:
        deadline = time.monotonic() + self.budget
        wait, last = self.backoff, "no attempt made"
        for attempt in range(1, self.attempts + 1):
            try:
                result = self.process(job, deadline)
            except Exception as exc:  # noqa: BLE001 - recorded, retried, then left pending
                last = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
                log.warning(
                    "delivery %s (%s#%s): attempt %d/%d failed: %s",
                    job.delivery,
                    job.repo,
                    job.number,
                    attempt,
                    self.attempts,
                    last,
                )
            else:
                self.deliveries.done(job.delivery, result)
                if self.on_outcome is not None:
                    self.on_outcome(job.event, str(result.get("status", "done")))
                return
            if attempt == self.attempts or time.monotonic() + wait >= deadline or self._stop.is_set():
                break
            time.sleep(wait)
            wait *= 2
        self.deliveries.failed(job.delivery, last)
        log.error(
            "delivery %s (%s#%s): write-back failed; it stays pending until GitHub redelivers "
            "it or the service restarts: %s",
            job.delivery,
            job.repo,
            job.number,
            last,
        )
        if self.on_outcome is not None:
            self.on_outcome(job.event, "failed")
