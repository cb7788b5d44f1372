"""Label write-back: add predicted labels to open issues, carefully.

Rules
-----
* Labels are only ever **added** (``POST /repos/{o}/{r}/issues/{n}/labels``),
  never removed.
* A label a human removed is never re-added: the issue's events
  (``GET .../issues/{n}/events``, ``unlabeled``) are checked, and so is the
  local record (a label fewtag added earlier that the issue no longer has).
* Every decision is recorded in the ``label_actions`` table (not in dry-run).

:func:`apply_to_issue` handles one issue (the web service's webhook calls it);
:func:`plan_labels` + :func:`apply_labels` do a whole repository.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fewtag.data.store import Item, Store
from fewtag.errors import GitHubError, InputError
from fewtag.github.client import GitHubClient
from fewtag.github.names import api_path, parse_repo
from fewtag.github.tables import ensure_tables, now_iso

__all__ = [
    "Plan",
    "Action",
    "suggest_labels",
    "plan_labels",
    "apply_labels",
    "apply_to_issue",
    "removed_labels",
    "label_history",
    "ADDED",
    "SKIPPED",
    "PLANNED",
    "FAILED",
]

ADDED, PLANNED, SKIPPED, FAILED = "added", "planned", "skipped", "failed"


@dataclass
class Plan:
    """Labels suggested for one issue: ``[(label, score), ...]`` best first."""

    repo: str
    number: int
    title: str
    current: list[str]
    suggestions: list[tuple[str, float]] = field(default_factory=list)

    @property
    def new(self) -> list[tuple[str, float]]:
        """Suggestions the issue does not already carry."""
        return [(lab, s) for lab, s in self.suggestions if lab not in self.current]


@dataclass
class Action:
    """One decision about one label on one issue.

    ``action`` is ``added``, ``planned`` (dry-run), ``skipped`` or ``failed``;
    ``reason`` says why for the last two.
    """

    repo: str
    number: int
    label: str
    score: float | None
    action: str
    reason: str = ""


def suggest_labels(
    tagger: Any,
    texts: Sequence[str],
    *,
    min_score: float | None = None,
) -> list[list[tuple[str, float]]]:
    """``[(label, score), ...]`` per text, best first, that the model would add.

    Parameters
    ----------
    tagger : BaseTagger
    texts : sequence of str, length n
    min_score : float, optional
        Keep labels with score >= ``min_score``; default: the model's decision rule.

    Returns
    -------
    list of length n of lists of (label, score)
    """
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        raise InputError(f"--min-score must be between 0 and 1; got {min_score}")
    if not texts:
        return []
    classes = list(tagger.classes_)
    scores = np.asarray(tagger.predict_proba(list(texts)), dtype=float)
    keep = scores >= min_score if min_score is not None else tagger.decision_.apply(scores)
    return [
        sorted(((classes[j], float(row[j])) for j in np.flatnonzero(mask)), key=lambda p: -p[1])
        for row, mask in zip(scores, keep)
    ]


def plan_labels(
    tagger: Any,
    items: Iterable[Item],
    *,
    min_score: float | None = None,
    only_unlabelled: bool = False,
    max_issues: int | None = None,
    batch_size: int = 256,
) -> list[Plan]:
    """Predict labels for open issues (pull requests, closed issues and items without an
    issue number are skipped).

    Parameters
    ----------
    tagger : BaseTagger
        A fitted or loaded tagger (``predict_proba``, ``classes_``, ``decision_``).
    items : iterable of Item
    min_score : float, optional
        Keep labels with score >= ``min_score``; default: the model's decision rule.
    only_unlabelled : bool
        Only issues with no label at all.
    max_issues : int, optional
        At most this many issues with something new to add, in issue-number order.

    Returns
    -------
    list of Plan
        One per issue that gets at least one new label.
    """
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        raise InputError(f"--min-score must be between 0 and 1; got {min_score}")
    if max_issues is not None and max_issues < 1:
        raise InputError(f"--max must be at least 1; got {max_issues}")
    todo = [
        it
        for it in items
        if it.number is not None
        and not it.is_pr
        and (it.state or "open") == "open"
        and not (only_unlabelled and it.labels)
    ]
    todo.sort(key=lambda it: (it.repo, it.number, it.id))
    plans: list[Plan] = []
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        texts = [tagger.text_of({"title": it.title, "body": it.body}, f"{it.repo}#{it.number}") for it in chunk]
        picks = suggest_labels(tagger, texts, min_score=min_score)  # the model's own text path
        for it, picked in zip(chunk, picks):
            assert it.number is not None  # issues without a number were filtered out above
            plan = Plan(it.repo, int(it.number), it.title, list(it.labels), picked)
            if plan.new:
                plans.append(plan)
                if max_issues is not None and len(plans) >= max_issues:
                    return plans
    return plans


def removed_labels(client: GitHubClient, repo: str, number: int) -> set[str]:
    """Labels that were ever removed from the issue (its ``unlabeled`` events)."""
    owner, name = parse_repo(repo)
    gone: set[str] = set()
    for event in client.get_all(api_path("repos", owner, name, "issues", int(number), "events")):
        if isinstance(event, dict) and event.get("event") == "unlabeled":
            label = event.get("label") or {}
            if isinstance(label, dict) and label.get("name"):
                gone.add(str(label["name"]))
    return gone


def label_history(store: Store, repo: str, number: int) -> set[str]:
    """Labels fewtag has added to this issue before (local record)."""
    ensure_tables(store)
    return store.labels_with_action(repo, int(number), ADDED)


def apply_to_issue(
    client: GitHubClient | None,
    store: Store,
    repo: str,
    issue_number: int,
    labels_with_scores: Mapping[str, float | None] | Sequence[tuple[str, float]],
    *,
    dry_run: bool = False,
    current_labels: Sequence[str] | None = None,
    model: str | None = None,
    check_events: bool = True,
) -> list[Action]:
    """Add the suggested labels to one issue, never re-adding a removed one.

    Parameters
    ----------
    client : GitHubClient or None
        ``None`` only with ``dry_run=True`` (then events are not checked).
    store : Store
        Actions are recorded in its ``label_actions`` table (not in dry-run); the
        stored item's labels are updated after a successful write.
    repo : str
        ``OWNER/NAME``.
    issue_number : int
    labels_with_scores : mapping or sequence of (label, score)
        A mapping may give ``None`` for a label that has no score (a default label).
    dry_run : bool
        Decide and return ``planned`` actions; no POST, nothing recorded.
    current_labels : sequence of str, optional
        The issue's labels now (a webhook payload has them); default the store's.
    model : str, optional
        Recorded with each action.
    check_events : bool
        Read the issue's events for ``unlabeled`` labels (one paginated GET).

    Returns
    -------
    list of Action
        One per suggested label: ``added``/``planned``, or ``skipped`` with a reason
        (``already present``, ``removed by a human``), or ``failed``.

    Raises
    ------
    GitHubError
        Reading events failed (nothing was written then).
    """
    owner, name = parse_repo(repo)
    repo = f"{owner}/{name}"
    number = int(issue_number)
    ensure_tables(store)
    pairs: list[tuple[str, float | None]] = (
        list(labels_with_scores.items())
        if isinstance(labels_with_scores, Mapping)
        else [(str(lab), float(s)) for lab, s in labels_with_scores]
    )
    item = store.get_item(repo, number)
    current = set(current_labels if current_labels is not None else (item.labels if item else []))
    ours = label_history(store, repo, number)
    removed: set[str] = set()
    if client is not None and check_events and any(lab not in current for lab, _ in pairs):
        removed = removed_labels(client, repo, number)
    actions: list[Action] = []
    to_add: list[tuple[str, float | None]] = []
    for label, score in pairs:
        if label in current:
            actions.append(Action(repo, number, label, score, SKIPPED, "already present"))
        elif label in removed:
            actions.append(Action(repo, number, label, score, SKIPPED, "removed by a human (issue events)"))
        elif label in ours:
            actions.append(Action(repo, number, label, score, SKIPPED, "removed after fewtag added it (local record)"))
        else:
            to_add.append((label, score))
    if dry_run:
        actions.extend(Action(repo, number, lab, s, PLANNED) for lab, s in to_add)
        return actions
    if client is None:
        raise InputError("apply_to_issue needs a GitHub client unless dry_run=True")
    new_labels: list[str] | None = None
    if to_add:
        try:
            resp = client.post(
                api_path("repos", owner, name, "issues", number, "labels"), {"labels": [lab for lab, _ in to_add]}
            )
            if isinstance(resp.data, list):
                new_labels = [str(x.get("name")) for x in resp.data if isinstance(x, dict)]
            actions.extend(Action(repo, number, lab, s, ADDED) for lab, s in to_add)
        except GitHubError as exc:
            actions.extend(Action(repo, number, lab, s, FAILED, str(exc)) for lab, s in to_add)
    with store.transaction() as conn:
        at = now_iso()
        store.record_label_actions(
            conn, [(a.repo, a.number, a.label, a.score, a.action, a.reason, model, at) for a in actions]
        )
        if item is not None and new_labels is not None:
            store.set_item_labels(conn, repo, item.id, new_labels)
    return actions


def apply_labels(
    tagger: Any,
    store: Store,
    repo: str,
    *,
    client: GitHubClient | None = None,
    dry_run: bool = False,
    min_score: float | None = None,
    only_unlabelled: bool = False,
    max_issues: int | None = None,
    model: str | None = None,
    on_issue: Any = None,
) -> list[Action]:
    """Predict for the open issues of ``repo`` in the store and add the labels.

    Parameters
    ----------
    tagger : BaseTagger
    store : Store
        Issues come from the store (run ``fewtag fetch`` first).
    repo : str
    client : GitHubClient, optional
        Required unless ``dry_run``; with ``dry_run`` it is still used (GET only)
        to check label events, so the plan shows what a real run would do.
    dry_run, min_score, only_unlabelled, max_issues
        See :func:`plan_labels` and :func:`apply_to_issue`.

    Returns
    -------
    list of Action
    """
    owner, name = parse_repo(repo)
    repo = f"{owner}/{name}"
    if not dry_run and client is None:
        raise InputError("writing labels needs a GitHub client (token); use dry_run=True to only plan")
    items = list(store.items(repo, include_prs=False))
    if not items:
        raise InputError(f"the store has no issues of {repo}; run `fewtag fetch {repo}` first")
    plans = plan_labels(tagger, items, min_score=min_score, only_unlabelled=only_unlabelled, max_issues=max_issues)
    actions: list[Action] = []
    for plan in plans:
        actions.extend(
            apply_to_issue(
                client,
                store,
                repo,
                plan.number,
                plan.suggestions,
                dry_run=dry_run,
                current_labels=plan.current,
                model=model,
            )
        )
        if on_issue is not None:
            on_issue(plan)
    return actions
