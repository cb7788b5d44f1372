"""Prometheus metrics in the text exposition format, without extra dependencies."""

from __future__ import annotations

import threading
from collections import defaultdict

__all__ = ["Metrics", "CONTENT_TYPE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    esc = [(k, v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')) for k, v in pairs]
    return "{" + ",".join(f'{k}="{v}"' for k, v in esc) + "}"


class _Histogram:
    def __init__(self, buckets: tuple[float, ...]):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        for i, b in enumerate(self.buckets):
            if value <= b:
                self.counts[i] += 1
        self.total += value
        self.n += 1


class Metrics:
    """Counters and histograms for the service; :meth:`render` gives ``/metrics``.

    >>> m = Metrics({"model": "m1"})
    >>> m.request("POST", "/v1/predict", 200, 0.01)
    >>> 'fewtag_requests_total{method="POST",path="/v1/predict",status="200"} 1' in m.render()
    True
    """

    def __init__(self, info: dict[str, str] | None = None):
        self.info = dict(info or {})
        self._lock = threading.Lock()
        self._requests: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
        self._latency: dict[tuple[tuple[str, str], ...], _Histogram] = {}
        self._batches = _Histogram(BATCH_BUCKETS)
        self._predictions = 0
        self._webhooks: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)

    def request(self, method: str, path: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(("method", method), ("path", path), ("status", str(status)))] += 1
            key = (("path", path),)
            if key not in self._latency:
                self._latency[key] = _Histogram(LATENCY_BUCKETS)
            self._latency[key].observe(seconds)

    def batch(self, n_texts: int, seconds: float) -> None:
        with self._lock:
            self._batches.observe(n_texts)
            self._predictions += n_texts

    def webhook(self, event: str, status: str) -> None:
        with self._lock:
            self._webhooks[(("event", event), ("status", status))] += 1

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            lines += ["# HELP fewtag_model_info The model being served.", "# TYPE fewtag_model_info gauge",
                      f"fewtag_model_info{_labels(tuple(sorted(self.info.items())))} 1"]
            lines += ["# HELP fewtag_requests_total HTTP requests by method, path and status.",
                      "# TYPE fewtag_requests_total counter"]
            lines += [f"fewtag_requests_total{_labels(k)} {v}" for k, v in sorted(self._requests.items())]
            lines += ["# HELP fewtag_request_duration_seconds HTTP request latency.",
                      "# TYPE fewtag_request_duration_seconds histogram"]
            for key, h in sorted(self._latency.items()):
                lines += _histogram_lines("fewtag_request_duration_seconds", key, h)
            lines += ["# HELP fewtag_batch_size Texts per model call (micro-batching).",
                      "# TYPE fewtag_batch_size histogram"]
            lines += _histogram_lines("fewtag_batch_size", (), self._batches)
            lines += ["# HELP fewtag_predictions_total Texts scored by the model.",
                      "# TYPE fewtag_predictions_total counter", f"fewtag_predictions_total {self._predictions}"]
            lines += ["# HELP fewtag_webhook_deliveries_total GitHub webhook deliveries by event and outcome.",
                      "# TYPE fewtag_webhook_deliveries_total counter"]
            lines += [f"fewtag_webhook_deliveries_total{_labels(k)} {v}"
                      for k, v in sorted(self._webhooks.items())]
        return "\n".join(lines) + "\n"


def _histogram_lines(name: str, key: tuple[tuple[str, str], ...], h: _Histogram) -> list[str]:
    out = []
    for b, c in zip(h.buckets, h.counts):
        out.append(f"{name}_bucket{_labels(key + (('le', _fmt(b)),))} {c}")
    out.append(f"{name}_bucket{_labels(key + (('le', '+Inf'),))} {h.n}")
    out.append(f"{name}_sum{_labels(key)} {h.total:.6f}")
    out.append(f"{name}_count{_labels(key)} {h.n}")
    return out


def _fmt(b: float) -> str:
    return str(int(b)) if float(b).is_integer() and b >= 1 else repr(float(b))
