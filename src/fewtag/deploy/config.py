"""The repository config, ``.github/fewtag.yml``: what fewtag may touch and how it decides.

The keys, exactly (every other key is an error that names it)::

    labels:                       # the tags fewtag manages; nothing else is ever touched
      bug: {description: "Something is broken", aliases: ["type: bug"], precision: 0.9}
      enhancement: {description: "A new feature or improvement", threshold: 0.6}
    max_labels: 2
    default_label: needs-triage   # added when fewtag abstains; omit for none
    exclude_authors: ["dependabot[bot]"]
    dry_run: false
    comment: true                 # or a template string
    model: .github/fewtag-model   # a folder, a release asset URL, or cache:KEY
    families:                     # optional: one model per family
      area: {labels: ["area: cli", "area: docs"], multi_label: true, model: .github/fewtag-area}

A label's key is the name fewtag writes on GitHub; ``aliases`` are other raw GitHub labels that
mean the same tag (an issue carrying ``type: bug`` already has ``bug``, and a model trained on
``type: bug`` writes ``bug``). ``threshold`` is a floor on the (calibrated) score; ``precision``
asks for the lowest threshold whose out-of-fold precision reaches it (see
:func:`fewtag.calibration.threshold_for_precision`). Without either, the model's own tuned
decision rule decides.
"""

from __future__ import annotations

import fnmatch
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fewtag.errors import ConfigError, InputError

__all__ = [
    "LabelConfig",
    "FamilyConfig",
    "RepoConfig",
    "ModelSource",
    "load_config",
    "parse_config",
    "model_source",
    "TEMPLATE_FIELDS",
    "DEFAULT_CONFIG_PATH",
    "MAIN_FAMILY",
]

DEFAULT_CONFIG_PATH = ".github/fewtag.yml"
#: the family name of the top-level ``labels`` and ``model``
MAIN_FAMILY = "labels"
#: placeholders a ``comment`` template may use
TEMPLATE_FIELDS = ("labels", "scores", "similar", "words", "model", "abstained")

