"""Checks on a module's Markdown body: headings, links, images and alt text.

Kept apart from ``lint`` so that the loader can refuse the same mistakes the checker
reports without the two modules importing each other.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from markdown_it.token import Token

from liboppi.content.frontmatter import SplitModule, split_lines
from liboppi.content.problems import Problem
from liboppi.content.render import inline_text, parse_markdown


@dataclass(frozen=True, slots=True)
class BodyReport:
    """What checking a module body found: its problems and the local images it shows."""

    problems: list[Problem]
    images: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Reference:
    """A relative link or image in a body: the repository file it needs, and where it is."""

    kind: str  # "image" or "link"
    line: int
    col: int
    #: The URL as the editor wrote it, %-escapes decoded (as problems show it).
    shown: str
    #: The repository-relative file it points to.
    target: str


@dataclass(frozen=True, slots=True)
class BodyFacts:
    """What a body's text alone says: problems found in it and the files it refers to.

    These depend only on the text and the module's path, so they can be kept with a stored
    version and reused while both are unchanged; whether the referenced files exist is
    asked again every time (``report``), because other files come and go.
    """

    problems: tuple[Problem, ...]
    references: tuple[Reference, ...]

    def report(self, path: str, file_exists: Callable[[str], bool]) -> BodyReport:
        """The body's problems with every reference checked against the repository now."""
        problems = list(self.problems)
        images: list[str] = []
        for ref in self.references:
            if file_exists(ref.target):
                if ref.kind == "image":
                    images.append(ref.target)
                continue
            what = "image" if ref.kind == "image" else "link"
            problems.append(
                Problem(
                    path,
                    ref.line,
                    ref.col,
                    f"broken {what} `{ref.shown}`: file `{ref.target}` does not exist",
                )
            )
        return BodyReport(problems, tuple(dict.fromkeys(images)))


def resolve_relative(module_path: str, url: str) -> str | None:
    """Return the repository-relative file a relative link in ``module_path`` points to.

    Returns None for URLs that are not relative file references (``https:``, ``mailto:``,
    ``/absolute``, ``#fragment``, ``?query``).
    """
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("/", "\\")) or not parts.path:
        return None
    return posixpath.normpath(posixpath.join(posixpath.dirname(module_path), unquote(parts.path)))


class _SourceLocator:
    """Finds where inline text (a link target) is written, since inline tokens carry no map."""

    def __init__(self, body: str, body_line: int) -> None:
        self._lines = split_lines(body)
        self._body_line = body_line
        self._cursor: tuple[int, int] = (0, 0)

    def line_col(self, index: int) -> tuple[int, int]:
        """Return the file line and column where the text of body line ``index`` starts."""
        line = self._lines[index] if index < len(self._lines) else ""
        indent = len(line) - len(line.lstrip(" \t"))
        return self._body_line + index, indent + 1

    def find(self, needles: Sequence[str], block: list[int] | None) -> tuple[int, int]:
        """Locate the next occurrence of any needle within ``block`` (body lines), else anywhere."""
        if block is not None:
            start, end = block[0], max(block[1], block[0] + 1)
            line, col = self._cursor if self._cursor[0] >= start else (start, 0)
            found = self._search(needles, line, col, end)
            if found is not None:
                self._cursor = (found[0], found[1] + 1)
                return self._body_line + found[0], found[1] + 1
        found = self._search(needles, 0, 0, len(self._lines))
        if found is not None:
            return self._body_line + found[0], found[1] + 1
        return self.line_col(block[0]) if block is not None else (self._body_line, 1)

    def _search(
        self, needles: Sequence[str], line: int, col: int, end: int
    ) -> tuple[int, int] | None:
        for index in range(line, min(end, len(self._lines))):
            text = self._lines[index]
            offset = col if index == line else 0
            hits = [text.find(needle, offset) for needle in needles if needle]
            hits = [hit for hit in hits if hit >= 0]
            if hits:
                return index, min(hits)
        return None


