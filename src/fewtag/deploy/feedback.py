"""What people did with fewtag's labels, per label: the live quality of the deployed model,
and the corrections as training data.

From the stored label events (:mod:`fewtag.github.events`), fewtag's own record
(``label_actions``) and the reactions on its comment:

* **added**: labels fewtag put on an issue (a ``labeled`` event by one of fewtag's logins, or
  its own record);
* **removed**: of those, the ones a person took off later (an ``unlabeled`` event by someone
  else): a negative example;
* **kept** = added - removed;
* **missed**: a managed label a person added to an issue after fewtag triaged it, that fewtag
  had not added: a missed positive;
* live **precision** = kept / added, **recall** = kept / (kept + missed), over a time window
  (events at or after ``since``);
* 👍 / 👎 on fewtag's comment, counted for each label fewtag added on that issue;
* **retired**: a label fewtag still adds that the repository no longer has (its label list, as
  read by ``fewtag feedback --refresh``).

Retraining uses the corrections: :func:`training_rows` gives the issues with their managed tags
as people left them (a removed label is gone, a missed one is there); an issue whose only
managed labels fewtag added and that is still open has not been looked at, and is left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fewtag.data.store import Store
from fewtag.deploy.config import RepoConfig

__all__ = ["LabelFeedback", "FeedbackReport", "feedback_report", "training_rows", "DEFAULT_BOTS"]

#: logins whose label events are fewtag's own (the Actions token, and the fake server in tests)
DEFAULT_BOTS = ("github-actions[bot]",)


@dataclass
class LabelFeedback:
    label: str
    added: int = 0
    kept: int = 0
    removed: int = 0
    missed: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0
    retired: bool = False

    @property
    def precision(self) -> float | None:
        return self.kept / self.added if self.added else None

    @property
    def recall(self) -> float | None:
        return self.kept / (self.kept + self.missed) if (self.kept + self.missed) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "added": self.added,
            "kept": self.kept,
            "removed": self.removed,
            "missed": self.missed,
            "precision": None if self.precision is None else round(self.precision, 4),
            "recall": None if self.recall is None else round(self.recall, 4),
            "thumbs_up": self.thumbs_up,
            "thumbs_down": self.thumbs_down,
            "retired": self.retired,
        }


@dataclass
class FeedbackReport:
    repo: str
    since: str | None
    issues: int = 0
    labels: list[LabelFeedback] = field(default_factory=list)

    def total(self) -> LabelFeedback:
        t = LabelFeedback("all")
        for row in self.labels:
            t.added, t.kept, t.removed, t.missed = (
                t.added + row.added,
                t.kept + row.kept,
                t.removed + row.removed,
                t.missed + row.missed,
            )
        return t


def feedback_report(
    store: Store,
    repo: str,
    config: RepoConfig,
    *,
    since: str | None = None,
    bots: tuple[str, ...] | set[str] = DEFAULT_BOTS,
    predicted: list[str] | None = None,
) -> FeedbackReport:
    """Per managed label: added, kept, removed, missed, live precision and recall, reactions, retired.

    Parameters
    ----------
    store : Store
        With label events (``fewtag feedback --refresh``) and/or fewtag's label actions.
    config : RepoConfig
        The managed labels and their aliases (the default label is not scored).
    since : str, optional
        ISO time: only what fewtag added, and what people did, at or after it.
    bots : logins whose ``labeled`` events are fewtag's
    predicted : list of str, optional
        The labels the deployed model can add (its classes); default the config's labels.
    """
    bots = set(bots)
    scored = config.managed() - ({config.default_label} if config.default_label else set())
    rows = {lab: LabelFeedback(lab) for lab in sorted(scored)}
    by_issue: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in store.label_events(repo):
        by_issue[int(e["number"])].append(e)
    added_at: dict[tuple[int, str], str] = {}
    for number, label, at in store.fewtag_additions(repo):
        tag = config.tag_of(label)
        if tag in rows:
            added_at.setdefault((number, tag), at)
    for number, events in by_issue.items():
        for e in events:
            tag = config.tag_of(e["label"])
            if tag in rows and e["action"] == "labeled" and e["actor"] in bots:
                key = (number, tag)
                if key not in added_at or (e["at"] or "") < added_at[key]:
                    added_at[key] = e["at"] or ""
    comments = store.fewtag_comments(repo)
    triaged: dict[int, str] = {}
    for (number, _), at in added_at.items():
        triaged[number] = min(at, triaged.get(number, at))
    for number, c in comments.items():
        if c.get("created_at"):
            triaged[number] = min(str(c["created_at"]), triaged.get(number, str(c["created_at"])))
    report = FeedbackReport(repo, since)
    in_window = {n for n, at in triaged.items() if since is None or at >= since}
    report.issues = len(in_window)
    ours_by_issue: dict[int, set[str]] = defaultdict(set)
    for (number, tag), at in added_at.items():
        if number not in in_window:
            continue
        ours_by_issue[number].add(tag)
        rows[tag].added += 1
        gone = any(
            config.tag_of(e["label"]) == tag
            and e["action"] == "unlabeled"
            and e["actor"] not in bots
            and (e["at"] or "") >= at
            for e in by_issue.get(number, [])
        )
        if gone:
            rows[tag].removed += 1
        else:
            rows[tag].kept += 1
    for number in in_window:
        start = triaged[number]
        missed = {
            config.tag_of(e["label"])
            for e in by_issue.get(number, [])
            if e["action"] == "labeled" and e["actor"] not in bots and (e["at"] or "") >= start
        }
        for tag in missed:
            if tag in rows and tag not in ours_by_issue[number]:
                rows[tag].missed += 1
    for r in store.comment_reactions(repo):
        number = int(r["number"])
        if number not in in_window:
            continue
        for tag in ours_by_issue.get(number, ()):
            if r["content"] == "+1":
                rows[tag].thumbs_up += 1
            elif r["content"] == "-1":
                rows[tag].thumbs_down += 1
    existing = store.repo_labels(repo)
    if existing is not None:
        have = set(existing)
        for tag in predicted if predicted is not None else list(rows):
            tag = config.tag_of(tag) or tag
            if tag in rows:
                names = {tag, *(config.labels[tag].aliases if tag in config.labels else [])}
                rows[tag].retired = not (names & have)
    report.labels = list(rows.values())
    return report


def training_rows(
    store: Store, repo: str, config: RepoConfig, *, bots: tuple[str, ...] | set[str] = DEFAULT_BOTS
) -> list[dict[str, Any]]:
    """The store's issues with their managed tags as people left them, oldest first.

    Each row is ``{"id", "title", "body", "labels", "created_at"}``; issues with no managed tag,
    pull requests, and open issues whose managed tags were all added by fewtag are left out.
    """
    bots = set(bots)
    fewtag_only: dict[int, set[str]] = defaultdict(set)
    for e in store.label_events(repo):
        if e["action"] == "labeled" and e["actor"] in bots:
            fewtag_only[int(e["number"])].add(config.tag_of(e["label"]) or e["label"])
    for number, label, _ in store.fewtag_additions(repo):
        fewtag_only[number].add(config.tag_of(label) or label)
    default = config.default_label
    rows = []
    for it in store.items(repo, include_prs=False):
        tags = sorted(config.tags_of(list(it.labels)) - ({default} if default else set()))
        if not tags:
            continue
        if (it.state or "open") == "open" and it.number is not None and set(tags) <= fewtag_only.get(it.number, set()):
            continue
        rows.append({"id": it.id, "title": it.title, "body": it.body, "labels": tags, "created_at": it.created_at})
    rows.sort(key=lambda r: (r["created_at"] or "", r["id"]))
    return rows
