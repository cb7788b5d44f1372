"""Settings of ``fewtag annotate`` and the one check that guards the page: who may reach it.

=============================  ===========================================================
``FEWTAG_ANNOTATE_TOKEN``      required when the page is bound to any address but loopback;
                               people open ``/login`` once and type it (a cookie follows)
``FEWTAG_ALLOW_WEAK_SECRET``   accept a token shorter than 16 characters (as ``fewtag serve``)
=============================  ===========================================================

The other settings are the options of ``fewtag annotate`` (see :class:`AnnotateSettings`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from fewtag.errors import ConfigError
from fewtag.service.settings import MIN_SECRET_CHARS, check_secret

__all__ = ["AnnotateSettings", "check_access", "is_loopback", "MIN_TOKEN_CHARS", "TOKEN_VAR"]

#: the shortest token accepted without ``allow_weak_secret`` (issue 12: the same rule as ``fewtag serve``)
MIN_TOKEN_CHARS = MIN_SECRET_CHARS  # the service's rule for every secret
TOKEN_VAR = "FEWTAG_ANNOTATE_TOKEN"


@dataclass
class AnnotateSettings:
    """What one annotation session runs with.

    Attributes
    ----------
    store : str
        The SQLite store holding the items; labels are saved into its ``annotations`` log.
    strategy, method, seed : str, str, int
        How the next items are picked and which model suggests labels (``fewtag.active``).
    batch : int
        Items picked per query round.
    retrain_every : int
        Retrain in the background after this many new labels.
    who : str, optional
        The annotator's name, saved with every label.
    review : str, optional
        ``label_issues.csv`` written by ``fewtag audit``: the "review" queue.
    host, port : str, int
        Where the page is served; only loopback is open without a token.
    token : str, optional
        ``FEWTAG_ANNOTATE_TOKEN``; required off loopback.
    allow_weak_secret : bool
        Accept a token shorter than :data:`MIN_TOKEN_CHARS`.
    max_body_bytes : int
        Larger form posts are refused (413).
    """

    store: str
    strategy: str = "hybrid"
    method: str = "tfidf-logreg"
    seed: int = 0
    batch: int = 20
    retrain_every: int = 10
    who: str | None = None
    review: str | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = field(default=None, repr=False)
    allow_weak_secret: bool = False
    max_body_bytes: int = 65_536

    def __post_init__(self) -> None:
        if self.retrain_every < 1:
            raise ConfigError(f"--retrain-every must be at least 1; got {self.retrain_every}")
        if self.batch < 1:
            raise ConfigError(f"--batch must be at least 1; got {self.batch}")


def is_loopback(host: str) -> bool:
    """``True`` for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``).

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_access(settings: AnnotateSettings) -> None:
    """Refuse a page that anyone on the network could write to, and unusable tokens.

    Off loopback a token is required. A token that is set must be usable: not empty or blank,
    no spaces around it, at least :data:`MIN_TOKEN_CHARS` characters (unless ``allow_weak_secret``).

    Raises
    ------
    ConfigError
        One sentence naming ``FEWTAG_ANNOTATE_TOKEN`` and what to do.

    Examples
    --------
    >>> check_access(AnnotateSettings(store="s.db"))
    >>> check_access(AnnotateSettings(store="s.db", host="0.0.0.0"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fewtag.errors.ConfigError: --host 0.0.0.0 is not loopback: set FEWTAG_ANNOTATE_TOKEN ...
    """
    if settings.token is None:
        if not is_loopback(settings.host):
            raise ConfigError(
                f"--host {settings.host} is not loopback: set {TOKEN_VAR} to a random value of at least "
                f"{MIN_TOKEN_CHARS} characters (e.g. `openssl rand -hex 32`), "
                "or bind to 127.0.0.1 and reach the page through an SSH tunnel"
            )
        return
    check_secret(TOKEN_VAR, settings.token, allow_weak=settings.allow_weak_secret)
