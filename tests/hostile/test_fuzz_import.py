"""Property-based fuzzing of the importers (Hypothesis): random JSON records, random bytes and
random Unicode, as every file kind. Each import either succeeds or raises one
:class:`~fewtag.errors.TaggerError` with a one-line message; a failed import leaves the store
exactly as it was. Bounded: 50 examples a property, fixed seeds, well under 30 s in all."""

from __future__ import annotations

import atexit
import gzip
import io
import json
import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fewtag.data.importers import import_file  # noqa: E402
from fewtag.data.store import Item, Store  # noqa: E402
from fewtag.errors import TaggerError  # noqa: E402

FUZZ = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_WORK = Path(tempfile.mkdtemp(prefix="fewtag-fuzz-"))
atexit.register(shutil.rmtree, _WORK, True)
_DB = _WORK / "store.db"
with Store(_DB) as _s:  # a store with data in it: a failed import must leave it unchanged
    _s.upsert_items(
        [
            Item("o/r", str(i), number=i, title=f"kept {i}", labels=["bug"], updated_at="2024-01-01T00:00:00Z")
            for i in range(1, 4)
        ]
    )

KEYS = [
    "text",
    "title",
    "body",
    "labels",
    "label",
    "id",
    "number",
    "repo",
    "state",
    "updated_at",
    "created_at",
    "is_pull_request",
    "repository_url",
    "html_url",
    "url",
    "user",
    "pull_request",
    "name",
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(
        ["bug", '["a", "b"]', "2024-02-01T00:00:00Z", "1", "", "https://api.github.com/repos/o/r", "\ud800"]
    )
)
values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), c, max_size=4),
    max_leaves=12,
)
texts = st.one_of(*[st.text(max_size=30)] * 6, st.sampled_from(["bad \ud800 escape", "", "crash\x00nul"]))


def mostly(good, wild=values):
    """Mostly plausible values, now and then anything (``one_of`` alone draws the wild branch
    far more often than its share)."""
    return st.integers(0, 7).flatmap(lambda pick: wild if pick == 7 else good)


FIELDS = {
    "text": mostly(texts),
    "title": mostly(texts),
    "body": mostly(texts | st.none()),
    "labels": mostly(st.lists(texts, max_size=3) | st.lists(st.fixed_dictionaries({"name": texts}), max_size=3)),
    "label": mostly(texts),
    "id": mostly(st.text(min_size=1, max_size=8) | st.integers()),
    "number": mostly(st.integers(min_value=0, max_value=10**6)),
    "repo": mostly(st.just("o/r")),
    "state": mostly(st.sampled_from(["open", "closed"])),
    "updated_at": mostly(st.sampled_from(["2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "soon"])),
    "created_at": mostly(st.just("2023-01-01T00:00:00Z")),
    "is_pull_request": mostly(st.booleans()),
    "user": mostly(st.fixed_dictionaries({"login": texts})),
    "html_url": mostly(texts),
    "pull_request": values,
}
_OPTIONAL = {k: v for k, v in FIELDS.items() if k not in ("text", "title", "body")}
_text_record = st.fixed_dictionaries({"text": FIELDS["text"]}, optional=_OPTIONAL)
_title_record = st.fixed_dictionaries({"title": FIELDS["title"]}, optional={"body": FIELDS["body"], **_OPTIONAL})
records = st.one_of(
    _text_record, _text_record, _title_record, _title_record, st.dictionaries(st.sampled_from(KEYS), values, max_size=8)
)
ascii_mostly = st.sampled_from([True, True, True, False])
SUFFIXES = [".jsonl", ".json", ".csv", ".txt", ".jsonl.gz", ".zip"]


def _dump() -> list[str]:
    conn = sqlite3.connect(_DB)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _wrap(data: bytes, suffix: str) -> bytes:
    if suffix.endswith(".gz"):
        return gzip.compress(data)
    if suffix == ".zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("member.jsonl", data)
        return buf.getvalue()
    return data


def _import(data: bytes, suffix: str, **options) -> None:
    """The property: success, or one one-line TaggerError and an unchanged store."""
    path = _WORK / f"input{suffix}"
    path.write_bytes(_wrap(data, suffix))
    before = _dump()
    try:
        result = import_file(path, _DB, **options)
    except TaggerError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message, repr(message)
        assert _dump() == before, "a failed import changed the store"
        return
    assert result.items >= 1
    with Store(_DB) as s:  # what was stored is well-typed
        for item in s.items():
            assert isinstance(item.title, str) and isinstance(item.body, str) and isinstance(item.id, str)
            assert all(isinstance(lab, str) for lab in item.labels)
            assert item.number is None or (isinstance(item.number, int) and 0 <= item.number < 2**63)


def _json_bytes(obj, ascii: bool = True) -> bytes:
    """JSON with NaN/Infinity allowed; ``ascii`` escapes everything (so lone surrogates arrive as
    ``\\ud800`` escapes), else raw UTF-8 (a lone surrogate is then an invalid byte sequence)."""
    return json.dumps(obj, allow_nan=True, ensure_ascii=ascii).encode("utf-8", "surrogatepass")


@FUZZ
@given(
    st.lists(records, min_size=1, max_size=3),
    st.sampled_from(["lines", "array"]),
    st.sampled_from(SUFFIXES[:2] + SUFFIXES[4:]),
    ascii_mostly,
)
def test_random_json_records(rows, layout, suffix, ascii):
    if layout == "array":
        data = _json_bytes(rows, ascii)
    else:
        data = b"\n".join(_json_bytes(r, ascii) for r in rows)
    _import(data, suffix)


@FUZZ
@given(
    st.lists(
        st.fixed_dictionaries(
            {"number": FIELDS["number"], "title": FIELDS["title"], "labels": FIELDS["labels"]},
            optional={k: FIELDS[k] for k in ("body", "user", "state", "updated_at", "pull_request", "html_url")},
        ),
        min_size=1,
        max_size=3,
    ),
    ascii_mostly,
)
def test_github_like_objects_with_random_fields(rows, ascii):
    for r in rows:
        r["repository_url"] = "https://api.github.com/repos/o/r"
    _import(b"\n".join(_json_bytes(r, ascii) for r in rows), ".jsonl", format="github")


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(SUFFIXES))
def test_random_bytes(data, suffix):
    _import(data, suffix)


@FUZZ
@given(
    st.text(max_size=300),
    st.sampled_from(SUFFIXES[:4]),
    st.sampled_from(["auto", "jsonl", "csv", "semicolon", "github"]),
)
def test_random_unicode(text, suffix, format):
    _import(text.encode("utf-8", "surrogatepass"), suffix, format=format)


@FUZZ
@given(
    st.lists(
        st.lists(st.text(alphabet=st.sampled_from('ab,"\n\r;x[]{}\\'), max_size=8), min_size=1, max_size=4),
        min_size=1,
        max_size=6,
    )
)
def test_random_csv(cells):
    lines = ["text,labels,id"] + [",".join(row) for row in cells]
    _import("\n".join(lines).encode(), ".csv")


def test_the_fuzz_store_is_still_valid():
    conn = sqlite3.connect(_DB)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
