"""Settings of a benchmark run: methods (with params and display names), slices, seeds.

Everything is checked here, before anything runs or is written.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from fewtag.errors import ConfigError, InputError
from fewtag.io import check_out as check_out_folder
from fewtag.io import read_toml
from fewtag.registry import create

__all__ = [
    "MethodSpec",
    "BenchSettings",
    "DEFAULT_SLICES",
    "RUN_KIND",
    "parse_slices",
    "load_bench_config",
    "select_methods",
    "make_settings",
    "check_out",
    "OBJECTIVES",
    "DECISION_KEYS",
]

DEFAULT_SLICES = ["8", "16", "32", "64", "128", "all"]
#: ``config.json["kind"]`` of a run folder; only such a folder may be overwritten.
RUN_KIND = "fewtag-bench"
#: what "best by validation" can maximise (a bench config's top-level ``objective``)
OBJECTIVES = ("micro", "macro")
#: keys of a [[method]] entry's ``decision`` table (fewtag.decision.DecisionSpec)
DECISION_KEYS = ("objective", "precision_target", "kinds", "top_k", "abstain")


@dataclass
class MethodSpec:
    """One line of the benchmark: a registered method, its kwargs and display name.

    Examples
    --------
    >>> MethodSpec("knn", label="kNN (DA)", params={"k": 5}).display
    'kNN (DA)'
    """

    name: str
    label: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: ``fit(..., decision=)``: a DecisionSpec table (objective, precision_target, kinds, top_k,
    #: abstain); None: the method's default (tuned for micro F1)
    decision: dict[str, Any] | None = None

    @property
    def display(self) -> str:
        return self.label or self.name

    @property
    def objective(self) -> str:
        """The objective its decision rule is tuned for."""
        return str((self.decision or {}).get("objective", "micro"))


@dataclass
class BenchSettings:
    """Validated settings of one benchmark run (see :func:`make_settings`)."""

    data: str
    methods: list[MethodSpec]
    out: str
    slices: list[str] = field(default_factory=lambda: list(DEFAULT_SLICES))
    seeds: int = 1
    model: str | None = None
    store: str | None = None
    config: str | None = None
    #: validation F1 that picks "best by validation": "micro" (default) or "macro"
    objective: str = "micro"

    def command_line(self) -> str:
        """The ``fewtag bench`` command that reproduces this run."""
        parts = ["fewtag", "bench", self.data]
        parts += ["--methods", ",".join(m.display for m in self.methods)]
        parts += ["--slices", ",".join(self.slices), "--seeds", str(self.seeds), "--out", self.out]
        for flag, value in (("--config", self.config), ("--model", self.model), ("--store", self.store)):
            if value is not None:
                parts += [flag, value]
        return shlex.join(parts)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["methods"] = [
            {
                "name": m.name,
                "label": m.display,
                "params": m.params,
                "decision": m.decision,
                "decision_objective": m.objective,
            }
            for m in self.methods
        ]
        return d


def parse_slices(text: str | Iterable[str]) -> list[str]:
    """Parse ``"8,16,all"`` into slice names, smallest first, ``all`` last.

    >>> parse_slices("32, 8,all")
    ['8', '32', 'all']

    Raises
    ------
    ConfigError
        An item that is neither a positive integer nor ``all``, or a repeat.
    """
    items = [s.strip() for s in (text.split(",") if isinstance(text, str) else text)]
    items = [s for s in items if s]
    if not items:
        raise ConfigError("no training slices given; expected e.g. --slices 8,16,32,64,128,all")
    names: list[str] = []
    for item in items:
        name = item.lower()
        if name != "all":
            try:
                n = int(name)
            except ValueError:
                n = 0
            if n < 1 or str(n) != name.lstrip("+"):
                raise ConfigError(
                    f"bad training slice {item!r}: expected positive integers or 'all', "
                    "comma-separated, e.g. 8,16,32,64,128,all"
                )
            name = str(n)
        if name in names:
            raise ConfigError(f"training slice {item!r} is given twice")
        names.append(name)
    return sorted(names, key=lambda s: math.inf if s == "all" else int(s))


def load_bench_config(path: str | Path) -> dict[str, Any]:
    """Read a bench TOML file.

    Format::

        slices = "8,16,all"        # optional defaults for the command line
        seeds = 3
        objective = "macro"        # optional: pick "best by validation" on macro F1 (default micro),
                                   # and tune every method's decision rule for it unless it says otherwise
        [[method]]
        name = "knn"               # a registered method
        label = "kNN (DA)"         # display name (default: name)
        params = { model = "adapted/" }
        decision = { objective = "macro", precision_target = { bug = 0.9 } }   # optional, fit(decision=)

    Returns
    -------
    dict with ``methods`` (list of :class:`MethodSpec`) and, when given,
    ``slices``, ``seeds`` and ``objective``.

    Raises
    ------
    ConfigError
        An unknown key (named, with the valid ones), or a bad value.
    """
    path = Path(path)
    raw = read_toml(path, "bench config")
    known = {"method", "slices", "seeds", "objective"}
    extra = sorted(set(raw) - known)
    if extra:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(extra)}; expected {', '.join(sorted(known))}")
    methods = []
    entries = raw.get("method", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'method' must be an array of tables ([[method]])")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f'{path}: [[method]] number {i + 1} needs a name = "..."')
        bad = sorted(set(entry) - {"name", "label", "params", "decision"})
        if bad:
            raise ConfigError(
                f"{path}: [[method]] {entry['name']!r} has unknown key(s) {', '.join(bad)}; "
                "expected name, label, params, decision"
            )
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"{path}: params of [[method]] {entry['name']!r} must be a table")
        decision = None
        if "decision" in entry:
            decision = check_decision(entry["decision"], f"{path}: decision of [[method]] {entry['name']!r}")
        methods.append(MethodSpec(entry["name"], entry.get("label"), dict(params), decision))
    out: dict[str, Any] = {"methods": methods}
    if "objective" in raw:
        out["objective"] = check_objective(raw["objective"], f"{path}: objective")
    if "slices" in raw:
        out["slices"] = raw["slices"] if isinstance(raw["slices"], str) else ",".join(map(str, raw["slices"]))
    if "seeds" in raw:
        out["seeds"] = raw["seeds"]
    return out


def check_objective(objective: Any, where: str = "objective") -> str:
    """Return ``objective`` if it is ``micro`` or ``macro``, else raise ``ConfigError``."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"{where} must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
    return str(objective)


