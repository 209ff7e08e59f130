"""Turning GIFT texts in Moodle's formats (markdown, html, plain, moodle) into Markdown."""

from __future__ import annotations

import re
from html.parser import HTMLParser

FORMATS = ("markdown", "html", "plain", "moodle")
LOOKS_LIKE_HTML = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")
LINE_START_SPECIAL = re.compile(r"^([ \t]*)([-+]|[0-9]+\.)(?=[ \t]|$)", re.MULTILINE)

INLINE_MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*", "code": "`"}
BLOCKS = frozenset(
    {"p", "div", "ul", "ol", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "tr"}
)
TEXT_ONLY = frozenset(
    {"span", "font", "u", "sub", "sup", "small", "big", "s", "strike", "del", "ins", "abbr"}
    | {"tbody", "thead", "tfoot", "td", "th", "html", "body", "head", "title", "meta", "style"}
)


def escape_plain(text: str) -> str:
    """Escape plain text so Markdown shows it as written (``2*3*4`` stays ``2*3*4``)."""
    escaped = MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return LINE_START_SPECIAL.sub(lambda match: f"{match[1]}\\{match[2]}", escaped)


class HtmlToMarkdown(HTMLParser):
    """Convert the simple HTML that Moodle question texts hold into Markdown.

    Paragraphs, line breaks, bold, italics, code, links and lists are kept; other tags
    are dropped (their text kept) and named in ``dropped`` so the importer can warn.
    """

    def __init__(self) -> None:
        """Start with no Markdown written and no tags dropped."""
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str | None] = []
        self.lists: list[str] = []
        self.dropped: set[str] = set()
        self.in_pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a Markdown construct for a tag."""
        if tag in INLINE_MARKS:
            self.parts.append(INLINE_MARKS[tag])
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.parts.append("[")
        elif tag == "li":
            marker = "1." if self.lists and self.lists[-1] == "ol" else "-"
            self.parts.append(f"\n{marker} ")
        elif tag in BLOCKS:
            if tag in ("ul", "ol"):
                self.lists.append(tag)
            if tag == "pre":
                self.in_pre += 1
            self.parts.append("\n\n")
        elif tag not in TEXT_ONLY:
            self.dropped.add(tag)

    def handle_endtag(self, tag: str) -> None:
        """Close the Markdown construct opened for a tag."""
        if tag in INLINE_MARKS:
            self.parts.append(INLINE_MARKS[tag])
        elif tag == "a":
            href = self.links.pop() if self.links else None
            self.parts.append(f"]({href})" if href else "]")
        elif tag in BLOCKS:
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            if tag == "pre" and self.in_pre:
                self.in_pre -= 1
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        """Add text, escaped for Markdown; outside <pre> HTML whitespace runs are one space."""
        if not self.in_pre:
            data = re.sub(r"[ \t\r\n]+", " ", data)
            if data.startswith(" ") and (not self.parts or self.parts[-1].endswith((" ", "\n"))):
                data = data[1:]
        self.parts.append(escape_plain(data))

    def markdown(self) -> str:
        """Return the Markdown built so far."""
        text = "".join(self.parts)
        text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_markdown(html: str) -> tuple[str, set[str]]:
    """Return ``html`` as Markdown and the names of the tags that were dropped."""
    converter = HtmlToMarkdown()
    converter.feed(html)
    converter.close()
    return converter.markdown(), converter.dropped


def to_markdown(text: str, text_format: str) -> tuple[str, set[str]]:
    """Return a GIFT text in ``text_format`` as Markdown, with any dropped HTML tags.

    Moodle's own ``moodle`` format (the default) is plain text that may hold HTML: it is
    converted when it looks like HTML and kept as written otherwise.
    """
    if text_format == "html" or (text_format == "moodle" and LOOKS_LIKE_HTML.search(text)):
        return html_to_markdown(text)
    if text_format == "plain":
        return escape_plain(text), set()
    return text, set()
