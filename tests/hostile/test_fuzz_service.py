"""Property-based fuzzing (Hypothesis) of /v1/predict and the webhook payload model.

Random JSON, random bytes and random Unicode: the answer is a 2xx or a 4xx with a
JSON ``detail``, never a 5xx or a traceback, and a rejected webhook delivery
leaves the store and the fake GitHub untouched. Bounded: 50 examples each, about
ten seconds in all.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fewtag.service import ServiceSettings, create_app
from tests.github.fake_github import TOKEN, FakeGitHub
from tests.service.conftest import issue_event, model_dir, signed  # noqa: F401  (fixtures)

SECRET = "hook-secret-0123456789"
FUZZ = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, database=None
)

# JSON values, including the non-finite floats Python's json writes as NaN/Infinity
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(["id", "text", "title", "body", "lang"])
items = st.lists(st.dictionaries(field_names, json_values, max_size=4), max_size=4)
predict_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"items": items}).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {
            "items": st.lists(
                st.fixed_dictionaries({"id": st.integers() | st.text(max_size=5), "text": st.text(max_size=40)}),
                min_size=1,
                max_size=3,
            )
        }
    ).map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@pytest.fixture(scope="module")
def gh():
    with FakeGitHub() as server:
        server.add_issue("octo/widgets", 1, "crash with a traceback", "an exception on load")
        yield server


@pytest.fixture(scope="module")
def client(model_dir, gh, tmp_path_factory):
    from fewtag.data.store import Store

    db = tmp_path_factory.mktemp("fuzz") / "s.db"
    Store(db).close()
    app = create_app(
        ServiceSettings(
            model=str(model_dir), webhook_secret=SECRET, github_token=TOKEN, github_api_url=gh.url, store=str(db)
        )
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _check_4xx_or_ok(r) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:300])
    assert "Traceback" not in r.text
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("application/json")
        assert r.json()["detail"]


@FUZZ
@given(body=predict_bodies)
def test_predict_never_answers_5xx(client, body):
    r = client.post("/v1/predict", content=body, headers={"Content-Type": "application/json"})
    _check_4xx_or_ok(r)
    if r.status_code == 200:
        assert len(r.json()["predictions"]) == len(json.loads(body)["items"])


def _deliveries(c) -> int:
    store = c.app.state.fewtag.store
    store._deliveries_table()
    return store.conn.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0]


def _mutate(draw_value, path):
    payload = issue_event()
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = draw_value
    return payload


paths = st.sampled_from(
    [
        ("action",),
        ("issue",),
        ("issue", "number"),
        ("issue", "title"),
        ("issue", "body"),
        ("issue", "labels"),
        ("repository",),
        ("repository", "full_name"),
        ("issue", "pull_request"),
    ]
)
webhook_bodies = st.one_of(
    st.tuples(json_values, paths).map(lambda vp: json.dumps(_mutate(*vp)).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.text(max_size=100).map(
        lambda t: json.dumps(
            {"action": "opened", "issue": {"number": 1, "title": t}, "repository": {"full_name": t}}
        ).encode()
    ),
)


@FUZZ
@given(body=webhook_bodies, n=st.integers(min_value=0, max_value=10**9))
def test_webhook_never_answers_5xx_and_rejects_cleanly(client, gh, body, n):
    c = client
    assert c.app.state.fewtag.worker.wait_idle(10)  # an earlier example's accepted write-back is finished
    before_rows, before_calls = _deliveries(c), len(gh.calls())
    r = c.post("/github/webhook", **signed(SECRET, body, delivery=f"fuzz-{n}-{hash(body)}"))
    _check_4xx_or_ok(r)
    assert r.status_code in (200, 202, 204, 422), r.text
    if r.status_code != 202:  # nothing recorded, nothing sent
        assert _deliveries(c) == before_rows
        assert c.app.state.fewtag.worker.wait_idle(10)
        assert len(gh.calls()) == before_calls


@FUZZ
@given(payload=json_values)
def test_payload_model_accepts_or_raises_validation_error(payload):
    """The model alone: a ValidationError or a valid event, never another exception or a coercion."""
    from pydantic import ValidationError

    from fewtag.github.names import is_valid_repo
    from fewtag.service.webhook import parse_issues_event

    try:
        event = parse_issues_event(payload)
    except ValidationError:
        return
    assert type(event.issue.number) is int and 0 < event.issue.number < 2**31
    assert isinstance(event.issue.title, str) and is_valid_repo(event.repository.full_name)
