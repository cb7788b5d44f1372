"""Fetch what people did with fewtag's labels: each issue's label events (timeline
``labeled`` / ``unlabeled``, with the actor and time) and the reactions on fewtag's comment,
into the store's feedback tables (:mod:`fewtag.data.store_feedback`).

Costs one paginated ``GET .../issues/{n}/timeline`` and one ``GET .../issues/{n}/comments`` per
issue, plus ``GET .../issues/comments/{id}/reactions`` where fewtag has commented; only issues
updated since ``since`` are read again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fewtag.data.store import Store
from fewtag.github.client import GitHubClient
from fewtag.github.names import api_path, parse_repo

__all__ = ["EventsResult", "fetch_feedback", "FEWTAG_MARKER"]

#: the hidden marker that starts fewtag's comment (fewtag.deploy.comment.MARKER)
FEWTAG_MARKER = "<!-- fewtag:triage"


@dataclass
class EventsResult:
    issues: int = 0
    events: int = 0
    comments: int = 0
    reactions: int = 0
    labels: int = 0


def fetch_feedback(
    client: GitHubClient,
    store: Store,
    repo: str,
    *,
    since: str | None = None,
    numbers: list[int] | None = None,
    on_issue: Callable[[int], None] | None = None,
) -> EventsResult:
    """Read label events and fewtag-comment reactions of the stored issues of ``repo``.

    Parameters
    ----------
    since : str, optional
        Only issues whose stored ``updated_at`` is at or after this ISO time.
    numbers : list of int, optional
        Only these issues.
    """
    owner, name = parse_repo(repo)
    repo = f"{owner}/{name}"
    result = EventsResult()
    todo = [
        it
        for it in store.items(repo, include_prs=False)
        if it.number is not None
        and (numbers is None or it.number in numbers)
        and (since is None or (it.updated_at or "") >= since)
    ]
    labels = client.get_all(api_path("repos", owner, name, "labels"))
    store.set_repo_labels(repo, [str(x.get("name")) for x in labels if isinstance(x, dict) and x.get("name")])
    result.labels = len(labels)
    for it in todo:
        number = int(it.number or 0)
        timeline = client.get_all(api_path("repos", owner, name, "issues", number, "timeline"))
        result.events += store.replace_label_events(repo, number, [e for e in timeline if isinstance(e, dict)])
        comments = client.get_all(api_path("repos", owner, name, "issues", number, "comments"))
        ours = next(
            (c for c in comments if isinstance(c, dict) and str(c.get("body") or "").startswith(FEWTAG_MARKER)), None
        )
        if ours is not None and ours.get("id") is not None:
            reactions = client.get_all(
                api_path("repos", owner, name, "issues", "comments", int(ours["id"]), "reactions")
            )
            store.set_fewtag_comment(repo, number, ours, [r for r in reactions if isinstance(r, dict)])
            result.comments += 1
            result.reactions += len(reactions)
        result.issues += 1
        if on_issue is not None:
            on_issue(number)
    return result
