"""Reading input files: archives as capped streams, UTF-8, JSON records and CSV rows with line numbers.

``.zip`` / ``.gz`` files are streamed: together they may expand to at most
``FEWTAG_MAX_DECOMPRESSED`` bytes (default 2 GB; ``500MB``, ``2GB`` or a plain number
of bytes) and a zip may hold at most ``FEWTAG_MAX_ARCHIVE_MEMBERS`` files (default
10,000), so a decompression bomb is refused before it fills the memory. Every
problem is one :class:`~fewtag.errors.DataFormatError` naming ``file:line`` where
there is one: malformed or too deeply nested JSON, an unterminated CSV quote.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from fewtag.errors import DataFormatError, InputError

__all__ = [
    "Budget",
    "read_texts",
    "json_records",
    "csv_rows",
    "parse_size",
    "max_decompressed_bytes",
    "max_archive_members",
    "DEFAULT_MAX_DECOMPRESSED",
    "DEFAULT_MAX_MEMBERS",
]

DEFAULT_MAX_DECOMPRESSED = 2_000_000_000
DEFAULT_MAX_MEMBERS = 10_000
_CHUNK = 1 << 20


# ------------------------------------------------------------------ limits
def parse_size(text: str) -> int:
    """``"2GB"`` / ``"500 MB"`` / ``"64KiB"`` / ``"1000"`` -> bytes.

    >>> parse_size("2GB"), parse_size("1.5 MiB"), parse_size("1000")
    (2000000000, 1572864, 1000)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*", str(text).lower())
    if not m:
        raise InputError(f"cannot read {text!r} as a size; give bytes or e.g. 500MB, 2GB")
    base = 1024 if m.group(3) else 1000
    power = " kmgt".index(m.group(2) or " ")
    return int(float(m.group(1)) * base**power)


def max_decompressed_bytes() -> int:
    """``FEWTAG_MAX_DECOMPRESSED`` as bytes, default 2 GB."""
    raw = os.environ.get("FEWTAG_MAX_DECOMPRESSED", "").strip()
    return parse_size(raw) if raw else DEFAULT_MAX_DECOMPRESSED


def max_archive_members() -> int:
    """``FEWTAG_MAX_ARCHIVE_MEMBERS``, default 10,000."""
    raw = os.environ.get("FEWTAG_MAX_ARCHIVE_MEMBERS", "").strip()
    if not raw:
        return DEFAULT_MAX_MEMBERS
    if not raw.isdigit():
        raise InputError(f"FEWTAG_MAX_ARCHIVE_MEMBERS must be a whole number; got {raw!r}")
    return int(raw)


def _human(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class Budget:
    """Decompressed bytes left for one archive; one clear error past the cap."""

    def __init__(self, path: Path, limit: int):
        self.path, self.limit, self.used = path, limit, 0

    def take(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            self.fail()

    def fail(self) -> None:
        raise DataFormatError(
            f"{self.path} expands to more than {_human(self.limit)} when decompressed (the limit, "
            "a guard against decompression bombs); if the file is genuine, raise it with "
            "FEWTAG_MAX_DECOMPRESSED or --max-decompressed"
        )

    def read(self, stream: _Readable) -> bytes:
        """All of ``stream``, read in 1 MiB chunks, stopping as soon as the budget is spent."""
        chunks: list[bytes] = []
        while True:
            chunk = stream.read(min(_CHUNK, self.limit - self.used + 1))
            if not chunk:
                return b"".join(chunks)
            self.take(len(chunk))
            chunks.append(chunk)


# ----------------------------------------------------------------- reading
def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataFormatError(f"{name}:{line}: not UTF-8 (byte {exc.start}: {data[exc.start]:#04x})") from None


_ARCHIVE_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError)


def read_texts(path: Path, budget: Budget, max_members: int) -> Iterator[tuple[str, str]]:
    """(name, decoded text) for the file, or for each member of a zip; archives are streamed."""
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty")
    if path.suffix == ".zip":
        yield from _read_zip(path, budget, max_members)
        return
    if path.suffix == ".gz":
        try:
            with gzip.open(path, "rb") as fh:
                raw = budget.read(fh)
        except _ARCHIVE_ERRORS as exc:
            raise DataFormatError(f"{path}: not a valid gzip file ({exc})") from None
    else:
        raw = path.read_bytes()
        if not raw.strip():
            raise InputError(f"{path} is empty")
    yield str(path), _decode(str(path), raw)


def _read_zip(path: Path, budget: Budget, max_members: int) -> Iterator[tuple[str, str]]:
    try:
        zf = zipfile.ZipFile(path)
    except _ARCHIVE_ERRORS as exc:
        raise DataFormatError(f"{path}: not a valid zip ({exc})") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir() and "__MACOSX" not in i.filename]
        if not infos:
            raise InputError(f"{path} is an empty zip")
        if len(infos) > max_members:
            raise DataFormatError(
                f"{path} holds {len(infos):,} files, more than the limit of "
                f"{max_members:,}; raise it with FEWTAG_MAX_ARCHIVE_MEMBERS"
            )
        if sum(i.file_size for i in infos if not i.filename.endswith(".gz")) > budget.limit:
            budget.fail()  # refused from the sizes the zip declares, before inflating anything
        for info in sorted(infos, key=lambda i: i.filename):
            name = f"{path}!{info.filename}"
            try:
                with zf.open(info) as member:
                    if info.filename.endswith(".gz"):
                        with gzip.GzipFile(fileobj=member) as inner:
                            data = budget.read(inner)
                    else:
                        data = budget.read(member)
            except RuntimeError as exc:  # an encrypted member
                raise DataFormatError(f"{name}: cannot be read ({exc})") from None
            except _ARCHIVE_ERRORS as exc:
                raise DataFormatError(f"{name}: not a valid archive member ({exc})") from None
            yield name, _decode(name, data)


