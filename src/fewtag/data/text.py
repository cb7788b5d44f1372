"""Text assembly and markdown clean-up for issue bodies."""

from __future__ import annotations

import re

__all__ = ["clean_markdown", "assemble_text"]

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
    text = "\n".join(
        "" if _BOILERPLATE.fullmatch(_strip_heading(line)) else line for line in text.split("\n")
    )
    text = _SPACES.sub("\n", text)
    text = _BLANKS.sub("\n\n", text)
    return text.strip()


def _strip_heading(line: str) -> str:
    return re.sub(r"^\s*#{1,6}\s*", "", line)


def assemble_text(title: str, body: str, *, clean: bool = True, code_blocks: str = "shorten",
                  max_chars: int | None = None) -> str:
    """``title + "\\n\\n" + body`` (the book's text), cleaned and optionally cut."""
    body = clean_markdown(body or "", code_blocks=code_blocks) if clean else (body or "")
    title = (title or "").strip()
    text = f"{title}\n\n{body}".strip() if body else title
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars].rstrip() + " …"
    return text
