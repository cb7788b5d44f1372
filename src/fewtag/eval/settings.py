"""Settings of a benchmark run: methods (with params and display names), slices, seeds.

Everything is checked here, before anything runs or is written.
"""

from __future__ import annotations

import inspect
import math
import shlex
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fewtag.errors import ConfigError, InputError
from fewtag.io import check_out as check_out_folder
from fewtag.io import read_toml
from fewtag.registry import get_method

__all__ = ["MethodSpec", "BenchSettings", "DEFAULT_SLICES", "RUN_KIND", "parse_slices",
           "load_bench_config", "select_methods", "make_settings", "check_out", "constructor_params"]

DEFAULT_SLICES = ["8", "16", "32", "64", "128", "all"]
#: ``config.json["kind"]`` of a run folder; only such a folder may be overwritten.
RUN_KIND = "fewtag-bench"


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

    @property
    def display(self) -> str:
        return self.label or self.name


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
        d["methods"] = [{"name": m.name, "label": m.display, "params": m.params} for m in self.methods]
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
                raise ConfigError(f"bad training slice {item!r}: expected positive integers or 'all', "
                                  "comma-separated, e.g. 8,16,32,64,128,all")
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
        [[method]]
        name = "knn"               # a registered method
        label = "kNN (DA)"         # display name (default: name)
        params = { model = "adapted/" }

    Returns
    -------
    dict with ``methods`` (list of :class:`MethodSpec`) and, when given,
    ``slices`` and ``seeds``.
    """
    path = Path(path)
    raw = read_toml(path, "bench config")
    known = {"method", "slices", "seeds"}
    extra = sorted(set(raw) - known)
    if extra:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(extra)}; expected {', '.join(sorted(known))}")
    methods = []
    entries = raw.get("method", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'method' must be an array of tables ([[method]])")
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"{path}: [[method]] number {i + 1} needs a name = \"...\"")
        bad = sorted(set(entry) - {"name", "label", "params"})
        if bad:
            raise ConfigError(f"{path}: [[method]] {entry['name']!r} has unknown key(s) {', '.join(bad)}; "
                              "expected name, label, params")
        params = entry.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"{path}: params of [[method]] {entry['name']!r} must be a table")
        methods.append(MethodSpec(entry["name"], entry.get("label"), dict(params)))
    out: dict[str, Any] = {"methods": methods}
    if "slices" in raw:
        out["slices"] = raw["slices"] if isinstance(raw["slices"], str) else ",".join(map(str, raw["slices"]))
    if "seeds" in raw:
        out["seeds"] = raw["seeds"]
    return out


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


def constructor_params(cls: type) -> tuple[set[str], bool]:
    sig = inspect.signature(cls.__init__)
    params = {p for p in sig.parameters if p != "self"}
    var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())
    return params, var_kw


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
        raise InputError(f"DATA {data_path} does not exist; give a prepared folder (fewtag prepare) "
                         "or a labelled file")
    cfg = load_bench_config(config) if config is not None else {"methods": []}
    names = [m.strip() for m in methods.split(",")] if isinstance(methods, str) else methods
    names = [m for m in (names or []) if m]
    specs = select_methods(names, cfg["methods"])
    if not specs:
        raise ConfigError("no methods given; use --methods naive-bayes,tfidf-logreg (or [[method]] "
                          "entries in --config)")
    seen: set[str] = set()
    for spec in specs:
        cls = get_method(spec.name)  # UnknownMethodError lists the available ones
        accepted, var_kw = constructor_params(cls)
        unknown = sorted(set(spec.params) - accepted)
        if unknown and not var_kw:
            raise ConfigError(f"method {spec.name!r} takes no parameter(s) {', '.join(unknown)}; "
                              f"it takes: {', '.join(sorted(accepted)) or 'none'}")
        if spec.display in seen:
            raise ConfigError(f"method {spec.display!r} is listed twice; give the rows distinct labels")
        seen.add(spec.display)
    n_seeds = seeds if seeds is not None else cfg.get("seeds", 1)
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise ConfigError(f"--seeds must be an integer >= 1; got {n_seeds!r}")
    slice_names = parse_slices(slices if slices is not None else cfg.get("slices", DEFAULT_SLICES))
    check_out(out)
    return BenchSettings(data=str(data), methods=specs, out=str(out), slices=slice_names, seeds=n_seeds,
                         model=model, store=None if store is None else str(store),
                         config=None if config is None else str(config))
