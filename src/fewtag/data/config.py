"""The typed, validated settings of ``fewtag prepare`` (a TOML file with [data] [labels] [text] [split]).

Every value is checked on entry; a wrong one is a :class:`~fewtag.errors.ConfigError`
that names the key, says what was expected and what was given::

    labels.min_count must be an integer >= 1; got 'ten' (a string)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fewtag.data.store import DEFAULT_STORE
from fewtag.errors import ConfigError
from fewtag.io import read_toml

__all__ = ["PrepareConfig", "load_config", "DEFAULT_SLICES", "SECTIONS", "SPLIT_FILES"]

DEFAULT_SLICES = [8, 16, 32, 64, 128]
SPLIT_FILES = ("train", "valid", "test", "unsup")


@dataclass
class PrepareConfig:
    """Settings of ``fewtag prepare``; the TOML file has sections [data] [labels] [text] [split].

    Attributes
    ----------
    store, repo, include_prs : where the items come from.
    files : dict, optional
        ``{"train": path, "valid": path, "test": path}`` to use predefined splits
        from files instead of the store (e.g. the emotion data set).
    map : dict
        Raw label -> tag (several raw labels may map to one tag; ``""`` drops the label).
    keep : list of str, optional
        Tags to keep; default every tag with at least ``min_count`` examples.
    multi_label : bool, optional
        Default: multi-label when any item has two kept tags.
    descriptions : dict
        Tag -> a one-line description (shown when labelling, used by zero-shot cold starts).
    clean_markdown, code_blocks, max_chars, dedup : the text clean-up.
    seed, valid_size, test_size, slices : the splits and the nested training slices.

    Raises
    ------
    ConfigError
        A value of the wrong type or out of range, naming the key.

    Examples
    --------
    >>> PrepareConfig(min_count="ten")
    Traceback (most recent call last):
    ...
    fewtag.errors.ConfigError: labels.min_count must be an integer >= 1; got 'ten' (a string)
    """

    store: str = DEFAULT_STORE
    repo: str | None = None
    include_prs: bool = False
    files: dict[str, str] = field(default_factory=dict)
    map: dict[str, str] = field(default_factory=dict)
    keep: list[str] | None = None
    min_count: int = 5
    multi_label: bool | None = None
    descriptions: dict[str, str] = field(default_factory=dict)
    clean_markdown: bool = True
    code_blocks: str = "shorten"
    max_chars: int | None = 4000
    dedup: bool = True
    seed: int = 0
    valid_size: float = 0.25
    test_size: float = 0.25
    slices: list[int] = field(default_factory=lambda: list(DEFAULT_SLICES))

    def __post_init__(self) -> None:
        for f in fields(self):
            section, check, expected = _SCHEMA[f.name]
            value = getattr(self, f.name)
            if not check(value):
                raise ConfigError(f"{section}.{f.name} must be {expected}; got {_given(value)}")
        if self.valid_size + self.test_size >= 1:
            raise ConfigError(
                "split.valid_size + split.test_size must be under 1 to leave room for training; "
                f"got {self.valid_size} + {self.test_size}"
            )


# ------------------------------------------------------------------ checks
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


def _fraction(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v) and 0 < v < 1


def _str_table(v: Any, keys: tuple[str, ...] | None = None) -> bool:
    return isinstance(v, dict) and all(
        isinstance(k, str) and isinstance(x, str) and (keys is None or k in keys) for k, x in v.items()
    )


def _tag_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) and x for x in v) and len(set(v)) == len(v)


_SCHEMA: dict[str, tuple[str, Callable[[Any], bool], str]] = {
    "store": ("data", lambda v: _is_str(v) and bool(v), "a store file path (a non-empty string)"),
    "repo": ("data", _optional(lambda v: _is_str(v) and v.count("/") == 1), "an OWNER/NAME string"),
    "include_prs": ("data", lambda v: isinstance(v, bool), "true or false"),
    "files": (
        "data",
        lambda v: _str_table(v, SPLIT_FILES),
        "a table of split = path strings, splits "
        + ", ".join(SPLIT_FILES)
        + ' (e.g. { train = "train.jsonl", test = "test.jsonl" })',
    ),
    "map": ("labels", _str_table, 'a table of "raw label" = "tag" strings (e.g. { bug = "defect" })'),
    "keep": ("labels", _optional(_tag_list), "a non-empty list of distinct tag names (strings)"),
    "min_count": ("labels", lambda v: _is_int(v) and v >= 1, "an integer >= 1"),
    "multi_label": ("labels", _optional(lambda v: isinstance(v, bool)), "true or false"),
    "descriptions": ("labels", _str_table, 'a table of "tag" = "one-line description" strings'),
    "clean_markdown": ("text", lambda v: isinstance(v, bool), "true or false"),
    "code_blocks": ("text", lambda v: v in ("keep", "shorten", "drop"), "keep, shorten or drop"),
    "max_chars": ("text", _optional(lambda v: _is_int(v) and v >= 1), "a positive integer (characters kept per text)"),
    "dedup": ("text", lambda v: isinstance(v, bool), "true or false"),
    "seed": ("split", lambda v: _is_int(v) and 0 <= v < 2**32, "an integer from 0 to 2**32 - 1"),
    "valid_size": ("split", _fraction, "a fraction between 0 and 1"),
    "test_size": ("split", _fraction, "a fraction between 0 and 1"),
    "slices": (
        "split",
        lambda v: isinstance(v, list) and all(_is_int(s) and s >= 1 for s in v),
        "a list of positive integers (training slice sizes)",
    ),
}

#: The keys each section of the TOML file may hold.
SECTIONS: dict[str, set[str]] = {}
for _key, _spec in _SCHEMA.items():
    SECTIONS.setdefault(_spec[0], set()).add(_key)


def _given(value: Any) -> str:
    kinds = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "a list", dict: "a table"}
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    if isinstance(value, dict):  # name the offending entry
        bad = next(((k, v) for k, v in value.items() if not isinstance(v, str) or not isinstance(k, str)), None)
        if bad is not None:
            return f"{bad[0]} = {bad[1]!r} ({kinds.get(type(bad[1]), type(bad[1]).__name__)})"
    if isinstance(value, list):
        bad_item = next((x for x in value if not isinstance(x, (str, int)) or isinstance(x, bool)), None)
        if bad_item is not None:
            return f"{text} (holds {kinds.get(type(bad_item), type(bad_item).__name__)})"
    return f"{text} ({kinds.get(type(value), type(value).__name__)})"


def load_config(path: str | Path | None) -> PrepareConfig:
    """Read a TOML config; unknown sections or keys and ill-typed values are errors naming them.

    Raises
    ------
    ConfigError
        ``PATH: section.key must be ...; got ...`` for a bad value; unknown sections and keys
        list the valid ones.
    """
    if path is None:
        return PrepareConfig()
    path = Path(path)
    raw = read_toml(path)
    flat: dict[str, Any] = {}
    for section, values in raw.items():
        if section not in SECTIONS or not isinstance(values, dict):
            raise ConfigError(f"{path}: unknown section [{section}]; sections: {', '.join(SECTIONS)}")
        for key, value in values.items():
            if key not in SECTIONS[section]:
                raise ConfigError(
                    f"{path}: unknown key {section}.{key}; valid keys: {', '.join(sorted(SECTIONS[section]))}"
                )
            flat[key] = value
    try:
        cfg = PrepareConfig(**flat)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    # files are relative to the config file
    cfg.files = {k: str(v if Path(v).is_absolute() else path.parent / v) for k, v in cfg.files.items()}
    return cfg
