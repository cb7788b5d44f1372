"""``fewtag triage``: label one issue per the repository config, and explain it in one comment.

One run: read the issue (from GitHub, or from the store when offline), leave it alone if a
pull request or by an excluded author, score it with one model per label family (through the
model's own text path, ``model.text_of(record)``), keep the allow-listed labels that reach
their threshold / precision target / the model's rule (at most ``max_labels`` per family, one
for a single-label family), add the ``default_label`` when the main model abstains, write them
through :func:`fewtag.github.apply.apply_to_issue` (add-only; a label a human removed is never
added again), then create or edit the one comment. A rerun that decides the same writes
nothing: labels already there are skipped, and an unchanged comment is not edited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fewtag.calibration import threshold_for_precision
from fewtag.data.formats import github_item
from fewtag.data.store import Item, Store
from fewtag.deploy.comment import CommentView, comment_state, find_comment, render_comment, upsert_comment
from fewtag.deploy.config import MAIN_FAMILY, RepoConfig, model_source
from fewtag.deploy.explain import similar_labelled, top_words
from fewtag.errors import ConfigError, GitHubError, InputError
from fewtag.github.apply import ADDED, FAILED, PLANNED, SKIPPED, Action, apply_to_issue, removed_labels
from fewtag.github.client import GitHubClient
from fewtag.github.names import api_path, check_repo, parse_repo
from fewtag.methods.base import BaseTagger

__all__ = ["Candidate", "TriageResult", "parse_issue", "load_models", "decide", "triage_issue"]

_REF = re.compile(r"^(?P<repo>[^#\s]+)#(?P<number>\d+)$")


def parse_issue(ref: str) -> tuple[str, int]:
    """``"OWNER/REPO#N"`` -> ``("OWNER/REPO", N)``.

    >>> parse_issue("octo/widgets#12")
    ('octo/widgets', 12)
    """
    m = _REF.match(ref.strip()) if isinstance(ref, str) else None
    if not m:
        raise InputError(f"expected an issue as OWNER/REPO#NUMBER (e.g. huggingface/datasets#7426); got {ref!r}")
    return check_repo(m.group("repo")), int(m.group("number"))


@dataclass
class Candidate:
    """One managed label's score for this issue and whether it is picked."""

    label: str
    score: float
    family: str
    floor: float | None  # the threshold used; None: the model's own decision rule
    picked: bool
    cls: str  # the model's class name (may be an alias of ``label``)
    note: str = ""


@dataclass
class TriageResult:
    """What one triage did (or, in a dry run, would do)."""

    repo: str
    number: int
    title: str = ""
    skipped: str | None = None
    dry_run: bool = False
    candidates: list[Candidate] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    comment: str | None = None
    comment_action: str | None = None

    @property
    def added(self) -> list[str]:
        """Labels added (or planned in a dry run) by this run."""
        return [a.label for a in self.actions if a.action in (ADDED, PLANNED)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "issue": f"{self.repo}#{self.number}",
            "skipped": self.skipped,
            "dry_run": self.dry_run,
            "added": self.added,
            "actions": [
                {"label": a.label, "score": a.score, "action": a.action, "reason": a.reason} for a in self.actions
            ],
            "scores": {c.label: round(c.score, 4) for c in self.candidates},
            "comment": self.comment_action,
        }


def load_models(
    config: RepoConfig, *, model: str | Path | None = None, root: str | Path = "."
) -> dict[str, BaseTagger]:
    """One loaded model per family (``labels`` first), from the config's ``model`` keys.

    Parameters
    ----------
    model : path, optional
        Overrides the top-level ``model`` (``--model DIR``).
    root : path
        Relative model paths are under it (the repository's root).

    Raises
    ------
    ConfigError
        A model is a release asset URL or a cache key (the Action fetches those first), or it
        predicts none of its family's labels.
    InputError
        A model folder does not exist.
    """
    from fewtag.registry import load_tagger

    families = [MAIN_FAMILY, *config.families]
    out: dict[str, BaseTagger] = {}
    for fam in families:
        key = "model" if fam == MAIN_FAMILY else f"families.{fam}.model"
        spec = str(model) if (fam == MAIN_FAMILY and model is not None) else config.model_for(fam)
        src = model_source(spec)
        if src.kind != "path":
            what = "a release asset URL" if src.kind == "url" else f"the Actions cache key {src.value!r}"
            raise ConfigError(
                f"{key}: {spec!r} is {what}; fewtag triage reads a model folder: restore it first "
                "(the fewtag Action does) and pass --model DIR"
            )
        path = Path(src.value)
        if not path.is_absolute():
            path = Path(root) / path
        if not path.is_dir():
            raise InputError(
                f"{key}: the model folder {path} does not exist (train one with `fewtag train ... --out {path}`)"
            )
        tagger = load_tagger(path)
        if not any(
            config.tag_of(c) is not None and config.family_of(config.tag_of(c) or "") == fam for c in tagger.classes_
        ):
            raise ConfigError(
                f"{key}: the model in {path} predicts none of the labels of {fam!r} "
                f"(it predicts {', '.join(tagger.classes_)})"
            )
        out[fam] = tagger
    return out


