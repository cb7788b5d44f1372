"""One-time onboarding: a draft ``.github/fewtag.yml`` from a repository's labelled history,
and the quality report that goes into the onboarding pull request."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fewtag.data.store import Store

__all__ = ["label_counts", "draft_config", "quality_report"]

#: workflow labels that say nothing about an issue's content (left out of a draft)
WORKFLOW_LABELS = {"duplicate", "wontfix", "invalid", "stale", "good first issue", "help wanted", "needs-triage"}


def label_counts(store: Store, repo: str) -> Counter[str]:
    """How many issues (not pull requests) carry each label."""
    counts: Counter[str] = Counter()
    for it in store.items(repo, include_prs=False):
        counts.update(set(it.labels))
    return counts


def draft_config(store: Store, repo: str, *, min_issues: int = 10, model: str = ".github/fewtag-model") -> str:
    """A ``.github/fewtag.yml`` managing every content label that at least ``min_issues`` issues carry.

    Each label gets ``precision: 0.9``; workflow labels (duplicate, wontfix, ...) are left out.
    """
    import json

    counts = label_counts(store, repo)
    keep = [(lab, n) for lab, n in counts.most_common() if n >= min_issues and lab not in WORKFLOW_LABELS]
    if len(keep) < 2:
        from fewtag.errors import InputError

        raise InputError(
            f"{repo}: fewer than 2 labels carried by at least {min_issues} issues "
            f"({', '.join(f'{k} {v}' for k, v in counts.most_common(5)) or 'no labels'}); lower --min-issues"
        )
    lines = [
        f"# fewtag config drafted from {sum(n for _, n in keep)} labelled issues of {repo}: review it.",
        "labels:                       # the tags fewtag manages; nothing else is ever touched",
    ]
    for lab, n in keep:
        lines.append(f'  {json.dumps(lab)}: {{description: "", precision: 0.9}}   # {n} issues')
    lines += [
        "max_labels: 2",
        "default_label: needs-triage   # added when fewtag abstains; omit for none",
        'exclude_authors: ["dependabot[bot]", "*[bot]"]',
        "dry_run: false",
        "comment: true",
        f"model: {model}",
    ]
    return "\n".join(lines) + "\n"


def quality_report(repo: str, method: str, metrics: dict[str, Any], calibration: dict[str, Any] | None) -> str:
    """The onboarding pull request's body: the cross-validated estimate and the calibration."""
    est = metrics.get("estimate", {})

    def iv(d: dict[str, Any]) -> str:
        lo, hi = d.get("low"), d.get("high")
        return f"{d.get('mean', 0):.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else "")

    lines = [
        f"# fewtag for {repo}",
        "",
        f"A `{method}` model trained on {metrics.get('train_size')} labelled issues, tuned on out-of-fold scores "
        f"({metrics.get('tuning')}).",
        "",
        "Expected quality (mean [95% interval] over folds):",
        f"- micro F1 {iv(est.get('micro_f1', {}))}",
        f"- macro F1 {iv(est.get('macro_f1', {}))}",
        "",
        "| label | F1 (out of fold) |",
        "|---|---:|",
    ]
    lines += [f"| `{lab}` | {f1:.3f} |" for lab, f1 in est.get("per_label_f1", {}).items()]
    if calibration:
        lines += [
            "",
            f"Calibration: expected calibration error {calibration['before']:.3f} -> {calibration['after']:.3f} "
            "(cross-fitted on out-of-fold scores), so a threshold of 0.9 means about 90% precision.",
        ]
    lines += [
        "",
        "Merge this pull request to start labelling: `.github/workflows/fewtag-triage.yml` runs on new issues.",
    ]
    return "\n".join(lines) + "\n"
