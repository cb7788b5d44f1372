import gzip
import json
import zipfile

import pytest

from fewtag.data.importers import detect_format, github_item, read_items
from fewtag.data.store import Store
from fewtag.errors import DataFormatError, InputError


def test_github_dump_counts_prs_and_label_names(dump_path):
    items = read_items(dump_path)
    assert len(items) == 130
    assert sum(i.is_pr for i in items) == 10
    assert {i.repo for i in items} == {"acme/widgets"}
    first = next(i for i in items if i.number == 1)
    assert first.labels == ["bug", "enhancement"]  # label objects -> names
    assert first.id == "1"


@pytest.mark.parametrize("wrap", ["zip", "gz", "array"])
def test_github_dump_inside_zip_gz_or_array(tmp_path, dump_path, wrap):
    text = dump_path.read_text()
    if wrap == "zip":
        path = tmp_path / "d.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("inner/dump.jsonl", text)
    elif wrap == "gz":
        path = tmp_path / "d.jsonl.gz"
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path = tmp_path / "d.json"
        path.write_text(json.dumps([json.loads(line) for line in text.splitlines()]))
    assert len(read_items(path)) == 130


def test_generic_jsonl_csv_and_semicolon(tmp_path):
    jl = tmp_path / "a.jsonl"
    jl.write_text(
        '{"text": "crash", "labels": ["bug"], "id": "x1"}\n{"title": "Add", "body": "flag", "label": "feature"}\n'
    )
    items = read_items(jl)
    assert [i.labels for i in items] == [["bug"], ["feature"]]
    assert items[0].id == "x1" and items[1].text == "Add\n\nflag"
    assert items[0].repo == "local/a"
    csv = tmp_path / "b.csv"
    csv.write_text('text,labels\n"crash, again","[""bug"", ""ui""]"\nhello,feature\n')
    assert [i.labels for i in read_items(csv)] == [["bug", "ui"], ["feature"]]
    semi = tmp_path / "c.txt"
    semi.write_text("i feel; so happy;joy\ni am sad;sadness\n")
    got = read_items(semi)
    assert [(i.text, i.labels) for i in got] == [("i feel; so happy", ["joy"]), ("i am sad", ["sadness"])]
    assert detect_format("c.txt", semi.read_text()) == "semicolon"


def test_text_and_label_fields_options(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"summary": "s", "details": "d", "tag": "t1"}\n')
    (item,) = read_items(p, text_fields=["summary", "details"], label_field="tag", repo="me/x")
    assert item.text == "s\n\nd" and item.labels == ["t1"] and item.repo == "me/x"


def test_reimport_is_idempotent_and_updates_replace(tmp_path, dump_path):
    with Store(tmp_path / "s.db") as store:
        first = store.upsert_items(read_items(dump_path))
        again = store.upsert_items(read_items(dump_path))
        assert (first.inserted, again.inserted, again.unchanged) == (130, 0, 130)
        changed = github_item(
            {
                "number": 1,
                "title": "new",
                "labels": [{"name": "documentation"}],
                "repository_url": "https://api.github.com/repos/acme/widgets",
            }
        )
        assert store.upsert_items([changed]).updated == 1
        assert store.get_item("acme/widgets", 1).labels == ["documentation"]
        assert store.count() == 130


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b'{"text": "a", "labels": ["x"]}\n{"text": "b", "labels": [\n', ":2: malformed JSON"),
        (b'{"text": "caf\xe9", "labels": ["x"]}\n', ":1: not UTF-8"),
        (b"just some words without a separator\n", "cannot tell the format"),
        (b'{"foo": 1}\n', "no text field"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path, content, message):
    p = tmp_path / "bad.jsonl"
    p.write_bytes(content)
    with pytest.raises((DataFormatError, InputError), match=message):
        read_items(p)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_items(tmp_path / "nope.jsonl")
    p = tmp_path / "a.jsonl"
    p.write_text('{"text": "a"}\n')
    with pytest.raises(DataFormatError, match="unknown format 'xml'"):
        read_items(p, format="xml")
