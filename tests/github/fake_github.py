"""A fake GitHub REST API: a real HTTP server on 127.0.0.1, in a thread.

It serves issues, comments and label events built in the test, paginates with
``Link`` headers, keeps a primary rate limit with the real ``X-RateLimit-*``
headers (on its own clock, which tests advance instead of sleeping), answers
``If-None-Match`` with 304, honours ``since``/``state``/``sort``/``direction``,
checks the token (401), returns 404 for unknown repositories, and fails on
purpose through scripted :class:`Fault` s (5xx, 429/403 + ``Retry-After``, slow
pages, truncated JSON, held requests).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

__all__ = ["FakeGitHub", "Fault", "TOKEN"]

TOKEN = "ghp_FAKE-secret-token-0123456789"
_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@dataclass
class Fault:
    """A scripted failure for requests whose path contains ``path`` (and query ``query``).

    kind: ``status`` (answer ``status``, with ``Retry-After`` if ``retry_after`` is set),
    ``slow`` (sleep ``delay`` s, then answer normally), ``truncated`` (200 with cut
    JSON), ``hold`` (block until :meth:`FakeGitHub.release` or ``delay`` s),
    ``exhaust`` (set the rate limit's remaining to 0 first) or ``call`` (run
    ``call()`` first, e.g. to change data between two pages). ``times=-1``: forever.
    """

    path: str
    kind: str = "status"
    status: int = 500
    retry_after: float | None = None
    times: int = 1
    query: str | None = None
    method: str = "GET"
    delay: float = 2.0
    message: str | None = None
    call: Any = None
    hits: int = 0


@dataclass
class _Repo:
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


class FakeGitHub:
    """Start with :meth:`start` (or use as a context manager); ``url`` is the API base."""

    def __init__(
        self, token: str | None = TOKEN, *, rate_limit: int = 5000, window: float = 3600.0, require_auth: bool = False
    ):
        self.token, self.require_auth = token, require_auth
        self.rate_limit, self.window = rate_limit, window
        self.remaining = rate_limit
        self.offset = 0.0
        self.reset_at = self.now() + window
        self.repos: dict[str, _Repo] = {}
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.RLock()
        self.hold = threading.Event()
        self.held = threading.Event()
        self._tick = 0
        self._ids = 1000
        self.httpd: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # ---------------------------------------------------------------- control
    def start(self) -> FakeGitHub:
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, client_address: None  # client hung up: fine
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release()
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self.httpd is not None
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def now(self) -> float:
        """The server's clock: real time plus what tests :meth:`advance`."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.offset += seconds

    def release(self) -> None:
        """Let ``hold`` faults through."""
        self.hold.set()

    def add_fault(self, path: str, **kwargs: Any) -> Fault:
        fault = Fault(path, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def calls(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r["method"] == method) and (path is None or path in r["path"])
            ]

    # ------------------------------------------------------------------- data
    def _stamp(self) -> str:
        self._tick += 1
        return (_EPOCH + dt.timedelta(minutes=self._tick)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def add_issue(
        self,
        repo: str,
        number: int,
        title: str = "",
        body: str | None = "",
        *,
        labels: list[str] | None = None,
        state: str = "open",
        is_pr: bool = False,
        comments: list[str] | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            r = self.repos.setdefault(repo, _Repo())
            stamp = self._stamp()
            issue = {
                "number": number,
                "title": title or f"Issue {number}",
                "body": body,
                "state": state,
                "labels": list(labels or []),
                "created_at": stamp,
                "updated_at": stamp,
                "is_pr": is_pr,
                "user": f"user{number % 7}",
            }
            r.issues[number] = issue
            r.comments[number] = []
            r.events[number] = []
            for text in comments or []:
                self.add_comment(repo, number, text, bump=False)
            return issue

    def add_repo(self, repo: str) -> None:
        with self.lock:
            self.repos.setdefault(repo, _Repo())

    def add_comment(self, repo: str, number: int, body: str, *, bump: bool = True) -> None:
        with self.lock:
            self._ids += 1
            stamp = self._stamp()
            self.repos[repo].comments[number].append(
                {
                    "id": self._ids,
                    "body": body,
                    "user": {"login": "commenter"},
                    "created_at": stamp,
                    "updated_at": stamp,
                    "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{self._ids}",
                }
            )
            if bump:
                self.repos[repo].issues[number]["updated_at"] = stamp

    def update_issue(self, repo: str, number: int, **changes: Any) -> None:
        with self.lock:
            issue = self.repos[repo].issues[number]
            issue.update(changes)
            issue["updated_at"] = self._stamp()

    def remove_label(self, repo: str, number: int, label: str, actor: str = "maintainer") -> None:
        """A human removes a label in the web UI (an ``unlabeled`` event)."""
        with self.lock:
            issue = self.repos[repo].issues[number]
            issue["labels"] = [x for x in issue["labels"] if x != label]
            self._event(repo, number, "unlabeled", label, actor)
            issue["updated_at"] = self._stamp()

    def _event(self, repo: str, number: int, kind: str, label: str, actor: str) -> None:
        self._ids += 1
        self.repos[repo].events[number].append(
            {
                "id": self._ids,
                "event": kind,
                "label": {"name": label, "color": "ededed"},
                "actor": {"login": actor},
                "created_at": self._stamp(),
            }
        )

    def issue_json(self, repo: str, issue: dict[str, Any]) -> dict[str, Any]:
        n = issue["number"]
        obj = {
            "url": f"{self.url}/repos/{repo}/issues/{n}",
            "repository_url": f"{self.url}/repos/{repo}",
            "html_url": f"https://github.com/{repo}/issues/{n}",
            "id": 10_000_000 + n,
            "number": n,
            "title": issue["title"],
            "body": issue["body"],
            "state": issue["state"],
            "user": {"login": issue["user"]},
            "labels": [
                {"id": i, "name": lab, "color": "ededed", "default": False} for i, lab in enumerate(issue["labels"])
            ],
            "comments": len(self.repos[repo].comments.get(n, [])),
            "created_at": issue["created_at"],
            "updated_at": issue["updated_at"],
        }
        if issue["is_pr"]:
            obj["pull_request"] = {"url": f"{self.url}/repos/{repo}/pulls/{n}"}
        return obj

    # ---------------------------------------------------------------- serving
    def handle(self, h: _Handler, method: str) -> None:
        parts = urlsplit(h.path)
        path, query = unquote(parts.path), dict(parse_qsl(parts.query))
        auth = h.headers.get("Authorization")
        body_in = b""
        if method in ("POST", "PUT", "PATCH"):
            length = int(h.headers.get("Content-Length") or 0)
            body_in = h.rfile.read(length) if length else b""
        with self.lock:
            self.requests.append(
                {
                    "method": method,
                    "path": path,
                    "query": query,
                    "auth": auth,
                    "if_none_match": h.headers.get("If-None-Match"),
                    "accept": h.headers.get("Accept"),
                    "api_version": h.headers.get("X-GitHub-Api-Version"),
                }
            )
            fault = self._fault(method, path, parts.query)
        if auth is not None and auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return self._send(h, 401, {"message": "Bad credentials"})
        if auth is None and self.require_auth:
            return self._send(h, 401, {"message": "Requires authentication"})
        if fault is not None:
            if fault.kind == "status":
                extra = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                return self._send(h, fault.status, {"message": fault.message or f"scripted {fault.status}"}, extra)
            if fault.kind == "slow":
                time.sleep(fault.delay)
            elif fault.kind == "hold":
                self.held.set()
                self.hold.wait(timeout=fault.delay)
            elif fault.kind == "call":
                fault.call()
            elif fault.kind == "exhaust":
                with self.lock:
                    self.remaining = 0
        with self.lock:
            if self.now() >= self.reset_at:
                self.remaining, self.reset_at = self.rate_limit, self.now() + self.window
            if self.remaining <= 0:
                return self._send(h, 403, {"message": "API rate limit exceeded for user."})
        status, payload, headers = self._route(method, path, query, body_in)
        raw = json.dumps(payload).encode()
        if method == "GET" and status == 200:
            etag = 'W/"' + hashlib.sha1(raw).hexdigest() + '"'
            headers["ETag"] = etag
            if h.headers.get("If-None-Match") == etag:
                return self._send(h, 304, None, headers, count=False)
        if fault is not None and fault.kind == "truncated":
            raw = raw[: max(1, len(raw) // 2)]
        self._send(h, status, raw, headers)

    def _fault(self, method: str, path: str, query: str) -> Fault | None:
        for f in self.faults:
            if (
                f.method == method
                and f.path in path
                and (f.query is None or f.query in query)
                and (f.times < 0 or f.hits < f.times)
            ):
                f.hits += 1
                return f
        return None

    def _send(
        self, h: _Handler, status: int, payload: Any, headers: dict[str, str] | None = None, *, count: bool = True
    ) -> None:
        with self.lock:
            if count and self.remaining > 0:
                self.remaining -= 1
            rate = {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(int(self.reset_at)),
                "X-RateLimit-Used": str(self.rate_limit - self.remaining),
                "X-RateLimit-Resource": "core",
            }
        raw = payload if isinstance(payload, bytes) else (b"" if payload is None else json.dumps(payload).encode())
        h.send_response(status)
        for k, v in {**rate, **(headers or {})}.items():
            h.send_header(k, v)
        if status != 304:
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Length", str(len(raw)))
        h.end_headers()
        if status != 304 and raw:
            h.wfile.write(raw)

    def _page(
        self, path: str, query: dict[str, str], rows: list[Any], render: Any = None
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = max(1, min(100, int(query.get("per_page", 30))))
        page = max(1, int(query.get("page", 1)))
        last = max(1, -(-len(rows) // per_page))
        chunk = rows[(page - 1) * per_page : page * per_page]
        if render is not None:
            chunk = [render(x) for x in chunk]
        links = []

        def link(p: int, rel: str) -> str:
            return f'<{self.url}{path}?{urlencode({**query, "page": p})}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})

    def _route(self, method: str, path: str, query: dict[str, str], body: bytes) -> tuple[int, Any, dict[str, str]]:
        bits = path.strip("/").split("/")
        if len(bits) < 3 or bits[0] != "repos":
            return 404, {"message": "Not Found"}, {}
        repo = f"{bits[1]}/{bits[2]}"
        with self.lock:
            r = self.repos.get(repo)
            if r is None:
                return 404, {"message": "Not Found"}, {}
            rest = bits[3:]
            if not rest and method == "GET":
                return (
                    200,
                    {"full_name": repo, "open_issues_count": sum(i["state"] == "open" for i in r.issues.values())},
                    {},
                )
            if rest == ["issues"] and method == "GET":
                rows = list(r.issues.values())
                st = query.get("state", "open")
                if st != "all":
                    rows = [i for i in rows if i["state"] == st]
                if "since" in query:
                    rows = [i for i in rows if i["updated_at"] >= query["since"]]
                key = "updated_at" if query.get("sort") == "updated" else "created_at"
                rows.sort(key=lambda i: (i[key], i["number"]), reverse=query.get("direction", "desc") == "desc")
                return self._page(path, query, rows, lambda i: self.issue_json(repo, i))
            if len(rest) >= 2 and rest[0] == "issues" and rest[1].isdigit():
                n = int(rest[1])
                if n not in r.issues:
                    return 404, {"message": "Not Found"}, {}
                issue = r.issues[n]
                if len(rest) == 2 and method == "GET":
                    return 200, self.issue_json(repo, issue), {}
                if rest[2:] == ["comments"] and method == "GET":
                    return self._page(path, query, list(r.comments[n]))
                if rest[2:] == ["events"] and method == "GET":
                    return self._page(path, query, list(r.events[n]))
                if rest[2:] == ["labels"] and method == "POST":
                    try:
                        wanted = json.loads(body or b"{}").get("labels", [])
                    except ValueError:
                        return 400, {"message": "Problems parsing JSON"}, {}
                    for lab in wanted:
                        if lab not in issue["labels"]:
                            issue["labels"].append(lab)
                            self._event(repo, n, "labeled", lab, "fewtag-bot")
                    issue["updated_at"] = self._stamp()
                    return 200, [{"name": lab} for lab in issue["labels"]], {}
                if len(rest) == 4 and rest[2] == "labels" and method == "DELETE":
                    self.remove_label(repo, n, rest[3])
                    return 200, [{"name": lab} for lab in issue["labels"]], {}
        return 404, {"message": "Not Found"}, {}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self.fake.handle(self, "GET")

    def do_POST(self) -> None:
        self.fake.handle(self, "POST")

    def do_DELETE(self) -> None:
        self.fake.handle(self, "DELETE")
