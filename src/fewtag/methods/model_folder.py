"""The model folder's ``fewtag.json``: what it holds, and the checks before a model loads.

``fewtag.json`` keys: ``format_version``, ``fewtag_version``, ``method``, ``params``
(constructor arguments), ``classes``, ``multi_label``, ``decision`` (the tuned
rule), ``decision_spec`` (what it was tuned for), ``text`` (the text settings),
and free metadata (metrics, encoder id and revision, data fingerprint). Weights
sit beside it as safetensors or JSON, never pickle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fewtag.data.text import TextSpec
from fewtag.decision import DecisionRule, DecisionSpec
from fewtag.errors import ModelFileError, TaggerError
from fewtag.io import read_json

__all__ = ["META_FILE", "FORMAT_VERSION", "RESERVED", "jsonable", "read_model_meta"]

META_FILE = "fewtag.json"
FORMAT_VERSION = 1


def jsonable(value: Any) -> Any:
    """Round-trip through JSON so numpy scalars and tuples become plain values."""
    return json.loads(json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


#: keys the protocol owns; the rest of fewtag.json is the model's metadata
RESERVED = {
    "format_version",
    "fewtag_version",
    "method",
    "params",
    "classes",
    "multi_label",
    "decision",
    "decision_spec",
    "text",
}


def read_model_meta(path: str | Path) -> dict[str, Any]:
    """Read and check a model folder's ``fewtag.json``.

    Raises
    ------
    ModelFileError
        Missing folder or file, invalid JSON, or inconsistent contents (classes not
        unique strings, a decision rule that does not fit the classes, NaN thresholds).
    """
    path = Path(path)
    meta_path = path / META_FILE
    if not path.is_dir():
        raise ModelFileError(f"model folder {path} does not exist")
    if not meta_path.is_file():
        raise ModelFileError(f"{path} is not a fewtag model: {META_FILE} is missing")
    try:
        meta = read_json(meta_path)
    except (ValueError, OSError) as exc:
        raise ModelFileError(f"corrupt model folder {path}: {META_FILE} is not valid JSON ({exc})") from None

    def bad(why: str) -> ModelFileError:
        return ModelFileError(f"corrupt model folder {path}: {META_FILE} {why}")

    if not isinstance(meta, dict) or not isinstance(meta.get("method"), str):
        raise bad("names no method")
    classes = meta.get("classes")
    if not isinstance(classes, list) or not classes or not all(isinstance(c, str) for c in classes):
        raise bad(f"has no list of label names (classes = {classes!r})")
    if len(set(classes)) != len(classes):
        raise bad("lists a label twice in classes")
    if not isinstance(meta.get("multi_label"), bool):
        raise bad("says neither true nor false for multi_label")
    if not isinstance(meta.get("params", {}), dict):
        raise bad("has params that are not a table")
    try:
        DecisionRule.from_dict(meta["decision"]).check(len(classes))
        DecisionSpec.from_dict(meta.get("decision_spec"))
        if meta.get("text") is not None:
            TextSpec.from_dict(meta["text"])
    except (TaggerError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise bad(f"has an unusable decision rule or settings ({exc})") from None
    return meta
