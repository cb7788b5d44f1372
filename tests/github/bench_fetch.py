"""Throughput of fetch/export against the fake server (not a test; prints figures).

.venv/bin/python -m tests.github.bench_fetch [N_ISSUES]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from fewtag.data.export import export_store
from fewtag.data.store import Store
from fewtag.github.client import GitHubClient
from fewtag.github.sync import fetch_repo
from tests.github.fake_github import TOKEN, FakeGitHub


def main(n: int = 5000) -> None:
    repo = "octo/widgets"
    with FakeGitHub() as gh, tempfile.TemporaryDirectory() as tmp:
        for i in range(1, n + 1):
            gh.add_issue(
                repo,
                i,
                f"Issue {i}: widget crashes",
                "body " * 50,
                labels=["bug"] if i % 3 else [],
                is_pr=i % 10 == 0,
                comments=["a comment"] if i % 20 == 0 else None,
            )
        db = Path(tmp) / "s.db"
        with Store(db) as store, GitHubClient(TOKEN, gh.url) as client:
            t = time.perf_counter()
            r = fetch_repo(store, repo, client=client)
            full = time.perf_counter() - t
            print(
                f"full fetch: {r.items} items, {r.pages} pages, {r.requests} requests in {full:.2f} s "
                f"({r.items / full:.0f} items/s)"
            )
            t, before = time.perf_counter(), gh.remaining
            r = fetch_repo(store, repo, client=client)
            print(
                f"unchanged rerun: {r.pages} pages, {r.not_modified} answered 304, quota spent "
                f"{before - gh.remaining}, {time.perf_counter() - t:.2f} s"
            )
            gh.update_issue(repo, 7, title="edited")
            t = time.perf_counter()
            r = fetch_repo(store, repo, client=client, since="auto")
            print(f"since auto after one edit: {r.items} items, {r.requests} requests, {time.perf_counter() - t:.2f} s")
            t = time.perf_counter()
            r = fetch_repo(store, repo, client=client, comments=True, since="2020-01-01")
            print(f"with comments: {r.comments} comments, {r.requests} requests, {time.perf_counter() - t:.2f} s")
            for fmt in ("jsonl", "csv", "parquet"):
                t = time.perf_counter()
                rows = export_store(store, Path(tmp) / f"x.{fmt}", format=fmt)
                print(f"export {fmt}: {rows} rows in {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
