"""Peak resident memory of the process while a block of code runs."""

from __future__ import annotations

import os
import threading

__all__ = ["PeakRSS", "current_rss_bytes"]


def current_rss_bytes() -> int:
    """Resident set size of this process now (``/proc/self/statm``; else the peak so far)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakRSS:
    """Peak resident memory of the whole process while the block runs.

    A daemon thread samples ``/proc/self/statm`` every ``interval`` seconds
    (plus once at entry and exit). It measures the process, so memory still
    held from before the block (the data, imported libraries) is included.

    >>> with PeakRSS() as mem:
    ...     _ = bytearray(10_000_000)
    >>> mem.peak_mb > 0
    True
    """

    def __init__(self, interval: float = 0.005):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        self.peak = max(self.peak, current_rss_bytes())

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> PeakRSS:
        self._sample()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20
