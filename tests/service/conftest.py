"""Builders for the service tests: a small tfidf-logreg model and app clients."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json

import pytest

from fewtag.registry import get_method

TEXTS = {
    "bug": [
        "crash with a traceback on load",
        "error exception when saving",
        "segfault crash at start",
        "it fails with an error message",
        "exception raised by map",
        "wrong output and a crash",
    ],
    "enhancement": [
        "add support for parquet",
        "feature request: a new option",
        "please add a method",
        "it would be nice to support zstd",
        "new feature for streaming",
        "add an argument",
    ],
    "documentation": [
        "typo in the docs",
        "documentation page is outdated",
        "docs example is wrong",
        "readme typo",
        "the tutorial docs miss a step",
        "improve the documentation",
    ],
}


def train_texts() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for label, rows in TEXTS.items():
        texts += rows
        labels += [label] * len(rows)
    return texts, labels


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    texts, labels = train_texts()
    path = tmp_path_factory.mktemp("model") / "tfidf"
    get_method("tfidf-logreg")().fit(texts, labels).save(path)
    return path


@pytest.fixture
def make_client(model_dir):
    """``make_client(**settings)`` -> a TestClient whose lifespan has run."""
    from fastapi.testclient import TestClient

    from fewtag.service import ServiceSettings, create_app

    stack = contextlib.ExitStack()

    def make(*, encoder=None, writer=None, **overrides):
        settings = ServiceSettings(**{"model": str(model_dir), **overrides})
        app = create_app(settings, encoder=encoder, writer=writer)
        return stack.enter_context(TestClient(app))

    with stack:
        yield make


def signed(secret: str, payload: dict | bytes, event: str = "issues", delivery: str = "d-1") -> dict:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "content": body,
        "headers": {
            "X-Hub-Signature-256": sig,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "Content-Type": "application/json",
        },
    }


def issue_event(
    action: str = "opened",
    number: int = 1,
    title: str = "crash with a traceback",
    body: str = "an exception on load",
    labels: list[str] | None = None,
    repo: str = "octo/widgets",
) -> dict:
    return {
        "action": action,
        "repository": {"full_name": repo},
        "issue": {"number": number, "title": title, "body": body, "labels": [{"name": n} for n in labels or []]},
    }
