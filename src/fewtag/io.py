"""Atomic writes: a file or folder appears whole or not at all.

Output folders
--------------
Every folder written through :func:`atomic_dir` carries a marker file,
:data:`MARKER` (``.fewtag-output``, JSON: the kind of folder and the fewtag
version that wrote it). An existing folder is replaced only when it is empty or
fewtag wrote it, so ``--out ~/Documents`` is refused instead of emptied:

- a folder with the marker may be replaced by a writer of the same kind (a model
  folder by a model, a bench run by a bench run);
- folders written before the marker existed are recognised by their files
  (``fewtag.json`` of a model, ``prepare.json`` of a prepared dataset, a bench
  run's ``config.json``, ...): they count as fewtag outputs of that kind;
- anything else raises a one-line :class:`~fewtag.errors.InputError` naming the
  folder; ``force=True`` (the CLI's ``--force``) or :func:`allow_replace`
  replaces it anyway. Even then the current folder, a folder above it, the home
  folder and ``/`` are never replaced.

Temporary names
---------------
Work in progress lives beside the target as ``.NAME.PID.RANDOM.tmp`` (and, for
the instant of a swap, ``.NAME.old-PID``). A process killed with ``kill -9``
leaves these behind; the next atomic write of the same target removes those
whose process is gone and that are older than the running process (an
interrupted swap's ``.NAME.old-PID`` is put back when ``NAME`` is missing).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_file",
    "atomic_dir",
    "allow_replace",
    "check_out",
    "guard_out",
    "output_kind",
    "MARKER",
    "pid_alive",
    "sweep_stale",
    "write_json",
    "read_json",
    "read_toml",
]

#: Marker file that every :func:`atomic_dir` folder gets.
MARKER = ".fewtag-output"

#: What each kind of folder is called in messages (``None``: any writer).
_WHAT = {
    None: "a folder written by fewtag",
    "model": "a fewtag model folder",
    "prepared": "a prepared dataset (fewtag prepare)",
    "bench": "a previous `fewtag bench` run",
    "index": "a fewtag search index",
    "discovery": "a fewtag discover folder",
    "encoder": "a fewtag adapted encoder",
    "audit": "a fewtag audit report",
}

_IMPORTED = time.time()
_FORCED: dict[str, int] = {}  # abspath -> nesting count of allow_replace
_FORCED_LOCK = threading.Lock()
_TMP_NAME = re.compile(r"(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp|old-(?P<old>\d+)")


# ---------------------------------------------------------------- output folders


def _json_object(path: Path) -> dict[str, Any] | None:
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return data
    return None


def _legacy_kind(folder: Path) -> str | None:
    """The kind of a folder written by fewtag before the marker existed, from its files."""
    meta = _json_object(folder / "fewtag.json") if (folder / "fewtag.json").is_file() else None
    if meta is not None and "method" in meta:
        return "model"
    if (folder / "prepare.json").is_file() and (folder / "labels.json").is_file():
        return "prepared"
    cfg = _json_object(folder / "config.json") if (folder / "config.json").is_file() else None
    if cfg is not None and cfg.get("kind") == "fewtag-bench":
        return "bench"
    if all((folder / f).is_file() for f in ("index.faiss", "ids.json", "meta.json")):
        return "index"
    if (folder / "clusters.json").is_file() and (folder / "assignments.jsonl").is_file():
        return "discovery"
    if (folder / "adapt.json").is_file():
        return "encoder"
    return None


def output_kind(folder: str | Path) -> str | None:
    """What fewtag wrote ``folder`` as (``"model"``, ``"bench"``, ...), or ``None`` if it did not.

    Read from the :data:`MARKER` file, else recognised from the files older
    fewtag versions wrote. A marker without a readable kind gives ``"output"``.
    """
    folder = Path(folder)
    marker = folder / MARKER
    if marker.is_file():
        data = _json_object(marker) or {}
        kind = data.get("kind")
        return kind if isinstance(kind, str) and kind else "output"
    return _legacy_kind(folder)


def _is_forced(path: Path) -> bool:
    with _FORCED_LOCK:
        return os.path.abspath(path) in _FORCED


@contextlib.contextmanager
def allow_replace(path: str | Path) -> Iterator[None]:
    """Within the block, :func:`check_out` and :func:`atomic_dir` may replace ``path`` whatever it holds.

    The CLI wraps a command's work in it when ``--force`` is given, so the
    library functions below it need no ``force`` argument. Process-wide (not
    per thread), undone on exit.
    """
    key = os.path.abspath(path)
    with _FORCED_LOCK:
        _FORCED[key] = _FORCED.get(key, 0) + 1
    try:
        yield
    finally:
        with _FORCED_LOCK:
            _FORCED[key] -= 1
            if not _FORCED[key]:
                del _FORCED[key]


def _never_replace(path: Path) -> str | None:
    """Why ``path`` may not be replaced even with force (``None``: it may)."""
    p = Path(os.path.abspath(path))
    if p == Path(p.anchor):
        return f"{path} is the file-system root"
    if p == Path(os.path.abspath(Path.home())):
        return f"{path} is the home folder"
    cwd = Path(os.path.abspath(os.getcwd()))
    if p == cwd or p in cwd.parents:
        return f"{path} holds the current folder"
    return None


def check_out(path: str | Path, kind: str | None = None, *, force: bool = False) -> None:
    """Refuse to go on if writing ``path`` would replace a folder fewtag did not write.

    Call it before the work starts (``fewtag train`` checks ``--out`` before it
    trains); :func:`atomic_dir` checks again just before it swaps.

    Parameters
    ----------
    path : the folder about to be written
    kind : what will be written (``"model"``, ``"prepared"``, ``"bench"``, ...);
        an existing folder must be of the same kind. ``None`` accepts any fewtag output.
    force : replace whatever is there (also implied inside :func:`allow_replace`)

    Raises
    ------
    InputError
        One line naming the folder and what to do.
    """
    from fewtag.errors import InputError

    p = Path(path)
    if not p.exists() and not p.is_symlink():
        return
    if p.is_dir() and (why := _never_replace(p)):
        raise InputError(f"refusing to replace {why}; choose a new folder")
    if force or _is_forced(p):
        return
    what = _WHAT.get(kind, f"a fewtag {kind} folder")
    if not p.is_dir():
        raise InputError(
            f"{p} exists and is a file, not {what}; choose a new folder name (or pass --force to replace it)"
        )
    if not any(p.iterdir()):
        return
    found = output_kind(p)
    if found is None:
        raise InputError(
            f"{p} exists and is not {what} (it has no {MARKER} file); choose a new or "
            "empty folder, or pass --force to replace its contents"
        )
    if kind is not None and found != kind:
        found_what = _WHAT.get(found, f"a fewtag {found} folder")
        raise InputError(f"{p} holds {found_what}, not {what}; choose another folder, or pass --force to replace it")


@contextlib.contextmanager
def guard_out(path: str | Path, kind: str | None = None, *, force: bool = False) -> Iterator[None]:
    """:func:`check_out` now, before the work; with ``force``, :func:`allow_replace` for the block.

    What a CLI command wraps its work in: ``with guard_out(out_dir, "model", force=force): ...``
    """
    check_out(path, kind, force=force)
    with allow_replace(path) if force else contextlib.nullcontext():
        yield


def _write_marker(folder: Path, kind: str | None) -> None:
    from fewtag._version import __version__

    data = {
        "kind": kind or "output",
        "written_by": f"fewtag {__version__}",
        "note": "fewtag may replace this folder when asked to write it again",
    }
    (folder / MARKER).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- stale temporaries


def _process_start() -> float:
    """When this process started (Linux: from /proc; elsewhere: when this module was imported)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = time.time() - float(Path("/proc/uptime").read_text().split()[0])
        return min(boot + ticks / os.sysconf("SC_CLK_TCK"), _IMPORTED)
    except (OSError, ValueError, IndexError):
        return _IMPORTED


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie counts as gone; unknown means alive)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name != "posix":  # os.kill would terminate it on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, owned by someone else
        return True
    with contextlib.suppress(OSError, IndexError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def sweep_stale(path: str | Path) -> list[Path]:
    """Remove the leftovers of killed writes of ``path``; return what was removed or restored.

    A leftover is a sibling ``.NAME.PID.RANDOM.tmp`` or ``.NAME.old-PID`` whose
    process is not alive and that was last changed before this process started.
    An ``.old-PID`` copy is moved back to ``NAME`` when ``NAME`` is missing (the
    kill came between the two renames of a swap).
    """
    path = Path(path)
    prefix = f".{path.name}."
    started = _process_start()
    touched: list[Path] = []
    try:
        entries = [e for e in os.scandir(path.parent) if e.name.startswith(prefix)]
    except OSError:
        return touched
    for entry in entries:
        m = _TMP_NAME.fullmatch(entry.name[len(prefix) :])
        if m is None:
            continue
        pid = int(m["pid"] or m["old"])
        try:
            mtime = entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if mtime >= started or pid_alive(pid):
            continue
        leftover = Path(entry.path)
        if m["old"] is not None and not path.exists() and not path.is_symlink():
            with contextlib.suppress(OSError):
                os.replace(leftover, path)
                touched.append(leftover)
                continue
        _remove(leftover)
        touched.append(leftover)
    return touched


# ---------------------------------------------------------------- atomic writes


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[Any]:
    """Open a temporary file beside ``path``; rename it over ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | Path, *, kind: str | None = None, force: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it replaces ``path`` on success.

    An existing ``path`` is kept until the new folder is complete, and left
    untouched if the block raises. It is replaced only if fewtag wrote it (see
    :func:`check_out`, run before the block and again before the swap); the
    new folder gets the :data:`MARKER` file.

    Parameters
    ----------
    path : the folder to write
    kind : what it is (``"model"``, ``"prepared"``, ``"bench"``, ...), saved in the marker
    force : replace whatever ``path`` holds (also implied inside :func:`allow_replace`)

    Raises
    ------
    InputError
        ``path`` exists and is not a fewtag output of this kind.
    """
    given = Path(path)
    path = Path(os.path.abspath(given))  # "." and "x/.." get a real name
    check_out(given, kind, force=force)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        _write_marker(tmp, kind)
        check_out(given, kind, force=force)  # something may have appeared there meanwhile
        if path.exists() or path.is_symlink():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            _remove(old)
            os.replace(path, old)
            os.replace(tmp, path)
            _remove(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_json(path: str | Path, data: Any) -> None:
    with atomic_file(path) as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


def read_json(path: str | Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def read_toml(path: str | Path, what: str = "config file") -> dict[str, Any]:
    """A TOML file as a dict; a one-line :class:`~fewtag.errors.ConfigError` if missing or invalid.

    ``what`` names the file in the message (``"bench config"``).
    """
    import tomllib

    from fewtag.errors import ConfigError

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {path} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from None
