"""Hostile files for ``fewtag import``: stale dumps, decompression bombs, malformed CSV/JSON,
ill-typed fields. Each case: one line naming ``file:line``, exit 1, the store as it was."""

from __future__ import annotations

import gzip
import json
import sqlite3
import tracemalloc
import zipfile

import pytest

from fewtag.data.importers import import_file, read_items
from fewtag.data.store import Item, Store
from fewtag.errors import DataFormatError, TaggerError
from tests.utils.cli import run_cli

REPO_URL = "https://api.github.com/repos/acme/widgets"


def _issue(number: int, title: str, updated: str | None, labels=("bug",)) -> dict:
    obj = {
        "number": number,
        "title": title,
        "body": "b",
        "repository_url": REPO_URL,
        "labels": [{"name": lab} for lab in labels],
    }
    if updated is not None:
        obj["updated_at"] = updated
    return obj


def _write_jsonl(path, rows) -> None:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")


def _dump(db) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT * FROM items ORDER BY repo, id").fetchall()


# ------------------------------------------------------------ 12.6 stale data
def test_older_dump_after_newer_keeps_the_newer_rows(tmp_path):
    new, old = tmp_path / "new.jsonl", tmp_path / "old.jsonl"
    _write_jsonl(
        new, [_issue(1, "fixed title", "2024-03-01T00:00:00Z", ["bug", "ui"]), _issue(2, "two", "2024-03-01T00:00:00Z")]
    )
    _write_jsonl(
        old,
        [
            _issue(1, "old title", "2024-01-01T00:00:00Z"),
            _issue(2, "two, newer", "2024-04-01T00:00:00Z"),
            _issue(3, "three", "2024-01-01T00:00:00Z"),
        ],
    )
    db = tmp_path / "s.db"
    import_file(new, db)
    result = import_file(old, db)
    c = result.counts
    assert (c.inserted, c.updated, c.older, c.unchanged) == (1, 1, 1, 0)
    with Store(db) as s:
        one = s.get_item("acme/widgets", 1)
        assert (one.title, one.labels, one.updated_at) == ("fixed title", ["bug", "ui"], "2024-03-01T00:00:00Z")
        assert s.get_item("acme/widgets", 2).title == "two, newer"  # a newer row still replaces
        assert s.count() == 3


