"""The real app through TestClient (its lifespan runs): every endpoint, auth, limits, faults."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest

from fewtag.service.batcher import MicroBatcher

ITEMS = [
    {"id": "a", "title": "crash on load", "body": "exception with a traceback"},
    {"id": 7, "text": "typo in the docs page"},
    {"id": "c", "text": "feature request: add support for zstd"},
]


def test_health_ready_docs(make_client):
    c = make_client()
    assert c.get("/healthz").json() == {"status": "ok"}
    ready = c.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert ready.json()["method"] == "tfidf-logreg" and ready.json()["search"] is False
    paths = c.get("/openapi.json").json()["paths"]
    assert {"/v1/predict", "/v1/search", "/github/webhook", "/healthz", "/readyz", "/metrics"} <= set(paths)
    assert c.get("/docs").status_code == 200


def test_predict_in_input_order(make_client):
    c = make_client()
    r = c.post("/v1/predict", json={"items": ITEMS})
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert [p["id"] for p in preds] == ["a", 7, "c"]
    assert [p["labels"] for p in preds] == [["bug"], ["documentation"], ["enhancement"]]
    for p in preds:
        assert set(p["scores"]) == {"bug", "documentation", "enhancement"}
        assert abs(sum(p["scores"].values()) - 1) < 1e-4
        assert p["abstained"] is False and p["truncated"] is False


def test_truncation_flag(make_client):
    c = make_client(max_text_chars=40)
    r = c.post("/v1/predict", json={"items": [{"id": 1, "text": "crash " * 50}, {"id": 2, "text": "crash"}]})
    assert [p["truncated"] for p in r.json()["predictions"]] == [True, False]


def test_batch_limit_422(make_client):
    c = make_client(max_batch=2)
    r = c.post("/v1/predict", json={"items": ITEMS})
    assert r.status_code == 422 and "at most 2 items" in r.json()["detail"]


def test_body_limit_413(make_client):
    c = make_client(max_body_bytes=2048)
    r = c.post("/v1/predict", json={"items": [{"id": 1, "text": "x" * 4000}]})
    assert r.status_code == 413 and "larger than the limit" in r.json()["detail"]

    def chunks():  # no Content-Length: the streamed body is counted
        for _ in range(4):
            yield b"x" * 1000

    r = c.post("/v1/predict", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_ten_megabyte_body_413(make_client):
    c = make_client()
    body = b'{"items": [{"id": 1, "text": "' + b"a" * (10 * 1024 * 1024) + b'"}]}'
    r = c.post("/v1/predict", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert c.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b'{"items": [',  # malformed JSON
        b"\xff\xfe\x00garbage",  # not UTF-8
        b'{"items": [{"id": 1, "text": 5}]}',  # wrong type
        b'{"items": [{"id": [1], "text": "x"}]}',  # wrong id type
        b'{"items": "crash"}',  # wrong container
        b'{"items": []}',  # empty batch
        b'{"items": [{"id": 1, "text": "   "}]}',  # empty text
        b'{"items": [{"id": 1}]}',  # no text at all
        b'{"items": [{"id": 1, "text": "a", "title": "b"}]}',  # both kinds
        b'{"items": [{"id": 1, "text": "a", "lang": "en"}]}',  # unknown field
        b'{"items": [{"id": 1, "text": "a"}], "extra": 1}',  # unknown top-level field
        b"",  # no body
    ],
)
def test_bad_input_is_a_clear_4xx(make_client, body):
    c = make_client()
    r = c.post("/v1/predict", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.json()["detail"]
    if r.status_code == 422:
        assert r.json()["message"].startswith(("The request is invalid at ", "The request body is not valid JSON: "))


def test_validation_message_names_the_field(make_client):
    r = make_client().post("/v1/predict", json={"items": [{"id": 1, "text": "a", "lang": "en"}]})
    assert r.status_code == 422
    assert r.json()["message"] == "The request is invalid at items.0.lang: Extra inputs are not permitted."


TOKEN = "api-token-0123456789abcdef"


def test_bearer_auth(make_client):
    c = make_client(api_token=TOKEN)
    assert c.post("/v1/predict", json={"items": ITEMS}).status_code == 401
    wrong = c.post("/v1/predict", json={"items": ITEMS}, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert "FEWTAG_API_TOKEN" in wrong.json()["detail"]
    ok = c.post("/v1/predict", json={"items": ITEMS}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200
    assert c.post("/v1/search", json={"query": "x"}).status_code == 401
    assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200


def test_metrics(make_client):
    c = make_client()
    c.post("/v1/predict", json={"items": ITEMS})
    c.post("/v1/predict", content=b"{", headers={"Content-Type": "application/json"})
    text = c.get("/metrics")
    assert text.headers["content-type"].startswith("text/plain")
    body = text.text
    assert 'fewtag_requests_total{method="POST",path="/v1/predict",status="200"} 1.0' in body
    assert 'fewtag_requests_total{method="POST",path="/v1/predict",status="422"} 1.0' in body
    assert 'fewtag_request_duration_seconds_bucket{le="+Inf",path="/v1/predict"} 2.0' in body
    assert 'method="tfidf-logreg"' in body and "fewtag_model_info{" in body
    assert "fewtag_predictions_total 3.0" in body


def test_burst_of_concurrent_requests(make_client):
    c = make_client()

    def one(i: int):
        r = c.post("/v1/predict", json={"items": [{"id": i, "text": "typo in the docs"}]})
        return r.status_code, r.json()["predictions"][0]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(64)))
    assert all(s == 200 for s, _ in results)
    assert [p["id"] for _, p in results] == list(range(64))
    assert all(p["labels"] == ["documentation"] for _, p in results)


def test_batcher_gathers_waiting_requests():
    calls: list[int] = []
    gate = threading.Event()

    def fn(texts):
        calls.append(len(texts))
        if len(calls) == 1:
            gate.wait(5)
        return [t.upper() for t in texts]

    b = MicroBatcher(fn, max_batch=100, max_wait=0.0).start()
    try:
        first = b.submit(["a"])
        time.sleep(0.05)
        rest = [b.submit([f"x{i}", f"y{i}"]) for i in range(10)]
        gate.set()
        assert first.result(5) == ["A"]
        assert [f.result(5) for f in rest] == [[f"X{i}", f"Y{i}"] for i in range(10)]
        assert calls == [1, 20]  # the ten waiting requests ran as one model call
    finally:
        b.stop()


def test_batcher_isolates_a_failing_request():
    def fn(texts):
        if "bad" in texts:
            raise ValueError("bad text")
        return texts

    b = MicroBatcher(fn, max_batch=10, max_wait=0.05).start()
    try:
        good, bad = b.submit(["ok"]), b.submit(["bad"])
        assert good.result(5) == ["ok"]
        with pytest.raises(ValueError):
            bad.result(5)
    finally:
        b.stop()


def test_batcher_wait_adapts_to_the_model_time():
    def slow(texts):
        time.sleep(0.04)
        return texts

    b = MicroBatcher(slow, max_batch=100, max_wait=0.005).start()
    try:
        assert b.wait == 0.0  # nothing measured yet: no waiting
        b.submit(["a"]).result(5)
        assert b.wait == pytest.approx(0.005)  # a quarter of 40 ms, capped at 5 ms
    finally:
        b.stop()
