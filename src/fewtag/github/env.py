"""Where the GitHub client points and what it sends: the API URL, the API version and the
token, read from the environment.
"""

from __future__ import annotations

import os

from fewtag.errors import GitHubError

__all__ = ["DEFAULT_API_URL", "API_VERSION", "token_from_env", "api_url_from_env"]

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"


def token_from_env(name: str = "GITHUB_TOKEN") -> str | None:
    """The token in environment variable ``name`` (``None`` when unset or empty)."""
    value = os.environ.get(name, "").strip()
    return value or None


def api_url_from_env(api_url: str | None = None) -> str:
    """``api_url`` if given, else ``$GITHUB_API_URL``, else https://api.github.com."""
    url = api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    if not url.startswith(("http://", "https://")):
        raise GitHubError(f"the API URL must start with http:// or https://; got {url!r}")
    return url.rstrip("/")
