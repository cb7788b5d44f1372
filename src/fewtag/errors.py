"""Every error fewtag raises on purpose.

The root is :class:`TaggerError`. Each subclass also inherits the builtin it
refines, so code that catches ``ValueError`` or ``FileNotFoundError`` keeps
working. The CLI prints ``str(error)`` on one red line and exits 1.
"""

from __future__ import annotations

__all__ = [
    "TaggerError",
    "InputError",
    "DataFormatError",
    "ConfigError",
    "UnknownMethodError",
    "NotFittedError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "ModelFileError",
    "GitHubError",
    "GitHubAuthError",
    "GitHubNotFoundError",
]


class TaggerError(Exception):
    """Root of all fewtag errors."""


class InputError(TaggerError, ValueError):
    """Input data is empty, inconsistent or otherwise unusable."""


class DataFormatError(InputError):
    """A file could not be parsed; the message names ``file:line`` where known."""


class ConfigError(TaggerError, ValueError):
    """A configuration file or option is invalid."""


class UnknownMethodError(TaggerError, KeyError):
    """A method name is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NotFittedError(TaggerError, ValueError, AttributeError):
    """A tagger was used before ``fit`` or ``load``."""


class MissingDependencyError(TaggerError, ImportError):
    """An optional dependency is not installed."""


class ModelNotFoundError(TaggerError, FileNotFoundError):
    """A model id or directory cannot be resolved (offline or missing)."""


class ModelFileError(TaggerError, ValueError):
    """A saved model directory is missing files or is corrupt."""


class GitHubError(TaggerError, RuntimeError):
    """The GitHub API could not be reached or answered with an error.

    ``status`` is the HTTP status when there was a response. The message never
    contains the token.
    """

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class GitHubAuthError(GitHubError, PermissionError):
    """The token was rejected (401) or lacks a permission (403)."""


class GitHubNotFoundError(GitHubError, LookupError):
    """A repository or issue does not exist, or the token cannot see it (404)."""