_Fraction = Field(default=None, ge=0.0, le=1.0)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class LabelConfig(_Strict):
    """One managed tag: its description, raw GitHub aliases and how sure fewtag must be."""

    description: str = ""
    aliases: list[str] = Field(default_factory=list)
    threshold: float | None = _Fraction
    precision: float | None = Field(default=None, gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _one_floor(self) -> LabelConfig:
        if self.threshold is not None and self.precision is not None:
            raise ValueError("give threshold or precision, not both")
        return self


class FamilyConfig(_Strict):
    """A family of labels (``area: *``) with its own single- or multi-label model."""

    labels: list[str] = Field(min_length=1)
    multi_label: bool = False
    model: str

    @field_validator("labels")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        dup = sorted({x for x in value if value.count(x) > 1})
        if dup:
            raise ValueError(f"listed twice: {', '.join(dup)}")
        if any(not x.strip() for x in value):
            raise ValueError("a label name is empty")
        return value


class RepoConfig(_Strict):
    """The validated ``.github/fewtag.yml`` (see the module docstring for the keys)."""

    labels: dict[str, LabelConfig] = Field(min_length=1)
    max_labels: int | None = Field(default=None, ge=1)
    default_label: str | None = None
    exclude_authors: list[str] = Field(default_factory=list)
    dry_run: bool = False
    comment: bool | str = True
    model: str = ".github/fewtag-model"
    families: dict[str, FamilyConfig] = Field(default_factory=dict)

    @field_validator("labels", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> Any:
        if isinstance(value, list):  # a plain list of names is allowed: no settings
            return {str(name): {} for name in value}
        if isinstance(value, dict):
            return {k: ({} if v is None else v) for k, v in value.items()}
        return value

    @field_validator("comment")
    @classmethod
    def _template(cls, value: bool | str) -> bool | str:
        if isinstance(value, str):
            try:
                names = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
            except ValueError as exc:
                raise ValueError(f"the template is not a valid format string ({exc})") from None
            unknown = sorted(n for n in names if n not in TEMPLATE_FIELDS)  # no attribute or index access
            if unknown:
                raise ValueError(
                    f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; "
                    f"available: {', '.join('{' + n + '}' for n in TEMPLATE_FIELDS)}"
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RepoConfig:
        raw: dict[str, str] = {}
        for tag, spec in self.labels.items():
            if not tag.strip():
                raise ValueError("labels: a label name is empty")
            for alias in spec.aliases:
                if alias in self.labels and alias != tag:
                    raise ValueError(f"labels.{tag}.aliases: {alias!r} is itself a managed label")
                if alias in raw and raw[alias] != tag:
                    raise ValueError(f"labels.{tag}.aliases: {alias!r} is already an alias of {raw[alias]!r}")
                raw[alias] = tag
        owner: dict[str, str] = {}
        for fam, family in self.families.items():
            if fam == MAIN_FAMILY:
                raise ValueError(f"families: {MAIN_FAMILY!r} is reserved for the top-level labels")
            for lab in family.labels:
                if lab in owner:
                    raise ValueError(f"families.{fam}.labels: {lab!r} is already in family {owner[lab]!r}")
                owner[lab] = fam
        if self.default_label is not None and self.default_label in owner:
            raise ValueError(f"default_label: {self.default_label!r} belongs to family {owner[self.default_label]!r}")
        return self

    # ------------------------------------------------------------------ helpers
    def family_of(self, label: str) -> str:
        """The family that owns ``label`` (:data:`MAIN_FAMILY` for the top-level labels)."""
        for fam, spec in self.families.items():
            if label in spec.labels:
                return fam
        return MAIN_FAMILY

    def managed(self) -> set[str]:
        """Every label fewtag may add: the top-level tags, the families' labels and the default label."""
        out = set(self.labels)
        for spec in self.families.values():
            out.update(spec.labels)
        if self.default_label:
            out.add(self.default_label)
        return out

    def tag_of(self, raw: str) -> str | None:
        """The managed tag a raw GitHub label stands for (itself, or through an alias); ``None`` if unmanaged."""
        if raw in self.managed():
            return raw
        for tag, spec in self.labels.items():
            if raw in spec.aliases:
                return tag
        return None

    def tags_of(self, raw_labels: list[str]) -> set[str]:
        """The managed tags that a list of raw GitHub labels carries."""
        return {t for t in (self.tag_of(r) for r in raw_labels) if t is not None}

    def excluded(self, author: str | None) -> bool:
        """Whether issues by ``author`` are left alone (``exclude_authors`` takes glob patterns: ``*[bot]``)."""
        if not author:
            return False
        # fnmatch would read "[bot]" as a character class: escape brackets unless a '*' or '?' is used
        for pat in self.exclude_authors:
            if pat == author or (any(c in pat for c in "*?") and fnmatch.fnmatchcase(author, _glob(pat))):
                return True
        return False

    def model_for(self, family: str) -> str:
        return self.model if family == MAIN_FAMILY else self.families[family].model


def _glob(pattern: str) -> str:
    """``*[bot]`` -> a glob whose brackets are literal."""
    return "".join(f"[{c}]" if c in "[]" else c for c in pattern)


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from: ``path`` (a folder in the repo), ``url`` (a release asset) or ``cache`` (a key)."""

    kind: Literal["path", "url", "cache"]
    value: str


def model_source(spec: str) -> ModelSource:
    """Classify a ``model`` value.

    >>> model_source("cache:fewtag-model-v3"), model_source(".github/fewtag-model").kind
    (ModelSource(kind='cache', value='fewtag-model-v3'), 'path')
    """
    if spec.startswith("cache:"):
        key = spec[len("cache:") :].strip()
        if not key:
            raise ConfigError("model: 'cache:' needs a key after it (cache:KEY)")
        return ModelSource("cache", key)
    if spec.startswith(("https://", "http://")):
        return ModelSource("url", spec)
    return ModelSource("path", spec)


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-"))) or "(top level)"


def parse_config(data: Any, source: str = DEFAULT_CONFIG_PATH) -> RepoConfig:
    """Validate a parsed YAML document; a :class:`ConfigError` names the file and the key.

    >>> parse_config({"labels": {"bug": {"precision": 0.9}}}).labels["bug"].precision
    0.9
    >>> parse_config({"labels": ["bug"], "max_label": 2})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fewtag.errors.ConfigError: .github/fewtag.yml: max_label: unknown key; valid keys: comment, ..., model
    """
    if data is None:
        raise ConfigError(f"{source}: the file is empty; it needs at least a 'labels' table")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys (labels, max_labels, ...), got {type(data).__name__}")
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _where(tuple(err["loc"]))
        if err["type"] == "extra_forbidden":
            loc = tuple(err["loc"])
            schema: type[BaseModel] = RepoConfig
            if len(loc) >= 3 and loc[0] == "labels":
                schema = LabelConfig
            elif len(loc) >= 3 and loc[0] == "families":
                schema = FamilyConfig
            valid = ", ".join(sorted(schema.model_fields))
            raise ConfigError(f"{source}: {where}: unknown key; valid keys: {valid}") from None
        msg = str(err["msg"]).removeprefix("Value error, ")
        given = err.get("input")
        shown = "" if err["type"] == "missing" or isinstance(given, dict) else f" (got {given!r})"
        more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
        prefix = f"{where}: " if err["loc"] else ""  # a model-level check names its key itself
        raise ConfigError(f"{source}: {prefix}{msg}{shown}{more}") from None


def load_config(path: str | Path) -> RepoConfig:
    """Read and validate ``.github/fewtag.yml``.

    Raises
    ------
    InputError
        The file does not exist.
    ConfigError
        Not YAML, or a key is unknown, missing or has a bad value (the message names it).
    """
    import yaml  # type: ignore[import-untyped]

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p} does not exist; write a config (see examples/fewtag.yml) or pass --config")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{p}: not valid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8") from None
    return parse_config(data, str(p))
