"""Checks for the fields of an imported record: each returns the value the store takes
or raises one :class:`~fewtag.errors.DataFormatError` that names the field, what it got
and what it expected.

Text fields take strings; numbers are converted with ``str``; lists, objects and
booleans are refused. Ids are strings or integers (a float such as ``1e23`` is refused,
not rounded), issue numbers fit SQLite's INTEGER, and lone UTF-16 surrogates become U+FFFD.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from fewtag.errors import DataFormatError

__all__ = ["clean", "type_name", "preview", "as_text", "as_opt_str", "as_id", "as_number", "as_flag", "MAX_NUMBER"]

MAX_NUMBER = 2**63 - 1  # SQLite INTEGER
SURROGATE = re.compile("[\ud800-\udfff]")


def clean(s: str) -> str:
    """Lone surrogates (which SQLite cannot store as UTF-8) -> U+FFFD."""
    return s if s.isascii() else SURROGATE.sub("\ufffd", s)


def type_name(value: Any) -> str:
    """What ``value`` is, for a message: "a list", "an object", "a boolean", "a number", else its type name."""
    return {list: "a list", dict: "an object", bool: "a boolean", float: "a number", int: "a number"}.get(
        type(value), type(value).__name__
    )


def as_text(value: Any, field: str) -> str:
    """A text field: a string, null (empty) or a finite number (converted); nothing else."""
    if value is None:
        return ""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise DataFormatError(f"field {field!r} is {type_name(value)} ({preview(value)}), expected a string")


def as_opt_str(value: Any, field: str) -> str | None:
    """An optional string field: a string (cleaned) or null; nothing else."""
    if value is None or isinstance(value, str):
        return clean(value) if value else value
    raise DataFormatError(f"field {field!r} is {type_name(value)} ({preview(value)}), expected a string")


def preview(value: Any) -> str:
    """``value`` as JSON for a message, cut to 40 characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def as_id(value: Any, field: str) -> str:
    """An id: a non-empty string or an integer; a float (``1e23``) is refused, not rounded."""
    if isinstance(value, str) and value.strip():
        return clean(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise DataFormatError(f"field {field!r} must be a string or an integer, got {type_name(value)} ({preview(value)})")


def as_number(value: Any, field: str = "number", *, required: bool = False) -> int | None:
    """An issue number: an integer (or a string of digits) from 0 to 2**63 - 1."""
    if value is None or value == "":
        if required:
            raise DataFormatError(f"field {field!r} is missing or null")
        return None
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise DataFormatError(f"field {field!r} must be a whole number, got {type_name(value)} ({preview(value)})")
    if not 0 <= value <= MAX_NUMBER:
        raise DataFormatError(f"field {field!r} is {preview(value)}, outside 0 .. 2**63 - 1")
    return value


def as_flag(value: Any, field: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("", "0", "false", "no", "1", "true", "yes"):
        return value.strip().lower() in ("1", "true", "yes")
    raise DataFormatError(f"field {field!r} must be true or false, got {preview(value)}")