def decide(config: RepoConfig, family: str, tagger: BaseTagger, text: str) -> list[Candidate]:
    """Score ``text`` and pick this family's labels; every managed label of the family, best first."""
    scores = tagger.predict_proba([text])[0]
    rule = tagger.decision_.apply(scores[None, :])[0]
    cal = tagger.calibration()
    cands: list[Candidate] = []
    for j, cls in enumerate(tagger.classes_):
        tag = config.tag_of(cls)
        if tag is None or tag == config.default_label or config.family_of(tag) != family:
            continue  # not allow-listed for this model: never touched
        s = float(scores[j])
        spec = config.labels.get(tag)
        floor: float | None = None
        ok, note = bool(rule[j]), ""
        if spec is not None and spec.threshold is not None:
            floor = spec.threshold
            ok = s >= floor
        elif spec is not None and spec.precision is not None:
            floor = threshold_for_precision(cal, j, spec.precision) if cal is not None else spec.precision
            if floor is None:
                ok, note = False, f"precision {spec.precision:g} out of reach (out of fold)"
            else:
                ok = s >= floor
        cands.append(Candidate(tag, s, family, floor, ok, cls, note))
    cands.sort(key=lambda c: -c.score)
    single = (not tagger.multi_label_) if family == MAIN_FAMILY else not config.families[family].multi_label
    cap = 1 if single else config.max_labels
    kept = 0
    for c in cands:
        if c.picked:
            if cap is not None and kept >= cap:
                c.picked, c.note = False, f"over max_labels ({cap})" if not single else "single-label family"
            else:
                kept += 1
    return cands


def _read_issue(client: GitHubClient | None, store: Store | None, repo: str, number: int) -> Item:
    if client is not None:
        owner, name = parse_repo(repo)
        resp = client.get(api_path("repos", owner, name, "issues", number))
        if not isinstance(resp.data, dict):
            raise GitHubError(f"GET issue {repo}#{number}: expected a JSON object")
        return github_item(resp.data, repo, source="github-api")
    assert store is not None
    item = store.get_item(repo, number)
    if item is None:
        raise InputError(f"{repo}#{number} is not in the store; run `fewtag fetch {repo}` (or `fewtag import`) first")
    return item


def _comments(client: GitHubClient | None, store: Store | None, repo: str, number: int) -> list[dict[str, Any]]:
    if client is not None:
        owner, name = parse_repo(repo)
        return [
            c
            for c in client.get_all(api_path("repos", owner, name, "issues", number, "comments"))
            if isinstance(c, dict)
        ]
    if store is None:
        return []
    store.ensure_github_tables()
    return store.stored_comments(repo, number)


