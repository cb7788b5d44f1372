"""Hostile probes of the HTTP API: secrets, non-finite JSON, encodings, auth order, slow clients.

Each test failed on the code before issue 12's fixes (see the closing note for which).
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fewtag.errors import ConfigError
from fewtag.service import ServiceSettings, create_app
from fewtag.service.settings import MIN_SECRET_CHARS, get_settings
from tests.service.conftest import make_client, model_dir  # noqa: F401  (fixtures)

TOKEN = "api-token-0123456789abcdef"
VARS = {"api_token": "FEWTAG_API_TOKEN", "webhook_secret": "FEWTAG_WEBHOOK_SECRET"}
JSON = {"Content-Type": "application/json"}


# ------------------------------------------------------------------------------- secrets
@pytest.mark.parametrize("field", sorted(VARS))
@pytest.mark.parametrize("value", ["", " ", "\t\n  "])
def test_empty_or_blank_secret_is_refused(model_dir, field, value):
    with pytest.raises(ConfigError, match=f"{VARS[field]} is set but (empty|only whitespace)"):
        create_app(ServiceSettings(model=str(model_dir), **{field: value}))


@pytest.mark.parametrize("field", sorted(VARS))
def test_short_secret_is_refused_unless_allowed(model_dir, field):
    short = "x" * (MIN_SECRET_CHARS - 1)
    with pytest.raises(ConfigError, match=f"{VARS[field]} has 15 characters.*--allow-weak-secret"):
        create_app(ServiceSettings(model=str(model_dir), **{field: short}))
    create_app(ServiceSettings(model=str(model_dir), allow_weak_secret=True, **{field: short}))
    create_app(ServiceSettings(model=str(model_dir), **{field: "x" * MIN_SECRET_CHARS}))


@pytest.mark.parametrize("field", sorted(VARS))
def test_secret_with_spaces_around_is_refused(model_dir, field):
    with pytest.raises(ConfigError, match="spaces or a newline around it"):
        create_app(ServiceSettings(model=str(model_dir), **{field: TOKEN + "\n"}))


def test_empty_secrets_from_the_environment(model_dir, monkeypatch):
    """The probe itself: FEWTAG_API_TOKEN= and FEWTAG_WEBHOOK_SECRET= (empty) in the environment."""
    for var in VARS.values():
        monkeypatch.setenv(var, "")
        with pytest.raises(ConfigError, match=f"{var} is set but empty"):
            create_app(ServiceSettings(model=str(model_dir)))
        monkeypatch.delenv(var)


@pytest.mark.parametrize(
    ("var", "value", "extra", "needle"),
    [
        ("FEWTAG_WEBHOOK_SECRET", "", [], "FEWTAG_WEBHOOK_SECRET is set but empty"),
        ("FEWTAG_API_TOKEN", "", [], "FEWTAG_API_TOKEN is set but empty"),
        ("FEWTAG_API_TOKEN", " \t", [], "FEWTAG_API_TOKEN is set but only whitespace"),
        ("FEWTAG_WEBHOOK_SECRET", "short", [], "--allow-weak-secret"),
        ("FEWTAG_API_TOKEN", "short", ["--allow-weak-secret"], "does not exist"),  # passes; the model fails
    ],
)
def test_serve_checks_secrets_before_the_model(tmp_path, model_dir, var, value, extra, needle):
    """In-process (fast): the command raises the ConfigError that the CLI prints as one line."""
    from typer.testing import CliRunner

    import fewtag.cli  # noqa: F401
    from fewtag.cli import app
    from fewtag.errors import TaggerError

    model = str(tmp_path / "nope") if extra else str(model_dir)
    res = CliRunner().invoke(app, ["serve", model, "--port", "9", *extra], env={var: value})
    assert isinstance(res.exception, TaggerError) and needle in str(res.exception), res.exception


@pytest.mark.slow
def test_serve_refuses_empty_and_short_secrets_in_one_line(model_dir, tmp_path):
    """`fewtag serve` as a process: one error line, exit 1, no port bound (slow: 4 CLI starts)."""
    import os

    fewtag = str(Path(sys.executable).parent / "fewtag")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "400"}
    runs = {
        "empty-secret": ({**env, "FEWTAG_WEBHOOK_SECRET": ""}, [], "FEWTAG_WEBHOOK_SECRET is set but empty"),
        "blank-token": ({**env, "FEWTAG_API_TOKEN": "   "}, [], "FEWTAG_API_TOKEN is set but only whitespace"),
        "short-token": ({**env, "FEWTAG_API_TOKEN": "tok"}, [], "--allow-weak-secret"),
        # allowed: the secret passes, and the next check (the model folder) is what fails
        "short-allowed": ({**env, "FEWTAG_API_TOKEN": "tok"}, ["--allow-weak-secret"], "does not exist"),
    }
    procs = {}
    for name, (e, extra, _) in runs.items():
        model = str(model_dir) if name != "short-allowed" else str(tmp_path / "nope")
        procs[name] = subprocess.Popen(
            [fewtag, "serve", model, "--port", "9", *extra],
            env=e,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=180)
        lines = [ln for ln in err.strip().splitlines() if ln.strip()]
        assert proc.returncode == 1, (name, err)
        assert len(lines) == 1 and lines[0].startswith("error:") and runs[name][2] in lines[0], (name, err)


# ------------------------------------------------------------------------- strict JSON
NON_FINITE = [
    ("/v1/predict", b'{"items": [{"id": NaN, "text": "crash"}]}'),
    ("/v1/predict", b'{"items": [{"id": 1, "text": "crash"}], "x": Infinity}'),
    ("/v1/predict", b'{"items": [{"id": -Infinity, "text": "crash"}]}'),
    ("/v1/predict", b'{"items": [{"id": 1e400, "text": "crash"}]}'),
    ("/v1/predict", b'{"items": [{"id": 1, "text": "crash", "title": NaN}]}'),
    ("/v1/search", b'{"query": "crash", "k": NaN}'),
    ("/v1/search", b'{"query": NaN}'),
    ("/v1/search", b'{"query": "crash", "k": Infinity}'),
]


@pytest.mark.parametrize(("path", "body"), NON_FINITE)
def test_non_finite_numbers_are_422(make_client, path, body):
    c = make_client()
    r = c.post(path, content=body, headers=JSON)
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith("The request body is not valid JSON: ")
    assert "finite number" in r.json()["message"]
    assert c.get("/healthz").status_code == 200  # the connection and the server survive


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00garbage",
        '{"items": [{"id": 1, "text": "é"}]}'.encode("latin-1"),
        '{"items": [{"id": 1, "text": "x"}]}'.encode("utf-16"),
    ],
)
def test_non_utf8_body_is_422(make_client, body):
    r = make_client().post("/v1/predict", content=body, headers=JSON)
    assert r.status_code == 422 and "not UTF-8" in r.json()["message"], r.text


def test_deeply_nested_json_is_422(make_client):
    r = make_client().post("/v1/predict", content=b"[" * 200_000, headers=JSON)
    assert r.status_code == 422 and "nested too deeply" in r.json()["message"], r.text


def test_huge_integer_is_422(make_client):
    r = make_client().post(
        "/v1/predict", content=b'{"items": [{"id": ' + b"9" * 5000 + b', "text": "x"}]}', headers=JSON
    )
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "body", [b'{"items": [', b"\xff\xfe", b'{"items": [{"id": NaN, "text": "x"}]}', b'{"items": "crash"}', b""]
)
@pytest.mark.parametrize("path", ["/v1/predict", "/v1/search"])
def test_authentication_comes_before_the_body(make_client, body, path):
    c = make_client(api_token=TOKEN)
    r = c.post(path, content=body, headers=JSON)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer", r.text
    r = c.post(path, content=body, headers={**JSON, "Authorization": "Bearer "})
    assert r.status_code == 401
    authed = c.post(path, content=body, headers={**JSON, "Authorization": f"Bearer {TOKEN}"})
    assert authed.status_code == 422


# ---------------------------------------------------------- issue 11 section 4: the service
def test_settings_come_from_a_dependency_tests_can_override(model_dir):
    app = create_app(ServiceSettings(model=str(model_dir)))
    items = [{"id": 1, "text": "crash"}, {"id": 2, "text": "typo"}]
    with TestClient(app) as c:
        assert c.post("/v1/predict", json={"items": items}).status_code == 200
        app.dependency_overrides[get_settings] = lambda: ServiceSettings(
            model=str(model_dir), max_batch=1, api_token=TOKEN
        )
        r = c.post("/v1/predict", json={"items": items})
        assert r.status_code == 401  # the overridden token guards the route
        r = c.post("/v1/predict", json={"items": items}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 422 and "at most 1 items" in r.json()["detail"]


def test_predict_declares_what_it_returns(make_client):
    from fastapi.responses import JSONResponse

    from fewtag.service.routers.predict import router
    from fewtag.service.schemas import PredictResponse

    c = make_client()
    [route] = [r for r in router.routes if r.path.endswith("/predict")]
    assert route.response_model is None and route.response_class is JSONResponse
    schema = c.get("/openapi.json").json()["paths"]["/v1/predict"]["post"]["responses"]["200"]
    assert schema["content"]["application/json"]["schema"]["$ref"].endswith("/PredictResponse")
    r = c.post("/v1/predict", json={"items": [{"id": "a", "title": "crash", "body": "traceback"}]})
    assert PredictResponse.model_validate(r.json()).predictions[0].id == "a"


def test_metrics_use_prometheus_client_with_a_registry_per_app(make_client):
    from prometheus_client import REGISTRY, CollectorRegistry

    a, b = make_client(), make_client()
    assert isinstance(a.app.state.fewtag.metrics.registry, CollectorRegistry)
    assert a.app.state.fewtag.metrics.registry is not REGISTRY
    a.post("/v1/predict", json={"items": [{"id": 1, "text": "crash"}]})
    assert "fewtag_predictions_total 1.0" in a.get("/metrics").text
    assert "fewtag_predictions_total 0.0" in b.get("/metrics").text
    assert a.get("/metrics").headers["content-type"].startswith("text/plain")


def test_predict_uses_the_model_text_path(make_client, model_dir):
    """An HTML comment is cleaned away by text_of, as in training; the raw join would keep it."""
    from fewtag.registry import load_tagger

    tagger = load_tagger(model_dir)
    record = {"title": "typo in the docs", "body": "<!-- crash crash exception segfault crash error -->"}
    c = make_client()
    got = c.post("/v1/predict", json={"items": [{"id": 1, **record}]}).json()["predictions"][0]["scores"]
    want = dict(zip(tagger.classes_, tagger.predict_proba([tagger.text_of(record)])[0]))
    raw = dict(zip(tagger.classes_, tagger.predict_proba([record["title"] + "\n\n" + record["body"]])[0]))
    assert all(abs(got[k] - want[k]) < 1e-5 for k in want)
    assert any(abs(got[k] - raw[k]) > 1e-3 for k in raw)


# ----------------------------------------------------------------------- slow clients
@contextlib.contextmanager
def real_server(model_dir, **overrides):
    """The app under uvicorn (fewtag's protocol and limits) in a thread, on a free port."""
    import uvicorn

    from fewtag.registry import load_tagger
    from fewtag.service.server import server_config

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = ServiceSettings(model=str(model_dir), **overrides)
    app = create_app(settings, tagger=load_tagger(model_dir))
    server = uvicorn.Server(server_config(app, settings, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def _closed_within(sock: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing, or None if it was still open after ``seconds``."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return None
    return data


def test_real_server_limits(model_dir):
    with real_server(
        model_dir,
        header_timeout=0.5,
        body_timeout=0.5,
        timeout_keep_alive=1,
        max_header_bytes=4096,
        limit_concurrency=3,
    ) as port:
        # a request head that never completes is cut off after header_timeout
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        assert _closed_within(slow, 5) == b""
        assert 0.3 < time.monotonic() - start < 3
        slow.close()
        # a body sent too slowly is answered 408 after body_timeout
        body = socket.create_connection(("127.0.0.1", port))
        body.sendall(
            b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 60\r\n\r\n{"items": ['
        )
        start = time.monotonic()
        answer = _closed_within(body, 5)
        assert answer is not None and answer.startswith(b"HTTP/1.1 408"), answer
        assert b"did not arrive within 0.5 seconds" in answer and time.monotonic() - start < 3
        body.close()
        # a request head still incomplete past max_header_bytes is refused
        big = socket.create_connection(("127.0.0.1", port))
        big.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000)
        time.sleep(0.2)
        with contextlib.suppress(OSError):
            big.sendall(b"\r\n\r\n")
        answer = _closed_within(big, 5)
        assert answer is not None and not answer.startswith(b"HTTP/1.1 200"), answer[:80]
        big.close()
        # an idle keep-alive connection is closed after timeout_keep_alive
        idle = socket.create_connection(("127.0.0.1", port))
        idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = _closed_within(idle, 5)
        assert answer is not None and answer.startswith(b"HTTP/1.1 200")
        idle.close()
        # past limit_concurrency connections, requests get 503
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        time.sleep(0.1)
        extra = socket.create_connection(("127.0.0.1", port))
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = _closed_within(extra, 5)
        assert answer is not None and answer.startswith(b"HTTP/1.1 503"), answer[:80]
        for s in [*held, extra]:
            s.close()


def test_serve_exposes_the_limits_as_options():
    from typer.testing import CliRunner

    import fewtag.cli  # noqa: F401
    from fewtag.cli import app

    out = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).output
    for option in (
        "--allow-weak-secret",
        "--timeout-keep-alive",
        "--header-timeout",
        "--body-timeout",
        "--limit-concurrency",
        "--max-header-bytes",
        "--timeout-graceful-shutdown",
    ):
        assert option in out, option
    assert json.dumps(ServiceSettings().model_dump(include={"limit_concurrency"})) == '{"limit_concurrency": 256}'
