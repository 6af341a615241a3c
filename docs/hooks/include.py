"""MkDocs hook: pages that show a repository file as it is (the data provenance, the changelog).

A page holding ``<!-- include: PATH -->`` (PATH from the repository root) gets the file's text in
its place. Those files are written for GitHub, whose lists may start right after a paragraph and
nest by two spaces; Python-Markdown needs a blank line before a list and four spaces per level, so
the included text is adjusted for that (outside code fences) and otherwise left as it is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = re.compile(r"<!-- include: (\S+) -->")
LIST_ITEM = re.compile(r"^( *)([*+-]|\d+\.) ")


def github_lists(markdown: str) -> str:
    """A blank line before a list that follows a paragraph; nested items at four spaces a level."""
    out: list[str] = []
    fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        item = None if fence else LIST_ITEM.match(line)
        if item:
            depth = len(item.group(1)) // 2
            line = "    " * depth + line.lstrip(" ")
            previous = out[-1] if out else ""
            if depth == 0 and previous.strip() and not _in_list(out):
                out.append("")
        out.append(line)
    return "\n".join(out) + "\n"


def _in_list(lines: list[str]) -> bool:
    """Whether the lines written so far end inside a list (an item or its continuation)."""
    for line in reversed(lines):
        if not line.strip():
            return False
        if LIST_ITEM.match(line):
            return True
        if not line.startswith(" "):
            return False
    return False


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Replace each include marker with the file it names."""

    def text(match: re.Match[str]) -> str:
        path = ROOT / match.group(1)
        if not path.is_file():
            from mkdocs.exceptions import PluginError

            raise PluginError(f"{page.file.src_uri}: no file {match.group(1)} to include")
        return github_lists(path.read_text(encoding="utf-8"))

    return INCLUDE.sub(text, markdown)
