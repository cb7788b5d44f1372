"""Text assembly and markdown clean-up for issue bodies: the one text path.

:class:`TextSpec` turns a record (``text``, or ``title`` + ``body``) into the
model's input. ``fewtag prepare`` builds training texts with it, its settings
are saved in the model's ``fewtag.json``, and ``predict``, ``serve``, the
webhook and ``apply`` call :meth:`TextSpec.text_of` through the model, so a
record gives the same text when the model learns and when it predicts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from fewtag.errors import ConfigError, DataFormatError

__all__ = ["clean_markdown", "assemble_text", "TextSpec", "CODE_BLOCKS"]

CODE_BLOCKS = ("keep", "shorten", "drop")

_HTML_COMMENT = re.compile(r"<!--.*?(-->|$)", re.DOTALL)
_FENCE = re.compile(r"(^|\n)(```|~~~)[^\n]*\n(.*?)(\n\2[ \t]*(?=\n|$)|$)", re.DOTALL)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_HTML_TAG = re.compile(r"</?(details|summary|br|p|img|sub|sup|div|span)\b[^>]*>", re.IGNORECASE)
_CHECKBOX = re.compile(r"^\s*[-*]\s*\[[ xX]\]\s.*$", re.MULTILINE)
_BLANKS = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[ \t]+\n")
#: Template sentences that carry no information about the issue.
_BOILERPLATE = re.compile(
    r"^\s*(\*\*)?(steps to reproduce the bug|expected results|actual results|environment info|"
    r"describe the bug|describe the solution you'd like|describe alternatives you've considered|"
    r"additional context|motivation|your contribution|is your feature request related to a problem\??|"
    r"a clear and concise description of [^\n]*)(\*\*)?:?\s*$",
    re.IGNORECASE | re.MULTILINE,
)


def clean_markdown(body: str, *, code_blocks: str = "shorten", code_lines: int = 6) -> str:
    """Remove HTML comments, images, checklists and template headings; shorten code.

    Parameters
    ----------
    body : str
    code_blocks : {"keep", "shorten", "drop"}
        Fenced code: kept whole, cut to ``code_lines`` lines, or removed.

    >>> clean_markdown("Hi <!-- template -->\\n\\n### Describe the bug\\nIt fails\\n```\\na\\nb\\n```",
    ...                code_lines=1)
    'Hi\\n\\nIt fails\\n```\\na\\n…\\n```'
    """
    text = _HTML_COMMENT.sub("", body.replace("\r\n", "\n"))

    def _code(match: re.Match[str]) -> str:
        lead, fence, code = match.group(1), match.group(2), match.group(3)
        if code_blocks == "drop":
            return lead
        lines = code.split("\n")
        if code_blocks == "shorten" and len(lines) > code_lines:
            lines = lines[:code_lines] + ["…"]
        return f"{lead}{fence}\n" + "\n".join(lines) + f"\n{fence}"

    if code_blocks != "keep":
        text = _FENCE.sub(_code, text)
    text = _IMAGE.sub("", text)
    text = _HTML_TAG.sub("", text)
    text = _CHECKBOX.sub("", text)
    text = "\n".join("" if _BOILERPLATE.fullmatch(_strip_heading(line)) else line for line in text.split("\n"))
    text = _SPACES.sub("\n", text)
    text = _BLANKS.sub("\n\n", text)
    return text.strip()


def _strip_heading(line: str) -> str:
    return re.sub(r"^\s*#{1,6}\s*", "", line)


def assemble_text(
    title: str, body: str, *, clean: bool = True, code_blocks: str = "shorten", max_chars: int | None = None
) -> str:
    """``title + "\\n\\n" + body`` (the book's text), cleaned and optionally cut."""
    body = clean_markdown(body or "", code_blocks=code_blocks) if clean else (body or "")
    title = (title or "").strip()
    text = f"{title}\n\n{body}".strip() if body else title
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars].rstrip() + " …"
    return text


@dataclass(frozen=True)
class TextSpec:
    """How a record becomes model input; saved as ``text`` in ``fewtag.json``.

    Parameters
    ----------
    clean : bool
        Remove HTML comments, images, checklists and template headings.
    code_blocks : {"keep", "shorten", "drop"}
    max_chars : int, optional
        Cut longer texts (``None``: no cut).

    Examples
    --------
    >>> TextSpec().text_of({"title": "Crash", "body": "<!-- hi -->It fails"})
    'Crash\\n\\nIt fails'
    >>> TextSpec().text_of({"text": "plain text"})
    'plain text'
    """

    clean: bool = True
    code_blocks: str = "shorten"
    max_chars: int | None = 4000

    def __post_init__(self) -> None:
        if not isinstance(self.clean, bool):
            raise ConfigError(f"text.clean must be true or false; got {self.clean!r}")
        if self.code_blocks not in CODE_BLOCKS:
            raise ConfigError(f"text.code_blocks must be one of {', '.join(CODE_BLOCKS)}; got {self.code_blocks!r}")
        if self.max_chars is not None and (
            isinstance(self.max_chars, bool) or not isinstance(self.max_chars, int) or self.max_chars < 1
        ):
            raise ConfigError(f"text.max_chars must be a positive integer or absent; got {self.max_chars!r}")

    def text_of(self, record: Mapping[str, Any], where: str = "record") -> str:
        """The model input for one record: ``text``, or ``title`` + a blank line + ``body``.

        Raises
        ------
        DataFormatError
            The record has neither ``text`` nor ``title``/``body``, or they are not strings.
        """
        if "text" in record and record["text"] is not None:
            given = {"text": record["text"]}
        elif "title" in record or "body" in record:
            given = {"title": record.get("title") or "", "body": record.get("body") or ""}
        else:
            raise DataFormatError(f"{where}: a record needs 'text' or 'title'/'body'")
        for name, value in given.items():
            if not isinstance(value, str):
                raise DataFormatError(f"{where}: {name} is {type(value).__name__}, expected a string")
        title, body = given.get("title", ""), given.get("body", given.get("text", ""))
        return assemble_text(title, body, clean=self.clean, code_blocks=self.code_blocks, max_chars=self.max_chars)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TextSpec:
        """Build from saved settings; unknown keys are a ``ConfigError``."""
        data = dict(data or {})
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ConfigError(f"unknown text setting(s) {', '.join(unknown)}; valid: {', '.join(names)}")
        return cls(**data)
