"""Render report blocks as Markdown or HTML.

A report is a list of blocks, plain tuples whose first item says what they are:
``("h", level, text)``, ``("p", text)``, ``("code", text)``, ``("ul", items)``,
``("img", alt, src)`` and ``("table", header, rows)``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

__all__ = ["Block", "render_markdown", "render_html"]

Block = tuple[Any, ...]


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: Sequence[Block]) -> str:
    """Render report blocks as GitHub-flavoured Markdown."""
    lines: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "code":
            lines += ["```", block[1], "```", ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in block[1]] + [""]
        elif kind == "img":
            lines += [f"![{block[1]}]({block[2]})", ""]
        elif kind == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines)


def render_html(blocks: Sequence[Block]) -> str:
    """Render report blocks as one self-contained HTML page (figures linked)."""
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>fewtag bench report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td:first-child,th:first-child{text-align:left}"
        "pre{background:#f4f4f4;padding:.6em;overflow-x:auto}img{max-width:100%}</style></head><body>",
    ]
    for block in blocks:
        kind = block[0]
        if kind == "h":
            parts.append(f"<h{block[1]}>{e(block[2])}</h{block[1]}>")
        elif kind == "p":
            text = e(block[1])
            chunks = text.split("`")
            text = "".join(f"<code>{c}</code>" if i % 2 else c for i, c in enumerate(chunks))
            parts.append(f"<p>{text}</p>")
        elif kind == "code":
            parts.append(f"<pre>{e(block[1])}</pre>")
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{e(str(i))}</li>" for i in block[1]) + "</ul>")
        elif kind == "img":
            parts.append(f"<img alt='{e(block[1])}' src='{e(block[2])}'>")
        elif kind == "table":
            head = "".join(f"<th>{e(str(h))}</th>" for h in block[1])
            body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in block[2])
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
