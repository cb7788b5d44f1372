"""Find labels that are probably wrong or missing: confident learning over out-of-fold scores.

Every labelled row is scored by a model that never saw it (stratified k-fold, the same folds
``fewtag train`` tunes on). Confident learning (Northcutt et al., 2021) then counts, per label,
the rows whose score for another label is above that label's average self-confidence: the
*confident joint* of given and probable labels. Rows off its diagonal, pruned by the estimated
noise rates, are the likely errors. cleanlab's ``find_label_issues`` does that counting.

* single-label: a flagged row's label is probably **wrong**; the suggestion is its best other label.
* multi-label: each label is a yes/no task of its own; a flagged "yes" is a probably **wrong** label,
  a flagged "no" a probably **missing** one.

The per-label noise rate is the estimated share of rows given a label whose true label differs.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fewtag.crossval import fold_count, make_folds
from fewtag.errors import InputError, MissingDependencyError

#: cleanlab's rule for which off-diagonal rows to flag: ``"both"`` keeps the rows that pruning by
#: noise rate and pruning by class agree on. Chosen on the emotion training tweets with 10% injected
#: flips (all 16,000 rows, seed 0): precision .633 at recall .827, against .563 / .844 for cleanlab's
#: default ``"prune_by_noise_rate"`` (benchmarks/audit_flips.py; the issue sets were not looked at).
FILTER = "both"

__all__ = ["LabelIssue", "AuditResult", "out_of_fold_scores", "find_issues", "audit", "write_audit", "report_markdown"]


@dataclass(frozen=True)
class LabelIssue:
    """One likely error of row ``index`` (its ``id``): its ``label`` is probably wrong (``kind="wrong"``)
    or missing (``kind="missing"``); ``suggested`` is the label set the scores point to instead.

    ``score`` is the out-of-fold score behind the flag: for a single-label row, of the suggested
    label; for a multi-label row, of ``label`` (low for a wrong one, high for a missing one).
    """

    index: int
    id: str
    given: list[str]
    label: str
    suggested: list[str]
    score: float
    kind: str


@dataclass
class AuditResult:
    """What :func:`audit` found.

    Attributes
    ----------
    issues : likely errors, most confident first
    noise_rate : label -> estimated share of its rows whose label is wrong
    counts : label -> rows given that label
    method, folds : how the out-of-fold scores were made
    """

    issues: list[LabelIssue]
    noise_rate: dict[str, float]
    counts: dict[str, int]
    method: str
    folds: int
    rows: int
    multi_label: bool
    flagged: dict[str, dict[str, int]] = field(default_factory=dict)


def out_of_fold_scores(
    make: Callable[[], object],
    texts: Sequence[str],
    y: NDArray,
    classes: list[str],
    *,
    multi_label: bool,
    n_folds: int = 5,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> tuple[NDArray[np.float64], int]:
    """Scores of shape ``(n, n_classes)``, each row from a model fitted without it; and the fold count.

    ``make`` returns an unfitted tagger; it is fitted once per fold on the other folds.
    """
    from fewtag.labels import indicator_to_labels

    say = log or (lambda _m: None)
    y = np.asarray(y, dtype=np.int8)
    k = fold_count(y, n_folds)
    folds = make_folds(y, multi_label=multi_label, n_splits=k, seed=seed)
    labels = indicator_to_labels(y, classes, multi_label)
    oof = np.zeros((len(texts), len(classes)))
    for i, held in enumerate(folds, 1):
        say(
            f"fold {i}/{len(folds)}: scoring {len(held)} rows with a model fitted on the other {len(texts) - len(held)}"
        )
        rest = np.setdiff1d(np.arange(len(texts)), held)
        tagger = make()
        tagger.fit(  # type: ignore[attr-defined]
            [texts[j] for j in rest], [labels[j] for j in rest], classes=classes, multi_label=multi_label
        )
        oof[held] = tagger.predict_proba([texts[j] for j in held])  # type: ignore[attr-defined]
    return oof, k


def _cleanlab():
    try:
        from cleanlab.count import estimate_joint
        from cleanlab.filter import find_label_issues
    except ImportError as exc:
        raise MissingDependencyError(f"fewtag audit needs cleanlab: pip install 'fewtag[active]' ({exc})") from None
    return find_label_issues, estimate_joint


def _as_probs(scores: NDArray) -> NDArray[np.float64]:
    """Rows that sum to one (cleanlab's input), without changing their order."""
    s = np.clip(np.asarray(scores, dtype=np.float64), 1e-9, None)
    return s / s.sum(axis=1, keepdims=True)


def find_issues(
    y: NDArray, scores: NDArray, classes: list[str], *, multi_label: bool, ids: Sequence[str] | None = None
) -> tuple[list[LabelIssue], dict[str, float]]:
    """Likely label errors and per-label noise rates from out-of-fold ``scores`` (see the module notes).

    Parameters
    ----------
    y : ndarray of shape (n, n_classes), 0/1 given labels
    scores : ndarray of shape (n, n_classes), out-of-fold scores in ``classes`` order
    classes : label names
    multi_label : several labels per row
    ids : row ids (default: the row numbers)

    Examples
    --------
    >>> y = np.eye(2, dtype=int)[[0] * 20 + [1] * 20]
    >>> s = np.where(y == 1, 0.9, 0.1).astype(float)
    >>> s[3] = [0.05, 0.95]  # row 3 is given label a, but everything says b
    >>> issues, noise = find_issues(y, s, ["a", "b"], multi_label=False)
    >>> [(i.index, i.given, i.suggested, i.kind) for i in issues]
    [(3, ['a'], ['b'], 'wrong')]
    """
    find_label_issues, estimate_joint = _cleanlab()
    y = np.asarray(y, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    ids = [str(i) for i in range(len(y))] if ids is None else list(ids)
    found: list[LabelIssue] = []
    noise: dict[str, float] = {}
    if not multi_label:
        given = y.argmax(axis=1)
        probs = _as_probs(scores)
        flagged = find_label_issues(given, probs, filter_by=FILTER, return_indices_ranked_by="self_confidence")
        joint = estimate_joint(given, probs)
        for k, lab in enumerate(classes):
            row = joint[k]
            noise[lab] = float(1 - row[k] / row.sum()) if row.sum() > 0 else 0.0
        for i in flagged:
            other = probs[i].copy()
            other[given[i]] = -1
            best = int(other.argmax())
            lab = classes[given[i]]
            found.append(
                LabelIssue(int(i), ids[i], [lab], lab, [classes[best]], round(float(scores[i, best]), 4), "wrong")
            )
        return found, noise
    for k, lab in enumerate(classes):
        col = y[:, k]
        if col.min() == col.max():  # every row yes (or no): nothing to compare against
            noise[lab] = 0.0
            continue
        p = np.clip(scores[:, k], 1e-9, 1 - 1e-9)
        probs = np.column_stack([1 - p, p])
        flagged = find_label_issues(col, probs, filter_by=FILTER, return_indices_ranked_by="self_confidence")
        joint = estimate_joint(col, probs)
        noise[lab] = float(1 - joint[1, 1] / joint[1].sum()) if joint[1].sum() > 0 else 0.0
        for i in flagged:
            has = [classes[j] for j in np.flatnonzero(y[i])]
            kind, instead = ("wrong", [g for g in has if g != lab]) if col[i] else ("missing", sorted([*has, lab]))
            found.append(LabelIssue(int(i), ids[i], has, lab, instead, round(float(p[i]), 4), kind))
    # most confident first: a missing label with a high score, a wrong one with a low score
    found.sort(key=lambda it: -it.score if it.kind == "missing" else it.score - 1)
    return found, noise


def audit(
    make: Callable[[], object],
    texts: Sequence[str],
    y: NDArray,
    classes: list[str],
    *,
    multi_label: bool,
    ids: Sequence[str] | None = None,
    method: str = "",
    n_folds: int = 5,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> AuditResult:
    """Out-of-fold scores, then :func:`find_issues`.

    Raises
    ------
    InputError
        Fewer than 2 labels, or a label with fewer than 2 rows (nothing can be cross-validated).
    """
    y = np.asarray(y, dtype=np.int8)
    if len(classes) < 2:
        raise InputError(f"audit needs at least 2 labels with 2 rows each, got {len(classes)}: {classes}")
    if len(texts) != len(y):
        raise InputError(f"got {len(texts)} texts but {len(y)} label rows")
    scores, k = out_of_fold_scores(
        make, texts, y, classes, multi_label=multi_label, n_folds=n_folds, seed=seed, log=log
    )
    issues, noise = find_issues(y, scores, classes, multi_label=multi_label, ids=ids)
    counts = {lab: int(y[:, j].sum()) for j, lab in enumerate(classes)}
    flagged: dict[str, dict[str, int]] = {lab: {"wrong": 0, "missing": 0} for lab in classes}
    for it in issues:
        flagged[it.label][it.kind] += 1
    return AuditResult(issues, noise, counts, method, k, len(texts), multi_label, flagged)


ISSUE_COLUMNS = ["repo", "id", "kind", "label", "given", "suggested", "score", "text"]


def write_audit(
    result: AuditResult, out: str | Path, *, texts: Sequence[str], repos: Sequence[str] | None = None
) -> Path:
    """Write ``label_issues.csv``, ``noise_rates.csv`` and ``report.md`` into the folder ``out`` (atomically).

    ``label_issues.csv`` has one row per likely error (columns :data:`ISSUE_COLUMNS`; label lists
    joined with ``|``), most confident first; ``fewtag annotate --review`` reads it.
    """
    from fewtag.io import atomic_dir

    with atomic_dir(out, kind="audit") as tmp:
        with open(tmp / "label_issues.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(ISSUE_COLUMNS)
            for it in result.issues:
                repo = repos[it.index] if repos is not None else ""
                snippet = " ".join(texts[it.index].split())[:200]
                w.writerow(
                    [repo, it.id, it.kind, it.label, "|".join(it.given), "|".join(it.suggested), it.score, snippet]
                )
        with open(tmp / "noise_rates.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["label", "rows", "estimated_noise_rate", "flagged_wrong", "flagged_missing"])
            for lab, n in result.counts.items():
                f = result.flagged[lab]
                w.writerow([lab, n, round(result.noise_rate[lab], 4), f["wrong"], f["missing"]])
        (tmp / "report.md").write_text(report_markdown(result, texts=texts), encoding="utf-8")
    return Path(out)


def report_markdown(result: AuditResult, *, texts: Sequence[str], top: int = 20) -> str:
    """The Markdown report: how it was made, per-label noise, the most confident issues."""
    wrong = sum(it.kind == "wrong" for it in result.issues)
    missing = len(result.issues) - wrong
    lines = [
        "# Label audit",
        "",
        f"{result.rows} labelled rows, {len(result.counts)} labels, "
        f"{'multi' if result.multi_label else 'single'}-label. Out-of-fold scores from {result.method} "
        f"({result.folds}-fold); confident learning (cleanlab) over them.",
        "",
        f"**{wrong}** labels are probably wrong"
        + (f" and **{missing}** probably missing." if result.multi_label else "."),
        "",
        "| label | rows | estimated noise rate | flagged wrong | flagged missing |",
        "|---|---:|---:|---:|---:|",
    ]
    for lab, n in sorted(result.counts.items(), key=lambda kv: -result.noise_rate[kv[0]]):
        f = result.flagged[lab]
        lines.append(f"| {lab} | {n} | {result.noise_rate[lab]:.1%} | {f['wrong']} | {f['missing']} |")
    lines += ["", f"## The {min(top, len(result.issues))} most confident", ""]
    lines += ["| id | kind | label | given | suggested | score | text |", "|---|---|---|---|---|---:|---|"]
    for it in result.issues[:top]:
        snippet = " ".join(texts[it.index].split())[:90].replace("|", "\\|")
        lines.append(
            f"| {it.id} | {it.kind} | {it.label} | {', '.join(it.given)} | {', '.join(it.suggested)} "
            f"| {it.score:.2f} | {snippet} |"
        )
    return "\n".join(lines) + "\n"