def check_decision(table: Any, where: str = "decision") -> dict[str, Any]:
    """Check a ``decision`` table (keys of :data:`DECISION_KEYS`); return it as a plain dict.

    Values are checked by :class:`fewtag.decision.DecisionSpec`; label names in a
    ``precision_target`` table are checked against the data when the run starts.

    >>> check_decision({"objective": "macro", "precision_target": {"bug": 0.9}})
    {'objective': 'macro', 'precision_target': {'bug': 0.9}}

    Raises
    ------
    ConfigError
        Not a table, an unknown key (named, with the valid ones), or a bad value.
    """
    if not isinstance(table, dict):
        raise ConfigError(f'{where} must be a table such as {{ objective = "macro" }}; got {table!r}')
    unknown = sorted(set(table) - set(DECISION_KEYS))
    if unknown:
        raise ConfigError(f"{where} has unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(DECISION_KEYS)}")
    if "objective" in table:
        check_objective(table["objective"], f"{where}: objective")
    from fewtag.decision import DecisionSpec

    try:
        DecisionSpec.from_dict(table)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return dict(table)


def select_methods(names: list[str] | None, specs: list[MethodSpec]) -> list[MethodSpec]:
    """``--methods`` items pick config entries by label, then by name; others are plain."""
    if not names:
        return list(specs)
    chosen: list[MethodSpec] = []
    for name in names:
        by_label = [s for s in specs if s.label == name]
        by_name = [s for s in specs if s.name == name]
        chosen.extend(by_label or by_name or [MethodSpec(name)])
    return chosen


def check_out(out: str | Path, *, force: bool = False) -> None:
    """Refuse an existing ``out`` unless it is empty or a previous bench run (``force``: replace anyway).

    Raises
    ------
    InputError
    """
    check_out_folder(out, "bench", force=force)


def make_settings(
    data: str | Path,
    *,
    out: str | Path,
    methods: str | list[str] | None = None,
    slices: str | list[str] | None = None,
    seeds: int | None = None,
    config: str | Path | None = None,
    model: str | None = None,
    store: str | Path | None = None,
) -> BenchSettings:
    """Check every option before anything runs or is written.

    Parameters
    ----------
    data : prepared folder or labelled file
    out : run folder to create (or a previous run folder to replace)
    methods : comma-separated names (or list); config labels or names select config entries
    slices : e.g. ``"8,16,32,64,128,all"`` (default, or the config's)
    seeds : number of seeds, >= 1 (default 1, or the config's)
    config : bench TOML with per-method params and display names
    model : model id given to every method whose constructor has a ``model`` parameter
    store : SQLite store used as the embedding cache

    Raises
    ------
    InputError, ConfigError, UnknownMethodError
    """
    data_path = Path(data)
    if not data_path.exists():
        raise InputError(f"DATA {data_path} does not exist; give a prepared folder (fewtag prepare) or a labelled file")
    cfg = load_bench_config(config) if config is not None else {"methods": []}
    names = [m.strip() for m in methods.split(",")] if isinstance(methods, str) else methods
    names = [m for m in (names or []) if m]
    specs = select_methods(names, cfg["methods"])
    if not specs:
        raise ConfigError(
            "no methods given; use --methods naive-bayes,tfidf-logreg (or [[method]] entries in --config)"
        )
    seen: set[str] = set()
    objective = cfg.get("objective")
    if objective is not None:  # the run is judged on it: tune for it where a method does not say otherwise
        specs = [replace(spec, decision={"objective": objective, **(spec.decision or {})}) for spec in specs]
    for spec in specs:
        # the one factory checks the name (UnknownMethodError lists the available ones) and the
        # params (ConfigError names the bad one and lists the valid ones); constructors only store
        create(spec.name, spec.params)
        if spec.display in seen:
            raise ConfigError(f"method {spec.display!r} is listed twice; give the rows distinct labels")
        seen.add(spec.display)
    n_seeds = seeds if seeds is not None else cfg.get("seeds", 1)
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ConfigError(f"--seeds must be an integer >= 1; got {n_seeds!r}")
    slice_names = parse_slices(slices if slices is not None else cfg.get("slices", DEFAULT_SLICES))
    check_out(out)
    return BenchSettings(
        data=str(data),
        methods=specs,
        out=str(out),
        slices=slice_names,
        seeds=n_seeds,
        model=model,
        store=None if store is None else str(store),
        config=None if config is None else str(config),
        objective=objective or "micro",
    )