def triage_issue(
    repo: str,
    number: int,
    *,
    config: RepoConfig,
    models: Mapping[str, BaseTagger],
    client: GitHubClient | None = None,
    store: Store | None = None,
    dry_run: bool = False,
    model_name: str = "",
) -> TriageResult:
    """Triage one issue; see the module docstring for the steps.

    Parameters
    ----------
    repo : str
        ``OWNER/NAME``.
    number : int
    config : RepoConfig
    models : dict of family -> tagger
        From :func:`load_models`.
    client : GitHubClient, optional
        ``None``: offline, on the issue as stored in ``store`` (needs ``dry_run``).
    store : Store, optional
        Label actions are recorded there, and its labelled issues are the neighbours the
        comment links to. Without it, an in-memory store is used.
    dry_run : bool
        Decide and render the comment; write nothing (also when ``config.dry_run``).

    Returns
    -------
    TriageResult

    Raises
    ------
    InputError
        Offline without ``dry_run`` or without the issue in the store.
    GitHubError
        Reading the issue, its events or comments failed (nothing was written then).
    """
    owner, name = parse_repo(repo)
    repo, number = f"{owner}/{name}", int(number)
    dry = bool(dry_run or config.dry_run)
    if client is None and not dry:
        raise InputError("triage without GitHub (offline, on an issue in --store) only works with --dry-run")
    if client is None and store is None:
        raise InputError("offline triage needs --store DB holding the issue")
    item = _read_issue(client, store, repo, number)
    result = TriageResult(repo, number, item.title, dry_run=dry)
    if item.is_pr:
        result.skipped = "a pull request"
        return result
    if config.excluded(item.author):
        result.skipped = f"the author {item.author} is excluded (exclude_authors)"
        return result
    comments = _comments(client, store, repo, number)
    existing = find_comment(comments)
    prev = comment_state(str(existing.get("body") or "") if existing else None)
    raw_now = list(item.labels)
    tags_now = config.tags_of(raw_now) | set(raw_now)
    gone_raw = removed_labels(client, repo, number) if client is not None else set()
    removed = {config.tag_of(r) or r for r in gone_raw} | set(prev["removed"])
    removed |= {lab for lab in prev["added"] if lab not in tags_now}  # fewtag added it, a human took it off
    record = {"title": item.title, "body": item.body}
    texts: dict[str, str] = {}
    for fam, tagger in models.items():
        texts[fam] = tagger.text_of(record, f"{repo}#{number}")
        result.candidates.extend(decide(config, fam, tagger, texts[fam]))
    to_add: dict[str, float | None] = {}
    skipped: list[Action] = []
    for c in result.candidates:
        if not c.picked:
            continue
        if c.label in removed and c.label not in tags_now:
            skipped.append(Action(repo, number, c.label, round(c.score, 4), SKIPPED, "removed by a human"))
        elif c.label not in tags_now:
            to_add[c.label] = round(c.score, 4)
    main_tags = set(config.labels)
    main_picked = any(c.picked for c in result.candidates if c.family == MAIN_FAMILY)
    default = config.default_label
    wants_default = bool(default) and not main_picked and not (tags_now & main_tags)
    if wants_default and default and default not in tags_now and default not in removed:
        to_add[default] = None
    own = store if store is not None else Store(":memory:")
    try:
        result.actions = apply_to_issue(
            client,
            own,
            repo,
            number,
            to_add,
            dry_run=dry,
            current_labels=sorted(tags_now),
            model=model_name,
            check_events=False,
        )
    finally:
        if store is None:
            own.close()
    result.actions = skipped + result.actions
    failed = [a for a in result.actions if a.action == FAILED]
    if config.comment is False:
        return result
    done = {a.label for a in result.actions if a.action in (ADDED, PLANNED)}
    if failed and not done:
        return result  # nothing new happened; the comment would only repeat the old state
    view = _view(config, models, texts, result, prev, tags_now | done, removed, store, item)
    body = render_comment(view, config.comment)
    result.comment = body
    if dry:
        result.comment_action = "planned" if existing is None or existing.get("body") != body else "unchanged"
    else:
        assert client is not None
        result.comment_action, _ = upsert_comment(client, repo, number, body, existing)
    return result


def _view(
    config: RepoConfig,
    models: Mapping[str, BaseTagger],
    texts: Mapping[str, str],
    result: TriageResult,
    prev: Mapping[str, Any],
    present: set[str],
    removed: set[str],
    store: Store | None,
    item: Item,
) -> CommentView:
    """What the comment shows; only facts that a rerun with the same model reproduces."""
    scores = {c.label: c.score for c in result.candidates}
    now = {a.label for a in result.actions if a.action in (ADDED, PLANNED)}
    ours = (set(prev["added"]) | now) - {config.default_label}
    added = {lab: round(scores.get(lab, prev["added"].get(lab, 0.0)), 2) for lab in sorted(ours) if lab in present}
    default = (
        config.default_label
        if config.default_label
        and (config.default_label in now or (prev.get("default") and config.default_label in present))
        else None
    )
    view = CommentView(added=added, removed=sorted(x for x in removed if x in ours or x in scores), default=default)
    shown = sorted(result.candidates, key=lambda c: -c.score)
    top = [c for c in shown if c.label in added or c.picked] + [c for c in shown if not (c.label in added or c.picked)]
    for c in top[: max(5, len(added))]:
        if c.label in added:
            status = "added"
        elif c.label in removed:
            status = "removed by a maintainer"
        elif c.label in present:
            status = "already on the issue"
        elif c.picked:
            status = "not added"
        else:
            status = c.note or "below"
        view.rows.append((c.label, round(c.score, 2), c.floor, status))
    names = []
    for fam, tagger in models.items():
        names.append(f"{tagger.name}" if fam == MAIN_FAMILY else f"{fam}: {tagger.name}")
        for c in result.candidates:
            if c.family == fam and c.label in added:
                words = top_words(tagger, texts[fam], c.cls)
                if words:
                    view.words[c.label] = words
    view.model = ", ".join(names)
    if store is not None:
        view.similar = similar_labelled(
            store.items(item.repo, include_prs=False),
            texts[MAIN_FAMILY],
            text_of=lambda it: f"{it.title}\n{it.body[:1000]}",
            tags_of=lambda labels: config.tags_of(labels) - {config.default_label or ""},
            exclude=(item.repo, int(item.number or 0)),
        )
    return view
