"""fewtag's one comment per issue: what it added, how sure it was, and why.

The comment starts with a hidden HTML marker that also carries fewtag's state for the issue
(the labels it added and their scores), so a rerun on a fresh runner (GitHub Actions keeps no
store between runs) finds the comment, knows what it did before, and edits the comment
instead of adding another. The body is a pure function of the decision, so a rerun that
decides the same thing writes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fewtag.errors import GitHubAuthError
from fewtag.github.client import GitHubClient
from fewtag.github.events import FEWTAG_MARKER
from fewtag.github.names import api_path, parse_repo

__all__ = [
    "MARKER",
    "Neighbour",
    "CommentView",
    "render_comment",
    "comment_state",
    "find_comment",
    "upsert_comment",
]

#: the hidden marker that starts fewtag's comment; its JSON state follows on the same line
MARKER = FEWTAG_MARKER
_STATE = re.compile(r"<!-- fewtag:triage (\{.*\}) -->")


@dataclass(frozen=True)
class Neighbour:
    """An already-labelled issue like this one."""

    repo: str
    number: int
    title: str
    labels: tuple[str, ...]
    similarity: float
    url: str | None = None

    def link(self) -> str:
        url = self.url or f"https://github.com/{self.repo}/issues/{self.number}"
        title = self.title.replace("[", "(").replace("]", ")").replace("\n", " ")[:80]
        return f"[#{self.number} {title}]({url})"


@dataclass
class CommentView:
    """What the comment shows.

    ``added``: label -> score of every label fewtag added (now and before) that is still on the
    issue; ``removed``: labels fewtag added that a human took off; ``rows``: per candidate
    label ``(label, score, floor or None, status)``; ``words``: label -> [(term, weight)].
    """

    added: dict[str, float] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    default: str | None = None
    rows: list[tuple[str, float, float | None, str]] = field(default_factory=list)
    similar: list[Neighbour] = field(default_factory=list)
    words: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    model: str = ""


def _labels_line(view: CommentView) -> str:
    if view.added:
        shown = ", ".join(f"`{lab}` ({score:.2f})" for lab, score in sorted(view.added.items(), key=lambda p: -p[1]))
        line = f"fewtag added {shown}."
    else:
        line = "fewtag was not sure enough to add a label."
    if view.default:
        line += f" It added `{view.default}` so that a person looks at this issue."
    if view.removed:
        line += " Removed by a maintainer, and never added again: " + ", ".join(f"`{x}`" for x in view.removed) + "."
    return line


def _scores_table(view: CommentView) -> str:
    if not view.rows:
        return ""
    out = ["| label | score | needed | |", "|---|---:|---:|---|"]
    for lab, score, floor, status in view.rows:
        need = f"{floor:.2f}" if floor is not None else ("n/a" if status.startswith("precision ") else "model rule")
        out.append(f"| `{lab}` | {score:.2f} | {need} | {status} |")
    return "\n".join(out)


def _similar_block(view: CommentView) -> str:
    if not view.similar:
        return ""
    items = [f"- {n.link()}: " + ", ".join(f"`{x}`" for x in n.labels) for n in view.similar]
    return "Similar labelled issues:\n" + "\n".join(items)


def _words_block(view: CommentView) -> str:
    lines = []
    for lab, words in view.words.items():
        if words:
            lines.append(f"- `{lab}`: " + ", ".join(f"{w} ({weight:+.2f})" for w, weight in words))
    return ("Words that weighed most:\n" + "\n".join(lines)) if lines else ""


def render_comment(view: CommentView, template: str | bool = True) -> str:
    """The comment's Markdown, marker first. ``template`` is ``True`` (the default layout) or a
    format string with the placeholders of :data:`fewtag.deploy.config.TEMPLATE_FIELDS`.

    >>> body = render_comment(CommentView(added={"bug": 0.91}, model="tfidf-logreg"))
    >>> body.splitlines()[0]
    '<!-- fewtag:triage {"added": {"bug": 0.91}, "removed": []} -->'
    >>> comment_state(body)["added"]
    {'bug': 0.91}
    """
    state: dict[str, Any] = {
        "added": {k: round(v, 2) for k, v in sorted(view.added.items())},
        "removed": sorted(view.removed),
    }
    if view.default:
        state["default"] = view.default
    marker = f"{MARKER} {json.dumps(state, sort_keys=True, ensure_ascii=False)} -->"
    parts = {
        "labels": _labels_line(view),
        "scores": _scores_table(view),
        "similar": _similar_block(view),
        "words": _words_block(view),
        "model": view.model,
        "abstained": "yes" if not view.added else "no",
    }
    if isinstance(template, str):
        body = template.format(**parts)
    else:
        why = "\n\n".join(p for p in (parts["scores"], parts["similar"], parts["words"]) if p)
        body = parts["labels"]
        if why:
            body += f"\n\n<details><summary>Why</summary>\n\n{why}\n\n</details>"
        body += (
            f"\n\n<sub>fewtag ({view.model}) labels issues from a few examples. React 👍 or 👎 to this comment "
            "to say whether it got it right; remove a wrong label and it will not come back.</sub>"
        )
    return f"{marker}\n{body}\n"


def comment_state(body: str | None) -> dict[str, Any]:
    """The state in a fewtag comment's marker (``{"added": {...}, "removed": [...], "default": ...}``);
    empty when there is none."""
    empty: dict[str, Any] = {"added": {}, "removed": [], "default": None}
    m = _STATE.search(body or "")
    if not m:
        return empty
    try:
        data = json.loads(m.group(1))
    except json.JSONDecodeError:
        return empty
    added = data.get("added") if isinstance(data, dict) else None
    removed = data.get("removed") if isinstance(data, dict) else None
    return {
        "added": {str(k): float(v) for k, v in added.items()} if isinstance(added, dict) else {},
        "removed": [str(x) for x in removed] if isinstance(removed, list) else [],
        "default": str(data["default"]) if isinstance(data, dict) and data.get("default") else None,
    }


def _author(comment: Mapping[str, Any]) -> tuple[str, str]:
    user = comment.get("user")
    if isinstance(user, Mapping):
        return str(user.get("login") or ""), str(user.get("type") or "")
    return str(comment.get("author") or ""), ""  # a comment as the store keeps it


def find_comment(comments: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """fewtag's comment among an issue's comments: the first with the marker written by a bot
    account (``github-actions[bot]`` with the Actions token), else the first with the marker (a
    personal token writes as a person)."""
    marked = [c for c in comments if isinstance(c, Mapping) and str(c.get("body") or "").startswith(MARKER)]
    for c in marked:
        login, kind = _author(c)
        if kind == "Bot" or login.endswith("[bot]"):
            return c
    return marked[0] if marked else None


def upsert_comment(
    client: GitHubClient, repo: str, number: int, body: str, existing: Mapping[str, Any] | None
) -> tuple[str, int | None]:
    """Create the comment, or edit ``existing`` when its body differs.

    Returns
    -------
    (action, comment id)
        ``action`` is ``created``, ``edited`` or ``unchanged``.
    """
    owner, name = parse_repo(repo)
    if existing is not None and existing.get("id") is not None:
        cid = int(existing["id"])
        if str(existing.get("body") or "") == body:
            return "unchanged", cid
        try:
            client.patch(api_path("repos", owner, name, "issues", "comments", cid), {"body": body})
            return "edited", cid
        except GitHubAuthError:  # not ours to edit (someone else wrote the marker): write our own
            pass
    resp = client.post(api_path("repos", owner, name, "issues", int(number), "comments"), {"body": body})
    new_id = resp.data.get("id") if isinstance(resp.data, dict) else None
    return "created", int(new_id) if new_id is not None else None
