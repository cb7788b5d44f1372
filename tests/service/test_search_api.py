from __future__ import annotations

from fewtag.data.store import Store
from fewtag.search.index import build_index
from tests.search.conftest import FakeEncoder, make_items


def test_search_endpoint(make_client, tmp_path):
    db = tmp_path / "s.db"
    enc = FakeEncoder()
    with Store(db) as s:
        s.upsert_items(make_items())
        build_index(s, enc)
    c = make_client(store=str(db), encoder=enc, max_k=5)
    assert c.get("/readyz").json()["search"] is True
    r = c.post("/v1/search", json={"query": "load_dataset never returns", "k": 2})
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert {h["id"] for h in hits} == {"1", "3"} and hits[0]["score"] >= hits[1]["score"]
    assert hits[0]["repo"] == "o/r" and hits[0]["title"]
    assert c.post("/v1/search", json={"query": "x", "k": 6}).status_code == 422
    assert c.post("/v1/search", json={"query": "", "k": 2}).status_code == 422
    assert c.post("/v1/search", json={"query": "  "}).status_code == 422


def test_search_without_store_or_index_is_503(make_client, tmp_path):
    c = make_client()
    r = c.post("/v1/search", json={"query": "crash"})
    assert r.status_code == 503 and "--store" in r.json()["detail"]
    db = tmp_path / "empty.db"
    Store(db).close()
    c = make_client(store=str(db), encoder=FakeEncoder())
    r = c.post("/v1/search", json={"query": "crash"})
    assert r.status_code == 503 and "fewtag index" in r.json()["detail"]