_WS = re.compile(r"[ \t\n\r]*")


def _skip_ws(text: str, idx: int) -> int:
    """The first index at or after ``idx`` that is not JSON whitespace."""
    m = _WS.match(text, idx)
    return m.end() if m else idx


_DECODER = json.JSONDecoder()


def _decode_value(name: str, text: str, idx: int, line: int, *, first_line: int = 1) -> tuple[Any, int]:
    """One JSON value at ``text[idx:]``; every failure is one DataFormatError with ``file:line``.

    ``line`` is where the value starts, ``first_line`` the file line of ``text``'s first line.
    """
    try:
        return _DECODER.raw_decode(text, idx)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{name}:{exc.lineno + first_line - 1}: malformed JSON ({exc.msg})") from None
    except RecursionError:
        raise DataFormatError(
            f"{name}:{line}: JSON nested too deeply (hundreds of levels); not a record fewtag can read"
        ) from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise DataFormatError(f"{name}:{line}: malformed JSON ({exc})") from None


def json_records(name: str, text: str, limit: int | None = None) -> list[tuple[int, Any]]:
    """(line number, object) pairs from a JSON array or JSON lines."""
    start = len(text) - len(text.lstrip())
    if text.startswith("[", start):
        return _json_array(name, text, start + 1, limit)
    out: list[tuple[int, Any]] = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        obj, end = _decode_value(name, line, _skip_ws(line, 0), n, first_line=n)
        if line[end:].strip():
            raise DataFormatError(f"{name}:{n}: malformed JSON line (extra data after the record)")
        out.append((n, obj))
        if limit and len(out) >= limit:
            break
    return out


def _json_array(name: str, text: str, idx: int, limit: int | None) -> list[tuple[int, Any]]:
    """The elements of a JSON array, each with the line it starts on."""
    out: list[tuple[int, Any]] = []
    line, last = 1, 0

    def line_at(pos: int) -> int:
        nonlocal line, last
        line += text.count("\n", last, pos)
        last = pos
        return line

    idx = _skip_ws(text, idx)
    if text.startswith("]", idx):
        idx += 1
    else:
        while True:
            n = line_at(idx)
            obj, idx = _decode_value(name, text, idx, n)
            out.append((n, obj))
            if limit and len(out) >= limit:
                return out
            idx = _skip_ws(text, idx)
            if text.startswith(",", idx):
                idx = _skip_ws(text, idx + 1)
                continue
            if text.startswith("]", idx):
                idx += 1
                break
            what = "the file ends" if idx >= len(text) else f"found {text[idx]!r}"
            raise DataFormatError(f"{name}:{line_at(idx)}: malformed JSON (expected ',' or ']' in the array; {what})")
    if text[idx:].strip():
        raise DataFormatError(f"{name}:{line_at(_skip_ws(text, idx))}: malformed JSON (extra data after the array)")
    return out


def csv_rows(name: str, text: str) -> tuple[list[dict[str, Any]], list[int]]:
    """Rows of a CSV with a header, and the line each starts on.

    Strict quoting: an unterminated quote, which would swallow every row after it,
    is reported at the line where the quoted field opens.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    header: list[str] | None = None
    start = 1
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise DataFormatError(
                    f"{name}:{start}: unterminated quote: the quoted field opened on this line runs "
                    f"to the end of the file and would swallow {reader.line_num - start} more lines"
                ) from None
            raise DataFormatError(f"{name}:{start}: malformed CSV ({exc})") from None
        if not record or not any(f.strip() for f in record):
            continue
        if header is None:
            header = record
            continue
        if len(record) > len(header):
            raise DataFormatError(
                f"{name}:{start}: {len(record)} fields but the header has "
                f"{len(header)} ({', '.join(header)}); quote fields holding commas"
            )
        rows.append(dict(zip(header, record)))
        lines.append(start)
    return rows, lines
