"""The one registry of tagging methods, looked up by name.

Built-in methods are listed by import path so that ``import fewtag`` stays
light: a method's module (and its heavy dependencies) is imported only when
the method is asked for. Other packages add methods through the entry-point
group ``fewtag.methods`` (``name = "package.module:Class"``).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fewtag.errors import ConfigError, UnknownMethodError

if TYPE_CHECKING:
    from fewtag.methods.base import BaseTagger

__all__ = [
    "register",
    "get_method",
    "available_methods",
    "create",
    "method_parameters",
    "load_tagger",
    "BUILTIN_METHODS",
]

#: name -> "module:Class" for the methods shipped with fewtag.
BUILTIN_METHODS: dict[str, str] = {
    "naive-bayes": "fewtag.methods.naive_bayes:NaiveBayesTagger",
    "tfidf-logreg": "fewtag.methods.tfidf_logreg:TfidfLogRegTagger",
    "most-frequent": "fewtag.methods.most_frequent:MostFrequentTagger",
    "knn": "fewtag.methods.knn:KNNTagger",
    "embed-logreg": "fewtag.methods.embed_logreg:EmbedLogRegTagger",
    "zero-shot-embed": "fewtag.methods.zero_shot_embed:ZeroShotEmbedTagger",
    "zero-shot-nli": "fewtag.methods.zero_shot_nli:ZeroShotNLITagger",
    "fill-mask": "fewtag.methods.fill_mask:FillMaskTagger",
    "setfit": "fewtag.methods.setfit:SetFitTagger",
    "finetune": "fewtag.methods.finetune:FineTuneTagger",
    "augmented": "fewtag.methods.augmented:AugmentedTagger",
    "ensemble": "fewtag.methods.ensemble:EnsembleTagger",
    "self-train": "fewtag.methods.self_train:SelfTrainTagger",
    "uda": "fewtag.methods.uda:UDATagger",
}

_REGISTERED: dict[str, type] = {}
T = TypeVar("T", bound=type)


def register(name: str) -> Callable[[T], T]:
    """Class decorator that registers a tagger class under ``name``.

    >>> @register("doc-example")
    ... class Example: pass
    >>> get_method("doc-example") is Example
    True
    """

    def decorator(cls: T) -> T:
        cls.name = name  # type: ignore[attr-defined]
        _REGISTERED[name] = cls
        return cls

    return decorator


def _entry_point_methods() -> dict[str, str]:
    try:
        return {ep.name: ep.value for ep in entry_points(group="fewtag.methods")}
    except Exception:  # a broken third-party distribution must not break fewtag
        return {}


def _importable(target: str) -> bool:
    module = target.split(":", 1)[0]
    return importlib.util.find_spec(module) is not None


def available_methods() -> list[str]:
    """Names of all methods that can be loaded, sorted."""
    names = set(_REGISTERED)
    names.update(n for n, t in BUILTIN_METHODS.items() if _importable(t))
    names.update(_entry_point_methods())
    return sorted(n for n in names if not n.startswith("doc-"))


def get_method(name: str) -> type[BaseTagger]:
    """Return the tagger class registered as ``name``.

    Raises
    ------
    UnknownMethodError
        If no method has that name; the message lists the available ones.
    """
    if name in _REGISTERED:
        return _REGISTERED[name]
    target = BUILTIN_METHODS.get(name) or _entry_point_methods().get(name)
    if target is None or not _importable(target):
        raise UnknownMethodError(f"{name!r} is not a method. Available: {', '.join(available_methods())}")
    module_name, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    _REGISTERED.setdefault(name, cls)
    return _REGISTERED[name]


def method_parameters(name_or_cls: str | type[BaseTagger]) -> set[str]:
    """Names of the keyword arguments a registered method's constructor takes.

    >>> sorted(method_parameters("most-frequent"))
    []
    """
    cls = get_method(name_or_cls) if isinstance(name_or_cls, str) else name_or_cls
    sig = inspect.signature(cls.__init__)
    return {
        p.name for p in sig.parameters.values() if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def create(
    name: str, params: dict[str, Any] | None = None, *, model: str | None = None, seed: int | None = None
) -> BaseTagger:
    """The one factory: an unfitted tagger of method ``name``.

    ``model`` fills the constructor's ``model`` argument and ``seed`` its
    ``random_state`` when the method has them and ``params`` does not set them.

    Raises
    ------
    UnknownMethodError
        ``name`` is not registered.
    ConfigError
        A parameter the method does not take; the message lists the ones it takes.

    >>> create("naive-bayes", {"alpha": 0.5}).alpha
    0.5
    """
    cls = get_method(name)
    params = dict(params or {})
    accepted = method_parameters(cls)
    if model is not None and "model" in accepted:
        params.setdefault("model", model)
    if seed is not None and "random_state" in accepted:
        params.setdefault("random_state", seed)
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise ConfigError(
            f"method {name!r} has no parameter {', '.join(unknown)}; "
            f"its parameters: {', '.join(sorted(accepted)) or 'none'}"
        )
    return cls(**params)


def load_tagger(path: str | Path, *, encoder_backend: str | None = None) -> BaseTagger:
    """Load any saved model folder: the method named in its ``fewtag.json`` loads it.

    Parameters
    ----------
    path : str or Path
    encoder_backend : str, optional
        See :meth:`fewtag.methods.base.BaseTagger.load`.

    Raises
    ------
    ModelFileError
        The folder or its ``fewtag.json`` is missing, corrupt or inconsistent.
    UnknownMethodError
        The method it names is not installed.
    """
    from fewtag.methods.model_folder import read_model_meta

    meta = read_model_meta(path)
    return get_method(meta["method"]).load(path, encoder_backend=encoder_backend)
