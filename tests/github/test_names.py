"""Repository names: one check (GitHub's rules) for fetch, apply and the webhook; quoted paths."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401  (registers every command)
from fewtag.cli import app
from fewtag.errors import GitHubError, InputError
from fewtag.github.names import api_path, is_valid_repo, parse_repo
from tests.github.fake_github import TOKEN

GOOD = [
    "huggingface/datasets",
    "a/b",
    "octo-org/my_repo.js",
    "x" * 39 + "/" + "y" * 100,
    "o/.github",
    "o/..x",
    "o/a..b",
]
BAD = [
    "../user",
    "./user",
    "o/..",
    "o/.",
    "..//user",
    "o/r/issues",
    "o",
    "/r",
    "o/",
    "o/r?x=1",
    "o/r#x",
    "o%2F../r",
    "o/r x",
    "o\\r/x",
    "ö/r",
    "x" * 40 + "/r",
    "o/" + "y" * 101,
    "o/r\x00",
    "",
]


@pytest.mark.parametrize("repo", GOOD)
def test_valid_names(repo):
    assert is_valid_repo(repo)
    assert "/".join(parse_repo(repo)) == repo


@pytest.mark.parametrize("repo", BAD)
def test_invalid_names_are_one_clear_error(repo):
    assert not is_valid_repo(repo)
    with pytest.raises(InputError, match="expected a repository as OWNER/NAME"):
        parse_repo(repo)


def test_non_strings_are_invalid():
    assert not is_valid_repo({"a": "b"}) and not is_valid_repo(None) and not is_valid_repo(["o/r"])


def test_api_path_quotes_every_segment():
    assert api_path("repos", "o", "r", "issues", 9, "labels") == "/repos/o/r/issues/9/labels"
    assert api_path("repos", "o", "a/b?c#d") == "/repos/o/a%2Fb%3Fc%23d"
    for seg in ("..", ".", ""):
        with pytest.raises(InputError):
            api_path("repos", seg, "r")


def test_client_refuses_dot_segments(gh, make_client):
    client = make_client()
    with pytest.raises(GitHubError, match="refusing the API path"):
        client.get("/repos/../user/issues")
    assert gh.calls() == []


def test_apply_to_issue_refuses_traversal(gh, make_client, store):
    from fewtag.github.apply import apply_to_issue

    client = make_client()
    with pytest.raises(InputError):
        apply_to_issue(client, store, "../user", 9, [("bug", 0.9)])
    assert gh.calls() == []


@pytest.mark.parametrize("command", ["fetch", "apply"])
def test_cli_refuses_traversal_before_any_request(gh, tmp_path, command):
    args = ["fetch", "../user"] if command == "fetch" else ["apply", str(tmp_path / "m"), "../user"]
    res = CliRunner().invoke(
        app,
        [*args, "--store", str(tmp_path / "s.db"), "--api-url", gh.url],
        env={"GITHUB_TOKEN": TOKEN, "COLUMNS": "300"},
    )
    # the CLI's entry point prints a TaggerError as one red line (tests/cli cover that part)
    assert isinstance(res.exception, InputError), res.output
    assert "expected a repository as OWNER/NAME" in str(res.exception)
    assert gh.calls() == []
