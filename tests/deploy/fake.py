"""The fake GitHub of tests/github, with what triage and feedback also need: creating and
editing issue comments, reactions on comments, the issue timeline, and labels added by people.

Still a real HTTP server on 127.0.0.1 (tests/github/fake_github.py); only routes are added.
"""

from __future__ import annotations

import json
from typing import Any

from tests.github.fake_github import FakeGitHub, _Handler

__all__ = ["DeployFakeGitHub", "BOT"]

#: the login comments and labels written with the Actions token appear under
BOT = "github-actions[bot]"


class _PatchHandler(_Handler):
    def do_PATCH(self) -> None:
        self.fake.handle(self, "PATCH")


class DeployFakeGitHub(FakeGitHub):
    """FakeGitHub plus comment create/edit, reactions and timeline."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.reactions: dict[int, list[dict[str, Any]]] = {}
        self.extra_labels: set[str] = set()  # repository labels no issue carries

    def start(self) -> DeployFakeGitHub:
        import threading
        from http.server import ThreadingHTTPServer

        handler = type("Handler", (_PatchHandler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, client_address: None
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    # ------------------------------------------------------------------ data
    def add_label(self, repo: str, number: int, label: str, actor: str = "maintainer") -> None:
        """A person adds a label in the web UI (a ``labeled`` event)."""
        with self.lock:
            issue = self.repos[repo].issues[number]
            if label not in issue["labels"]:
                issue["labels"].append(label)
            self._event(repo, number, "labeled", label, actor)
            issue["updated_at"] = self._stamp()

    def react(self, comment_id: int, content: str, user: str = "maintainer") -> None:
        with self.lock:
            self._ids += 1
            self.reactions.setdefault(comment_id, []).append(
                {"id": self._ids, "content": content, "user": {"login": user}, "created_at": self._stamp()}
            )

    def comments_of(self, repo: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.repos[repo].comments[number]]

    def labels_of(self, repo: str, number: int) -> list[str]:
        with self.lock:
            return list(self.repos[repo].issues[number]["labels"])

    def _find_comment(self, repo: str, cid: int) -> tuple[int, dict[str, Any]] | None:
        for number, comments in self.repos[repo].comments.items():
            for c in comments:
                if c["id"] == cid:
                    return number, c
        return None

    # --------------------------------------------------------------- serving
    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any, dict[str, str]]:
        bits = path.strip("/").split("/")
        if len(bits) >= 4 and bits[0] == "repos":
            repo = f"{bits[1]}/{bits[2]}"
            with self.lock:
                r = self.repos.get(repo)
                rest = bits[3:]
                if r is not None and rest == ["labels"] and method == "GET":
                    names = sorted({lab for i in r.issues.values() for lab in i["labels"]} | self.extra_labels)
                    return self._page(path, query, [{"name": n, "color": "ededed"} for n in names])
                if r is not None and len(rest) >= 3 and rest[:2] == ["issues", "comments"] and rest[2].isdigit():
                    found = self._find_comment(repo, int(rest[2]))
                    if found is None:
                        return 404, {"message": "Not Found"}, {}
                    number, comment = found
                    if len(rest) == 3 and method == "PATCH":
                        if comment["user"]["login"] != BOT:  # only its author may edit a comment
                            return 403, {"message": "Resource not accessible by integration"}, {}
                        comment["body"] = json.loads(body or b"{}").get("body", "")
                        comment["updated_at"] = self._stamp()
                        r.issues[number]["updated_at"] = comment["updated_at"]
                        return 200, comment, {}
                    if rest[3:] == ["reactions"] and method == "GET":
                        return self._page(path, query, list(self.reactions.get(int(rest[2]), [])))
                if r is not None and len(rest) == 3 and rest[0] == "issues" and rest[1].isdigit():
                    n = int(rest[1])
                    if n in r.issues and rest[2] == "comments" and method == "POST":
                        text = json.loads(body or b"{}").get("body", "")
                        self._ids += 1
                        stamp = self._stamp()
                        comment = {
                            "id": self._ids,
                            "body": text,
                            "user": {"login": BOT},
                            "created_at": stamp,
                            "updated_at": stamp,
                            "html_url": f"https://github.com/{repo}/issues/{n}#issuecomment-{self._ids}",
                        }
                        r.comments[n].append(comment)
                        r.issues[n]["updated_at"] = stamp
                        return 201, comment, {}
                    if n in r.issues and rest[2] == "timeline" and method == "GET":
                        return self._page(path, query, list(r.events[n]))
        return super()._route(method, path, query, body)
