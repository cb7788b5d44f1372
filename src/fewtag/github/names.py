"""The one check of a repository name, and URL paths built from checked parts.

Every place that turns a user's or a webhook's ``OWNER/NAME`` into a GitHub API
path (``fetch``, ``apply``, the webhook) goes through :func:`parse_repo`, and
:func:`api_path` quotes each path segment, so a name can never walk out of
``/repos/OWNER/NAME/...`` (``"../user"`` is refused, and ``/`` or ``?`` inside a
segment would be percent-encoded even if it got through).

GitHub's own rules: an owner (user or organisation) has 1-39 letters, digits
and hyphens; a repository name has 1-100 letters, digits, ``-``, ``_`` and
``.``, and is not ``.`` or ``..``. Owners are checked a little more loosely
(``_`` and ``.`` allowed, as some GitHub Enterprise accounts have them), but never
``.``/``..``.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fewtag.errors import InputError

__all__ = ["parse_repo", "check_repo", "is_valid_repo", "api_path", "MAX_OWNER", "MAX_NAME"]

MAX_OWNER = 39
MAX_NAME = 100
_PART = re.compile(r"[A-Za-z0-9_.-]+")


def _problem(repo: object) -> str | None:
    """Why ``repo`` is not ``OWNER/NAME``, or ``None`` when it is."""
    if not isinstance(repo, str):
        return f"it is a {type(repo).__name__}, not a string"
    parts = repo.split("/")
    if len(parts) != 2:
        return "it must have exactly one '/'"
    for what, part, limit in (("owner", parts[0], MAX_OWNER), ("name", parts[1], MAX_NAME)):
        if not part:
            return f"the {what} is empty"
        if part in (".", ".."):
            return f"the {what} may not be {part!r}"
        if len(part) > limit:
            return f"the {what} has {len(part)} characters, more than GitHub's limit of {limit}"
        if not _PART.fullmatch(part):
            return f"the {what} may only have letters, digits, '-', '_' and '.'"
    return None


def is_valid_repo(repo: object) -> bool:
    """True when ``repo`` is a valid ``OWNER/NAME``.

    >>> is_valid_repo("huggingface/datasets"), is_valid_repo("../user"), is_valid_repo("o/r?x")
    (True, False, False)
    """
    return _problem(repo) is None


def check_repo(repo: str) -> str:
    """``repo`` itself (surrounding spaces removed) when valid; :class:`InputError` otherwise."""
    text = repo.strip() if isinstance(repo, str) else repo
    why = _problem(text)
    if why is not None:
        raise InputError(f"expected a repository as OWNER/NAME (e.g. huggingface/datasets); got {repo!r}: {why}")
    return text


def parse_repo(repo: str) -> tuple[str, str]:
    """``"owner/name"`` → ``("owner", "name")``, or :class:`InputError` naming the problem.

    >>> parse_repo("huggingface/transformers")
    ('huggingface', 'transformers')
    """
    owner, name = check_repo(repo).split("/")
    return owner, name


def api_path(*segments: str | int) -> str:
    """``/seg1/seg2/...`` with every segment percent-quoted (``safe=""``).

    >>> api_path("repos", "o", "r", "issues", 9, "labels")
    '/repos/o/r/issues/9/labels'
    >>> api_path("repos", "o", "a/b?c")
    '/repos/o/a%2Fb%3Fc'

    Quoting leaves ``.`` and ``..`` as they are, so an empty, ``.`` or ``..``
    segment raises :class:`InputError` (callers check names with
    :func:`parse_repo` first; this is the second line of defence).
    """
    parts = [str(s) for s in segments]
    for part in parts:
        if part in ("", ".", ".."):
            raise InputError(f"refusing to build a GitHub API path with the segment {part!r}")
    return "/" + "/".join(quote(part, safe="") for part in parts)
