"""Fixtures: the fake GitHub (with comments, reactions, timeline) and tiny models built here."""

from __future__ import annotations

import pytest

from tests.deploy.fake import DeployFakeGitHub
from tests.github.fake_github import TOKEN

REPO = "octo/widgets"

TRAIN = {
    "bug": [
        "app crashes with segfault on start",
        "error when saving crash traceback",
        "exception thrown crash on load",
        "segfault error in parser crash",
        "crash after update error",
        "traceback error on import crash",
    ],
    "docs": [
        "typo in the readme docs",
        "documentation page is outdated docs",
        "docs example in readme is wrong",
        "missing docs for the api readme",
        "readme docs link broken",
        "docs typo in tutorial",
    ],
    "feature": [
        "please add support for yaml feature",
        "feature request: dark mode support",
        "add an option to export feature",
        "support plugins feature request",
        "feature: add a flag for output",
        "request support for toml feature",
    ],
}


def fit_model(folder, train=TRAIN, method="tfidf-logreg", multi_label=True):
    from fewtag.registry import get_method

    texts = [t for texts in train.values() for t in texts]
    labels = [[lab] if multi_label else lab for lab, texts in train.items() for _ in texts]
    return get_method(method)().fit(texts, labels, multi_label=multi_label).save(folder)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory):
    return fit_model(tmp_path_factory.mktemp("models") / "main")


@pytest.fixture
def gh():
    with DeployFakeGitHub() as server:
        yield server


@pytest.fixture
def client(gh):
    from fewtag.github.client import GitHubClient

    c = GitHubClient(TOKEN, gh.url, timeout=3.0, max_attempts=2, backoff=0.01, sleep=gh.advance, clock=gh.now)
    yield c
    c.close()


@pytest.fixture
def store(tmp_path):
    from fewtag.data.store import Store

    with Store(tmp_path / "fewtag.db") as s:
        yield s
