"""Prometheus metrics of one app, on ``prometheus-client`` with a registry of its own.

Each :class:`Metrics` has its own :class:`~prometheus_client.CollectorRegistry`
(not the process-global one), so two apps in one process (tests, or a server
restarted in-process) never collide or share counts.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics", "CONTENT_TYPE"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """Counters and histograms for the service; :meth:`render` gives ``/metrics``.

    >>> m = Metrics({"fewtag_version": "1"})
    >>> m.request("POST", "/v1/predict", 200, 0.01)
    >>> 'fewtag_requests_total{method="POST",path="/v1/predict",status="200"} 1.0' in m.render()
    True
    """

    def __init__(self, info: dict[str, str] | None = None):
        self.registry = CollectorRegistry(auto_describe=True)
        self.info = {"fewtag_version": "", "model": "", "method": "", **(info or {})}
        r = self.registry
        self._model_info = Gauge("fewtag_model_info", "The model being served.", sorted(self.info), registry=r)
        self._requests = Counter(
            "fewtag_requests", "HTTP requests by method, path and status.", ("method", "path", "status"), registry=r
        )
        self._latency = Histogram(
            "fewtag_request_duration_seconds", "HTTP request latency.", ("path",), buckets=LATENCY_BUCKETS, registry=r
        )
        self._batches = Histogram(
            "fewtag_batch_size", "Texts per model call (micro-batching).", buckets=BATCH_BUCKETS, registry=r
        )
        self._predictions = Counter("fewtag_predictions", "Texts scored by the model.", registry=r)
        self._webhooks = Counter(
            "fewtag_webhook_deliveries",
            "GitHub webhook deliveries by event and outcome.",
            ("event", "status"),
            registry=r,
        )
        self._queue = Gauge("fewtag_webhook_queue", "Webhook write-backs waiting or running.", registry=r)
        self._model_info.labels(**self.info).set(1)

    def set_model(self, model: str, method: str) -> None:
        """Name the served model in ``fewtag_model_info``."""
        self._model_info.clear()
        self.info.update(model=model, method=method)
        self._model_info.labels(**self.info).set(1)

    def request(self, method: str, path: str, status: int, seconds: float) -> None:
        self._requests.labels(method, path, str(status)).inc()
        self._latency.labels(path).observe(seconds)

    def batch(self, n_texts: int, seconds: float) -> None:
        self._batches.observe(n_texts)
        self._predictions.inc(n_texts)

    def webhook(self, event: str, status: str) -> None:
        self._webhooks.labels(event, status).inc()

    def queue_size(self, n: int) -> None:
        self._queue.set(n)

    def render(self) -> str:
        return generate_latest(self.registry).decode()