def test_timestamps_compare_as_times_not_strings(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as s:
        s.upsert_items([Item("o/r", "1", title="new", updated_at="2024-03-01T10:00:00+02:00")])
        # 07:30Z is earlier than 10:00+02:00 (= 08:00Z) although it sorts later as text
        counts = s.upsert_items([Item("o/r", "1", title="old", updated_at="2024-03-01T07:30:00Z")])
        assert counts.older == 1 and s.get_item("o/r", "1").title == "new"


def test_rows_without_updated_at_replace_as_before(tmp_path):
    db = tmp_path / "s.db"
    with Store(db) as s:
        s.upsert_items([Item("o/r", "1", title="a", updated_at="2024-03-01T00:00:00Z")])
        assert s.upsert_items([Item("o/r", "1", title="b")]).updated == 1  # no timestamp: replaces
        s.upsert_items([Item("o/r", "2", title="a")])
        assert s.upsert_items([Item("o/r", "2", title="b", updated_at="2020-01-01T00:00:00Z")]).updated == 1
        assert s.upsert_items([Item("o/r", "3", title="a", updated_at="garbage")]).inserted == 1
        assert s.upsert_items([Item("o/r", "3", title="b", updated_at="2020-01-01T00:00:00Z")]).updated == 1


def test_one_file_with_two_versions_keeps_the_newer(tmp_path):
    path = tmp_path / "d.jsonl"
    _write_jsonl(path, [_issue(1, "newer", "2024-03-01T00:00:00Z"), _issue(1, "older", "2024-01-01T00:00:00Z")])
    (item,) = read_items(path)
    assert item.title == "newer"


def test_import_summary_reports_skipped_older_rows(tmp_path, monkeypatch, capsys):
    new, old, db = tmp_path / "new.jsonl", tmp_path / "old.jsonl", tmp_path / "s.db"
    _write_jsonl(new, [_issue(i, "new", "2024-03-01T00:00:00Z") for i in (1, 2)])
    _write_jsonl(old, [_issue(i, "old", "2024-01-01T00:00:00Z") for i in (1, 2)])
    assert run_cli(monkeypatch, capsys, "import", str(new), "--store", str(db))[0] == 0
    code, out, _ = run_cli(monkeypatch, capsys, "import", str(old), "--store", str(db))
    assert code == 0 and "0 updated" in out and "2 older than the stored version" in out
    assert {i.title for i in Store(db).items()} == {"new"}


def test_fetch_never_replaces_a_newer_stored_row(tmp_path):
    """``fetch`` writes through ``store.upsert_rows``: an older upstream version is skipped too."""
    from fewtag.github.client import GitHubClient
    from fewtag.github.sync import fetch_repo
    from tests.github.fake_github import TOKEN, FakeGitHub

    with FakeGitHub() as gh, Store(tmp_path / "s.db") as store:
        gh.add_issue("octo/widgets", 1, "upstream title", labels=["bug"])
        gh.add_issue("octo/widgets", 2, "second", labels=[])
        store.upsert_items(
            [
                Item(
                    "octo/widgets",
                    "1",
                    number=1,
                    title="newer local copy",
                    labels=["ui"],
                    updated_at="2999-01-01T00:00:00Z",
                )
            ]
        )
        with GitHubClient(TOKEN, gh.url, timeout=2.0, max_attempts=2, backoff=0.01) as client:
            r = fetch_repo(store, "octo/widgets", client=client)
        assert (r.items, r.inserted, r.updated, r.older) == (2, 1, 0, 1)
        kept = store.get_item("octo/widgets", 1)
        assert (kept.title, kept.labels) == ("newer local copy", ["ui"])
        assert store.get_item("octo/widgets", 2).title == "second"


# ------------------------------------------------------- 12.7 decompression bombs
BOMB_BYTES = 64 * 2**20  # 64 MiB of one JSON record, a few kB compressed


def _bomb_chunks():
    yield b'{"text": "'
    block = b"a" * 2**20
    for _ in range(BOMB_BYTES // len(block)):
        yield block
    yield b'", "labels": ["x"]}\n'


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    d = tmp_path_factory.mktemp("bombs")
    z = d / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf, zf.open("a.jsonl", "w") as fh:
        for chunk in _bomb_chunks():
            fh.write(chunk)
    g = d / "bomb.jsonl.gz"
    with gzip.open(g, "wb", compresslevel=1) as fh:
        for chunk in _bomb_chunks():
            fh.write(chunk)
    nested = d / "nested.zip"  # a .gz inside a zip: the zip's declared size is the small .gz
    with zipfile.ZipFile(nested, "w") as zf:
        zf.write(g, "inner/a.jsonl.gz")
    return {"zip": z, "gz": g, "nested": nested}


@pytest.mark.parametrize("kind", ["zip", "gz", "nested"])
def test_decompression_bomb_is_refused_in_bounded_memory(bombs, kind, tmp_path, monkeypatch):
    assert bombs[kind].stat().st_size < 1_000_000
    monkeypatch.setenv("FEWTAG_MAX_DECOMPRESSED", "4MB")
    tracemalloc.start()
    try:
        with pytest.raises(
            DataFormatError,
            match=r"expands to more than 4 MB when decompressed.*"
            "FEWTAG_MAX_DECOMPRESSED",
        ):
            import_file(bombs[kind], tmp_path / "s.db")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24 * 2**20, f"peak {peak / 2**20:.0f} MiB while refusing a 64 MiB bomb"
    assert not (tmp_path / "s.db").exists()


def test_bomb_cap_option_env_and_default(bombs, tmp_path, monkeypatch):
    from fewtag.data.importers import DEFAULT_MAX_DECOMPRESSED, max_decompressed_bytes

    monkeypatch.delenv("FEWTAG_MAX_DECOMPRESSED", raising=False)
    assert max_decompressed_bytes() == DEFAULT_MAX_DECOMPRESSED == 2_000_000_000
    with pytest.raises(DataFormatError, match="more than 1 MB"):
        read_items(bombs["gz"], max_bytes=1_000_000)  # the option wins over the default
    small = tmp_path / "small.jsonl.gz"
    small.write_bytes(gzip.compress(b'{"text": "' + b"a" * 900_000 + b'"}\n'))
    assert len(read_items(small, max_bytes=1_000_000)) == 1  # under the cap it imports
    monkeypatch.setenv("FEWTAG_MAX_DECOMPRESSED", "0.5MB")
    with pytest.raises(DataFormatError, match="more than 500 kB"):
        read_items(small)


def test_bomb_cli_is_one_line_and_exit_1(bombs, tmp_path, monkeypatch, capsys):
    code, out, err = run_cli(
        monkeypatch,
        capsys,
        "import",
        str(bombs["nested"]),
        "--store",
        str(tmp_path / "s.db"),
        "--max-decompressed",
        "2MB",
    )
    assert code == 1 and len(err.strip().splitlines()) == 1 and "more than 2 MB" in err
    assert "Traceback" not in err and not (tmp_path / "s.db").exists()


def test_too_many_zip_members(tmp_path, monkeypatch):
    z = tmp_path / "many.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for i in range(30):
            zf.writestr(f"m{i}.jsonl", json.dumps({"text": f"t{i}", "labels": ["a"]}))
    monkeypatch.setenv("FEWTAG_MAX_ARCHIVE_MEMBERS", "20")
    with pytest.raises(DataFormatError, match="holds 30 files, more than the limit of 20"):
        read_items(z)
    monkeypatch.setenv("FEWTAG_MAX_ARCHIVE_MEMBERS", "30")
    assert len(read_items(z)) == 30


def test_zip_that_lies_about_its_size_is_still_capped(tmp_path, monkeypatch):
    """The streaming count, not the declared size, is what holds: patch the header to claim 10 bytes."""
    z = tmp_path / "liar.zip"
    payload = b'{"text": "' + b"a" * 3_000_000 + b'"}\n'
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.jsonl", payload)
    raw = bytearray(z.read_bytes())
    size = len(payload).to_bytes(4, "little")
    for at in (i for i in range(len(raw) - 3) if raw[i : i + 4] == size):
        raw[at : at + 4] = (10).to_bytes(4, "little")
    z.write_bytes(bytes(raw))
    with pytest.raises(DataFormatError):  # either the cap or zipfile's own size check; never 3 MB read
        read_items(z, max_bytes=1_000_000)


# ------------------------------------------------------------ malformed files
BAD_FILES = {
    "unterminated-quote.csv": (
        b'text,labels\nfine,bug\n"never closed,bug\nrow 4,feature\nrow 5,bug\n',
        r":3: unterminated quote.*swallow",
    ),
    "nested-lines.jsonl": (
        b'{"text": "ok", "labels": ["a"]}\n' + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        r":2: JSON nested too deeply",
    ),
    "nested-array.json": (
        b'[{"text": "ok", "labels": ["a"]},\n' + b"[" * 100_000 + b"]" * 100_000 + b"]",
        r":2: JSON nested too deeply",
    ),
    "float-id.jsonl": (
        b'{"text": "a", "labels": ["x"], "id": 1e23}\n',
        r":1: field 'id' must be a string or an integer",
    ),
    "huge-number.jsonl": (
        b'{"text": "a", "labels": ["x"], "number": 100000000000000000000000}\n',
        r":1: field 'number' is 100000000000000000000000, outside",
    ),
    "huge-github.jsonl": (
        json.dumps(_issue(10**23, "t", None)).encode() + b"\n",
        r":1: not a GitHub issue object \(field 'number' is 1000",
    ),
    "float-github.jsonl": (
        json.dumps(_issue(1, "t", None)).replace('"number": 1', '"number": 1e23').encode(),
        r":1: .*field 'number' must be a whole number",
    ),
    "list-text.jsonl": (
        b'{"text": "fine", "labels": ["x"]}\n{"text": ["a", "b"], "labels": ["x"]}\n',
        r":2: field 'text' is a list",
    ),
    "list-title.json": (b'[{"title": {"a": 1}, "body": "x", "labels": ["x"]}]', r":1: field 'title' is an object"),
    "list-github-title.jsonl": (
        json.dumps({**_issue(1, "t", None), "title": ["a", "b"]}).encode(),
        r":1: .*field 'title' is a list",
    ),
    "dict-id.jsonl": (b'{"text": "a", "id": {"x": 1}}\n', r":1: field 'id' must be a string or an integer"),
    "bool-label.jsonl": (b'{"text": "a", "labels": [true]}\n', r":1: a label is a boolean"),
    "labels-int-github.jsonl": (
        json.dumps({**_issue(1, "t", None), "labels": 5}).encode(),
        r":1: .*field 'labels' is a number",
    ),
    "many-digits.jsonl": (b'{"text": "a", "id": ' + b"9" * 5000 + b"}\n", r":1: malformed JSON"),
    "extra-fields.csv": (b"text,labels\na,b,c,d\n", r":2: 4 fields but the header has 2"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_is_one_error_with_file_line_and_nothing_written(tmp_path, name):
    content, pattern = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    db = tmp_path / "s.db"
    with pytest.raises(DataFormatError, match=pattern) as err:
        import_file(path, db)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)
    assert not db.exists() and not (tmp_path / "s.db-wal").exists()


@pytest.mark.parametrize(
    "name", ["unterminated-quote.csv", "nested-lines.jsonl", "huge-github.jsonl", "list-text.jsonl"]
)
def test_bad_file_leaves_an_existing_store_unchanged_cli(tmp_path, monkeypatch, capsys, name):
    db = tmp_path / "s.db"
    good = tmp_path / "good.jsonl"
    _write_jsonl(good, [{"text": "kept", "labels": ["a"], "id": "1"}])
    import_file(good, db)
    before = _dump(db)
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name][0])
    code, out, err = run_cli(monkeypatch, capsys, "import", str(path), "--store", str(db))
    assert code == 1 and len(err.strip().splitlines()) == 1 and f"{path}:" in err, err
    assert "Traceback" not in err
    assert _dump(db) == before


def test_overflow_in_the_store_leaves_no_store_file(tmp_path):
    """Even an error only the write finds (here: SQLite's 64-bit integers) removes the new file."""
    db = tmp_path / "s.db"
    items = [Item("o/r", "1", number=2**70)]
    with pytest.raises(OverflowError):
        with Store(db) as s:
            s.upsert_items(items)
    db.unlink()
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "a"}\n')
    from fewtag.data import importers

    real = importers.read_items
    try:
        importers.read_items = lambda *a, **k: items  # type: ignore[assignment]
        with pytest.raises(OverflowError):
            import_file(path, db)
    finally:
        importers.read_items = real
    assert not db.exists() and not (tmp_path / "s.db-wal").exists()


def test_good_csv_with_quoted_newlines_still_imports(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text('id,text,labels\n1,"line one\nline two, with comma",bug\n2,plain,feature\n')
    items = read_items(path)
    assert [(i.id, i.body, i.labels) for i in items] == [
        ("1", "line one\nline two, with comma", ["bug"]),
        ("2", "plain", ["feature"]),
    ]


def test_numbers_as_text_are_converted_explicitly_and_surrogates_replaced(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text('{"text": 404, "labels": [7], "id": 12}\n{"text": "bad \\ud800 escape", "id": "s"}\n')
    a, b = read_items(path)
    assert (a.body, a.labels, a.id) == ("404", ["7"], "12")
    assert b.body == "bad \ufffd escape"
    import_file(path, tmp_path / "s.db")  # storable


def test_every_error_is_a_tagger_error():
    assert issubclass(DataFormatError, TaggerError)
