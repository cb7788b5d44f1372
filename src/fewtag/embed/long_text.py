"""What an encoder does with a text longer than its ``max_length`` tokens.

Three modes, chosen per model (``long_text`` of the encoder methods, saved in
``fewtag.json`` and part of the embedding cache key):

``head``
    The first tokens (the text is truncated; what sentence-transformers does).
``head-tail``
    The first 3/4 and the last 1/4 of the window (Sun et al. 2019, "How to
    fine-tune BERT for text classification": keeping the end beat keeping only
    the start on long documents). An issue's end often holds the error or the
    expected behaviour.
``chunks``
    The text is split into ``ceil(n / window)`` windows of near-equal length
    (at most :data:`MAX_CHUNKS`; the tokens past them are dropped), each is
    embedded, and the text's vector is the re-normalised mean of the windows'
    unit vectors. Costs up to :data:`MAX_CHUNKS` forward passes per long text.

The token ids given here carry no special tokens; the encoder adds them to each
window. Texts reach the encoder already assembled by
:class:`fewtag.data.text.TextSpec`, whose ``max_chars`` (default 4,000
characters, about 900-1,000 tokens) cuts a few very long issues first: at
``max_length`` 128 the 4 chunks (about 2,000 characters) lie inside that cap,
and for the issues over it (under 1% of the 4-repository set) the "tail" is the
end of the first 4,000 characters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from fewtag.errors import InputError

__all__ = ["LONG_TEXT_MODES", "TAIL_FRACTION", "MAX_CHUNKS", "check_long_text", "token_cap", "windows"]

LONG_TEXT_MODES = ("head", "head-tail", "chunks")
#: share of a head-tail window given to the text's last tokens
TAIL_FRACTION = 0.25
#: windows embedded per text, at most, in ``chunks`` mode
MAX_CHUNKS = 4


def check_long_text(mode: str) -> str:
    """``mode`` if it is one of :data:`LONG_TEXT_MODES`, else an :class:`InputError`.

    >>> check_long_text("chunks")
    'chunks'
    """
    if mode not in LONG_TEXT_MODES:
        raise InputError(f"unknown long_text mode {mode!r}; choose one of {', '.join(LONG_TEXT_MODES)}")
    return mode


def token_cap(mode: str, room: int) -> int | None:
    """Tokens worth keeping from a text's start when tokenizing it (``None``: all).

    >>> token_cap("head", 126), token_cap("chunks", 126), token_cap("head-tail", 126)
    (126, 504, None)
    """
    check_long_text(mode)
    if mode == "head":
        return room
    if mode == "chunks":
        return room * MAX_CHUNKS
    return None


def windows(ids: Sequence[int], mode: str, room: int) -> list[list[int]]:
    """The token windows embedded for one text.

    Parameters
    ----------
    ids : sequence of int
        The text's token ids, without special tokens.
    mode : {"head", "head-tail", "chunks"}
    room : int
        Tokens per window (``max_length`` minus the special tokens), >= 1.

    Returns
    -------
    list of list of int
        One window (head, head-tail, or a text that fits), or up to
        :data:`MAX_CHUNKS` windows of at most ``room`` tokens whose
        concatenation is the text's first ``MAX_CHUNKS * room`` tokens.

    Examples
    --------
    >>> windows(list(range(10)), "head", 4)
    [[0, 1, 2, 3]]
    >>> windows(list(range(10)), "head-tail", 4)
    [[0, 1, 2, 9]]
    >>> windows(list(range(10)), "chunks", 4)
    [[0, 1, 2], [3, 4, 5, 6], [7, 8, 9]]
    """
    check_long_text(mode)
    if room < 1:
        raise InputError(f"a window needs at least one token; got room={room}")
    ids = list(ids)
    if len(ids) <= room:
        return [ids]
    if mode == "head":
        return [ids[:room]]
    if mode == "head-tail":
        tail = int(round(room * TAIL_FRACTION))
        return [ids[: room - tail] + (ids[-tail:] if tail else [])]
    ids = ids[: room * MAX_CHUNKS]
    n = math.ceil(len(ids) / room)
    bounds = [round(i * len(ids) / n) for i in range(n + 1)]
    return [ids[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
