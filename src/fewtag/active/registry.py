"""The strategies by name: ``get_strategy("breaking-ties", random_state=0)``."""

from __future__ import annotations

import inspect
from typing import Any

from fewtag.active.base import QueryStrategy
from fewtag.active.coldstart import ColdStart
from fewtag.active.diversity import CoreSet, KMeansDiversity
from fewtag.active.hybrid import Hybrid
from fewtag.active.strategies import BreakingTies, Entropy, LeastConfidence, RandomSampling
from fewtag.errors import ConfigError

__all__ = ["STRATEGIES", "available_strategies", "get_strategy", "parse_strategy", "DEFAULT_STRATEGY"]

#: name -> class, in the order they are listed.
STRATEGIES: dict[str, type[QueryStrategy]] = {
    cls.name: cls
    for cls in (RandomSampling, LeastConfidence, BreakingTies, Entropy, KMeansDiversity, CoreSet, Hybrid, ColdStart)
}

DEFAULT_STRATEGY = "hybrid"


def available_strategies() -> list[str]:
    """Strategy names, in the order of :data:`STRATEGIES`."""
    return list(STRATEGIES)


def parse_strategy(spec: str) -> tuple[str, dict[str, Any]]:
    """``"hybrid[min_examples=8;rare_share=0.5]"`` -> ``("hybrid", {"min_examples": 8, "rare_share": 0.5})``.

    >>> parse_strategy("hybrid[measure=entropy;factor=2]")
    ('hybrid', {'measure': 'entropy', 'factor': 2})
    >>> parse_strategy("random")
    ('random', {})
    """
    import json

    spec = spec.strip()
    if not spec.endswith("]") or "[" not in spec:
        return spec, {}
    name, _, inner = spec[:-1].partition("[")
    params: dict[str, Any] = {}
    for pair in inner.split(";"):
        if not pair.strip():
            continue
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"strategy parameters are KEY=VALUE separated by ';'; got {pair!r} in {spec!r}")
        try:
            params[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[key.strip()] = value.strip()
    return name.strip(), params


def get_strategy(name: str, **params: Any) -> QueryStrategy:
    """A strategy by name (or ``name[key=value;...]``); ``random_state`` is dropped for strategies without one.

    Raises
    ------
    ConfigError
        An unknown name (the message lists the strategies) or parameter.

    >>> get_strategy("breaking-ties").name
    'breaking-ties'
    >>> get_strategy("margin")
    Traceback (most recent call last):
    ...
    fewtag.errors.ConfigError: 'margin' is not a strategy. Available: random, least-confidence, breaking-ties, \
entropy, diversity, coreset, hybrid, cold-start
    """
    name, given = parse_strategy(name)
    params = {**given, **params}
    cls = STRATEGIES.get(name)
    if cls is None:
        raise ConfigError(f"{name!r} is not a strategy. Available: {', '.join(STRATEGIES)}")
    accepted = {p for p in inspect.signature(cls.__init__).parameters if p != "self"}
    unknown = sorted(set(params) - accepted - {"random_state"})
    if unknown:
        raise ConfigError(
            f"strategy {name!r} has no parameter {', '.join(unknown)}; its parameters: {', '.join(sorted(accepted))}"
        )
    return cls(**{k: v for k, v in params.items() if k in accepted})