def check_body(path: str, split: SplitModule, *, file_exists: Callable[[str], bool]) -> BodyReport:
    """Check a module body; ``file_exists`` answers for repository-relative paths."""
    return body_facts(path, split).report(path, file_exists)


def body_facts(path: str, split: SplitModule, tokens: Sequence[Token] | None = None) -> BodyFacts:
    """Check what a body's text alone can tell; ``tokens`` is the body already parsed, if it is.

    The tokens are only read, so the caller may render them afterwards.
    """
    if not split.body.strip():
        return BodyFacts(
            (
                Problem(
                    path, split.closing_line, 1, "the module has no text after the front matter"
                ),
            ),
            (),
        )
    if tokens is None:
        tokens = parse_markdown(split.body)
    locator = _SourceLocator(split.body, split.body_line)
    problems = _check_headings(path, tokens, locator)
    references: list[Reference] = []
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        for child in _flatten(token.children):
            if child.type == "image":
                problems.extend(_check_image(path, child, token.map, locator, references))
            elif child.type == "link_open":
                problems.extend(_check_link(path, child, token.map, locator, references))
    return BodyFacts(tuple(problems), tuple(references))


def _flatten(children: Sequence[Token]) -> list[Token]:
    # Links inside an image's alt text are tokens too, and still rendered as text only.
    flat: list[Token] = []
    for child in children:
        flat.append(child)
        if child.type == "image" and child.children:
            flat.extend(_flatten(child.children))
    return flat


def _check_headings(path: str, tokens: Sequence[Token], locator: _SourceLocator) -> list[Problem]:
    problems: list[Problem] = []
    previous = 1  # the page supplies the `#` title from the front matter
    for token in tokens:
        if token.type != "heading_open" or token.map is None:
            continue
        level = int(token.tag[1])
        line, col = locator.line_col(token.map[0])
        if level == 1:
            problems.append(
                Problem(
                    path,
                    line,
                    col,
                    "a `#` heading in the body: the page already shows the title from the "
                    "front matter; start headings at `##`",
                    "warning",
                )
            )
        elif level > previous + 1:
            before = "the page title (#)" if previous == 1 else "#" * previous
            problems.append(
                Problem(
                    path,
                    line,
                    col,
                    f"heading level skips from {before} to {'#' * level}: "
                    f"use {'#' * (previous + 1)} here",
                )
            )
        previous = level
    return problems


def _needles(url: str) -> list[str]:
    return list(dict.fromkeys([url, unquote(url)]))


def _check_image(
    path: str,
    image: Token,
    block: list[int] | None,
    locator: _SourceLocator,
    references: list[Reference],
) -> list[Problem]:
    src = str(image.attrGet("src") or "")
    shown = unquote(src)
    line, col = locator.find(_needles(src), block)
    problems: list[Problem] = []
    if not inline_text(image.children).strip():
        problems.append(
            Problem(
                path,
                line,
                col,
                f"image `{shown}` has no alt text: describe it inside the brackets, "
                f"`![description]({shown})`",
            )
        )
    target = resolve_relative(path, src)
    if target is None:
        return problems
    if _is_outside(target):
        problems.append(Problem(path, line, col, f"image `{shown}` points outside the repository"))
    else:
        references.append(Reference("image", line, col, shown, target))
    return problems


def _check_link(
    path: str,
    link: Token,
    block: list[int] | None,
    locator: _SourceLocator,
    references: list[Reference],
) -> list[Problem]:
    href = str(link.attrGet("href") or "")
    target = resolve_relative(path, href)
    if target is None:
        return []
    shown = unquote(href)
    line, col = locator.find(_needles(href), block)
    if _is_outside(target):
        return [Problem(path, line, col, f"link `{shown}` points outside the repository")]
    references.append(Reference("link", line, col, shown, target))
    return []


def _is_outside(target: str) -> bool:
    return target == ".." or target.startswith("../")
