"""What is being labelled: the label names, their descriptions, single- or multi-label.

A :class:`LabelTask` comes from a comma-separated list (``--labels bug,docs``) or from a
``dataset.toml`` (the file ``fewtag prepare`` reads: ``[labels] keep``, ``map``,
``multi_label``; ``[data] repo``, ``include_prs``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fewtag.errors import ConfigError, InputError

if TYPE_CHECKING:
    from fewtag.data.store import Item, Store

__all__ = ["LabelTask"]


@dataclass
class LabelTask:
    """The labels a person assigns, and where the items come from.

    Attributes
    ----------
    labels : list of str
        Label names, in the order shown (column order of every score matrix).
    descriptions : dict of str to str
        Optional one-line description per label (shown beside it; used by zero-shot cold start).
    multi_label : bool
        Several labels per item (checkboxes) or exactly one (radio buttons).
    map : dict of str to str
        Raw (GitHub) label -> task label, for items whose own labels count as given;
        ``""`` drops a raw label. Labels not in the map keep their name.
    repo : str, optional
        Only items of this repository (default: every item in the store).
    include_prs : bool
        Whether pull requests are items to label.

    Examples
    --------
    >>> t = LabelTask.from_labels("bug, docs")
    >>> t.labels, t.multi_label
    (['bug', 'docs'], False)
    >>> t.mapped(["docs", "good first issue"])
    ['docs']
    """

    labels: list[str]
    descriptions: dict[str, str] = field(default_factory=dict)
    multi_label: bool = False
    map: dict[str, str] = field(default_factory=dict)
    repo: str | None = None
    include_prs: bool = False

    def __post_init__(self) -> None:
        self.labels = [str(x).strip() for x in self.labels]
        if any(not x for x in self.labels):
            raise ConfigError(f"label names must be non-empty; got {self.labels!r}")
        if len(set(self.labels)) != len(self.labels):
            dup = sorted(x for x, n in Counter(self.labels).items() if n > 1)
            raise ConfigError(f"label names must be distinct; {', '.join(dup)} given twice")
        if len(self.labels) < 2:
            raise ConfigError(f"a labelling task needs at least 2 labels; got {', '.join(self.labels) or 'none'}")
        unknown = sorted(set(self.descriptions) - set(self.labels))
        if unknown:
            raise ConfigError(f"descriptions name unknown labels {unknown}; labels: {', '.join(self.labels)}")

    # ------------------------------------------------------------ builders
    @classmethod
    def from_labels(
        cls, labels: str | Iterable[str], *, multi_label: bool = False, descriptions: Mapping[str, str] | None = None
    ) -> LabelTask:
        """A task from ``"a,b,c"`` (or a list of names).

        Raises
        ------
        ConfigError
            Fewer than 2 names, an empty or repeated name.
        """
        names = [x.strip() for x in labels.split(",")] if isinstance(labels, str) else [str(x) for x in labels]
        return cls([x for x in names if x], dict(descriptions or {}), multi_label)

    @classmethod
    def from_config(cls, path: str | Path, *, store: Store | None = None) -> LabelTask:
        """A task from a ``dataset.toml``.

        ``[labels] keep`` names the labels; without it the labels are the (mapped) tags
        with at least ``min_count`` items in ``store``. ``multi_label`` unset: multi-label
        when an item in ``store`` carries two of the labels. Descriptions come from
        ``[labels] descriptions`` when the config schema has that key.

        Raises
        ------
        ConfigError
            A bad config, or no ``keep`` and no store to find the labels in.
        """
        from fewtag.data.config import load_config

        cfg = load_config(path)
        base = cls(["_a", "_b"], map=dict(cfg.map), repo=cfg.repo, include_prs=cfg.include_prs)
        items = list(base.items(store)) if store is not None else []
        tags = [base.tags(i.labels) for i in items]
        if cfg.keep is not None:
            labels = list(cfg.keep)
        elif store is not None:
            counts = Counter(t for ts in tags for t in ts)
            labels = sorted(t for t, n in counts.items() if n >= cfg.min_count)
            if len(labels) < 2:
                raise InputError(
                    f"{path} has no labels.keep and the store holds {len(labels)} tag(s) with at least "
                    f"{cfg.min_count} items; name the labels in labels.keep or use --labels"
                )
        else:
            raise ConfigError(f"{path} has no labels.keep; name the labels there or use --labels")
        multi = cfg.multi_label
        if multi is None:
            keep = set(labels)
            multi = any(len([t for t in ts if t in keep]) > 1 for ts in tags)
        descriptions = dict(getattr(cfg, "descriptions", None) or {})
        return cls(labels, descriptions, bool(multi), dict(cfg.map), cfg.repo, cfg.include_prs)

    # -------------------------------------------------------------- helpers
    def tags(self, raw: Iterable[str]) -> list[str]:
        """Raw labels through ``map`` (``""`` drops one), distinct, in the order given."""
        out: list[str] = []
        for r in raw:
            tag = self.map.get(r, r)
            if tag and tag not in out:
                out.append(tag)
        return out

    def mapped(self, raw: Iterable[str]) -> list[str]:
        """Raw labels mapped onto the task's labels (others dropped), in task order."""
        tags = set(self.tags(raw))
        return [x for x in self.labels if x in tags]

    def check(self, given: Iterable[str], where: str = "labels") -> list[str]:
        """``given`` as a valid label list of this task, in task order.

        Raises
        ------
        InputError
            An unknown label, or not exactly one label in a single-label task.

        >>> LabelTask(["bug", "docs"]).check(["docs"])
        ['docs']
        """
        given = [g.strip() for g in given if g.strip()]
        unknown = [g for g in given if g not in self.labels]
        if unknown:
            raise InputError(f"{where}: unknown label {unknown[0]!r}; labels: {', '.join(self.labels)}")
        chosen = [x for x in self.labels if x in set(given)]
        if not self.multi_label and len(chosen) > 1:
            raise InputError(f"{where}: one label per item in this single-label task; got {', '.join(chosen)}")
        return chosen

    def items(self, store: Store) -> Iterable[Item]:
        """The store's items this task covers (its repo, pull requests only if asked)."""
        return store.items(self.repo, include_prs=self.include_prs)
