"""Rendering module Markdown to safe HTML, its table of contents and search text.

One markdown-it parser and one nh3 cleaner are built per process (they are costly to set
up and hold no per-document state); everything that varies per call (callout labels,
image base URL, the site's host) travels in the render ``env`` or in a pass over the tokens.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import nh3
import snowballstemmer
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

CALLOUT_KINDS: tuple[str, ...] = ("tip", "warning", "note")
DEFAULT_CALLOUT_LABELS: Mapping[str, str] = {"tip": "Vinkki", "warning": "Huomio", "note": "Muista"}
EXTERNAL_LINK_REL = "noopener noreferrer external"
EXTERNAL_LINK_CLASS = "external-link"

_ALIGN_STYLES = {
    "text-align:left": "align-left",
    "text-align:center": "align-center",
    "text-align:right": "align-right",
}
# Letters that Unicode does not decompose into a base letter plus an accent.
_SLUG_LETTERS = str.maketrans(
    {"đ": "d", "ŋ": "n", "ŧ": "t", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "ı": "i", "ł": "l"}
)
# Possessive: a word never gives back letters, so the engine keeps no backtracking points.
_WORD = re.compile(r"[^\W_]++(?:['’-][^\W_]++)*+")
_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class TocEntry:
    """A heading in a rendered module: its level (1-6), anchor id and text."""

    level: int
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class RenderedModule:
    """A module body rendered for the page, and its text for the search index."""

    html: str
    toc: list[TocEntry]
    plain_text: str
    word_count: int


def slugify(text: str) -> str:
    """Turn heading text into an ASCII anchor id.

    "Yleisen kirjaston tehtävät" becomes "yleisen-kirjaston-tehtavat": accents are dropped
    (ä → a, š → s), Sámi letters that do not decompose are mapped (đ → d, ŋ → n).
    """
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_SLUG_LETTERS))
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug or "osio"


def _render_callout(kind: str) -> Callable[..., str]:
    def render(
        renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
    ) -> str:
        token = tokens[idx]
        if token.nesting != 1:
            return "</aside>\n"
        # `::: tip Oma otsikko` gives the callout its own title instead of the label.
        custom_title = token.info.strip()[len(kind) :].strip()
        labels: Mapping[str, str] = env.get("callout_labels", DEFAULT_CALLOUT_LABELS)
        title = custom_title or labels.get(kind) or DEFAULT_CALLOUT_LABELS[kind]
        return (
            f'<aside class="callout callout-{kind}" role="note">\n'
            f'<p class="callout-title">{escapeHtml(title)}</p>\n'
        )

    return render


def _build_parser(*, footnotes: bool) -> MarkdownIt:
    md = MarkdownIt("js-default").enable("table")
    if footnotes:
        md.use(footnote_plugin)
    md.use(deflist_plugin).use(anchors_plugin, min_level=1, max_level=6, slug_func=slugify)
    for kind in CALLOUT_KINDS:
        md.use(container_plugin, name=kind, render=_render_callout(kind))
    return md


@cache
def _parsers() -> tuple[MarkdownIt, MarkdownIt]:
    """The module parser, and the same without the footnote rules (see ``parse_body``)."""
    return _build_parser(footnotes=True), _build_parser(footnotes=False)


def markdown_parser() -> MarkdownIt:
    """Return the process-wide markdown-it parser configured for module bodies (raw HTML off)."""
    return _parsers()[0]


def parse_markdown(body: str) -> list[Token]:
    """Parse a module body into markdown-it tokens (``token.map`` lines are 0-based in the body)."""
    return parse_body(body).tokens


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """A body parsed once, for checking and rendering: the tokens and the parse ``env``.

    The env carries what plugins collected while parsing (footnotes), which rendering needs.
    """

    tokens: list[Token]
    env: dict[str, Any]


def parse_body(body: str) -> ParsedBody:
    """Parse a module body into tokens that ``render_parsed`` can render afterwards.

    A body in which no footnote can start (every footnote rule of mdit-py-plugins needs
    ``[^`` or ``^[`` in the text) is parsed without the footnote rules: they give it the
    same tokens, yet cost about 6 % of the parse, being tried at every ``[`` and ``^``
    and walking every token afterwards. The full parser renders either.
    """
    env: dict[str, Any] = {}
    with_footnotes, without_footnotes = _parsers()
    parser = with_footnotes if "[^" in body or "^[" in body else without_footnotes
    return ParsedBody(parser.parse(body, env), env)


_ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "s", "code", "pre", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd",
    "sup", "section", "aside",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "id"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "li": {"id"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
_ALLOWED_CLASSES = {
    "aside": {"callout", *(f"callout-{kind}" for kind in CALLOUT_KINDS)},
    "p": {"callout-title"},
    "a": {EXTERNAL_LINK_CLASS, "footnote-backref"},
    "sup": {"footnote-ref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "ol": {"footnotes-list"},
    "li": {"footnote-item"},
    "th": set(_ALIGN_STYLES.values()),
    "td": set(_ALIGN_STYLES.values()),
}


def _keep_relative_url(url: str) -> str | None:
    # RFC 3986 §4.2: a relative reference's first segment has no colon. Anything that does
    # (e.g. "`javascript:…" that browsers ignore) is not a link an editor wrote on purpose.
    first_segment = re.split(r"[/?#]", url, maxsplit=1)[0]
    return None if ":" in first_segment else url


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=_ALLOWED_ATTRIBUTES,
        allowed_classes=_ALLOWED_CLASSES,
        tag_attribute_values={"a": {"rel": {EXTERNAL_LINK_REL}}, "aside": {"role": {"note"}}},
        # rel is set by the renderer on external links only; nh3 would add it to every link.
        link_rel=None,
        url_schemes={"http", "https", "mailto"},
        url_relative=_keep_relative_url,
        strip_comments=True,
    )


def sanitize_html(html: str) -> str:
    """Remove from HTML every tag, attribute and URL scheme the module renderer does not emit."""
    return _cleaner().clean(html)


def _is_relative_url(url: str) -> bool:
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc and not url.startswith(("/", "#", "\\"))


def _rewrite_inline(
    children: list[Token],
    *,
    base_url_for_images: str | None,
    site_host: str | None,
    resolve_link: Callable[[str], str | None] | None,
) -> None:
    for child in children:
        if child.type == "image":
            src = str(child.attrGet("src") or "")
            if base_url_for_images is not None and _is_relative_url(src):
                base = (
                    base_url_for_images
                    if base_url_for_images.endswith("/")
                    else base_url_for_images + "/"
                )
                child.attrSet("src", urljoin(base, src))
        elif child.type == "link_open":
            href = str(child.attrGet("href") or "")
            parts = urlsplit(href)
            if parts.scheme in ("http", "https") and (
                site_host is None or (parts.hostname or "") != site_host.lower()
            ):
                child.attrSet("rel", EXTERNAL_LINK_REL)
                child.attrSet("class", EXTERNAL_LINK_CLASS)
            elif resolve_link is not None and _is_relative_url(href):
                resolved = resolve_link(href)
                if resolved is not None:
                    child.attrSet("href", resolved)


def inline_text(children: Sequence[Token] | None) -> str:
    """Return the readable text of an inline token's children (image alt text included)."""
    parts: list[str] = []
    for child in children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(inline_text(child.children))
    return "".join(parts)


def _plain_text(tokens: Sequence[Token]) -> str:
    blocks: list[str] = []
    for token in tokens:
        if token.type == "inline":
            blocks.append(inline_text(token.children))
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
    return "\n".join(block for block in blocks if block.strip())


def render_markdown(
    body: str,
    *,
    base_url_for_images: str | None,
    labels: Mapping[str, str] = DEFAULT_CALLOUT_LABELS,
    site_host: str | None = None,
    resolve_link: Callable[[str], str | None] | None = None,
) -> RenderedModule:
    """Render a module body to sanitised HTML with its table of contents and search text.

    ``base_url_for_images`` resolves relative image paths (``kuva.png`` beside the module);
    ``labels`` gives the callout titles in the reader's language; links to hosts other than
    ``site_host`` are marked external; ``resolve_link`` may rewrite relative links (e.g. a
    module file name to its page URL) and returns None to leave a link as written.
    """
    return render_parsed(
        parse_body(body),
        base_url_for_images=base_url_for_images,
        labels=labels,
        site_host=site_host,
        resolve_link=resolve_link,
    )


def render_parsed(
    parsed: ParsedBody,
    *,
    base_url_for_images: str | None,
    labels: Mapping[str, str] = DEFAULT_CALLOUT_LABELS,
    site_host: str | None = None,
    resolve_link: Callable[[str], str | None] | None = None,
) -> RenderedModule:
    """Render a body ``parse_body`` parsed (see ``render_markdown``); the tokens are rewritten."""
    md = markdown_parser()
    env = parsed.env
    env["callout_labels"] = labels
    tokens = parsed.tokens
    toc: list[TocEntry] = []
    for index, token in enumerate(tokens):
        if token.type == "inline" and token.children:
            _rewrite_inline(
                token.children,
                base_url_for_images=base_url_for_images,
                site_host=site_host,
                resolve_link=resolve_link,
            )
        elif token.type in ("th_open", "td_open"):
            # Alignment arrives as style="text-align:…", which the CSP forbids; use classes.
            align_class = _ALIGN_STYLES.get(str(token.attrGet("style") or ""))
            token.attrs.pop("style", None)
            if align_class:
                token.attrSet("class", align_class)
        elif token.type == "heading_open":
            toc.append(
                TocEntry(
                    level=int(token.tag[1]),
                    id=str(token.attrGet("id") or ""),
                    text=inline_text(tokens[index + 1].children).strip(),
                )
            )
    html = sanitize_html(md.renderer.render(tokens, md.options, env))
    plain_text = _plain_text(tokens)
    return RenderedModule(
        html=html,
        toc=toc,
        plain_text=plain_text,
        word_count=count_words(plain_text),
    )


def count_words(text: str) -> int:
    """Count the words of ``text``: letters and digits, joined by single ' ’ or - marks.

    A word never spans white space, so the text is counted by its white-space separated
    chunks, each distinct chunk once: a module repeats its chunks many times over, and the
    regular expression costs more than a dictionary (an import counts 20 MB of text).
    """
    return sum(_WORD.subn("", chunk)[1] * times for chunk, times in Counter(text.split()).items())


_stemmers = threading.local()


def _finnish_stemmer() -> Any:
    # Snowball stemmer objects keep the current word in the instance: one per thread.
    stemmer = getattr(_stemmers, "finnish", None)
    if stemmer is None:
        stemmer = snowballstemmer.stemmer("finnish")
        _stemmers.finnish = stemmer
    return stemmer


def stem_finnish(text: str) -> str:
    """Reduce Finnish text to space-separated word stems, for the SQLite full-text index.

    The same function must be applied when indexing and when querying, so that
    "kirjastojärjestelmässä" finds "kirjastojärjestelmän".
    """
    # The words are the runs of letters and digits of the lower-cased text. None spans
    # white space, so each distinct white-space separated chunk is split into words and
    # stemmed once: a module repeats its chunks (and words) many times over, and the
    # regular expression costs more than the dictionaries (an import stems 20 MB of text).
    chunks = text.lower().split()
    words_of = {chunk: _TOKEN.findall(chunk) for chunk in dict.fromkeys(chunks)}
    distinct = list(dict.fromkeys(word for words in words_of.values() for word in words))
    stems = dict(zip(distinct, _finnish_stemmer().stemWords(distinct), strict=True))
    # A chunk of punctuation alone has no words, and leaves nothing in the result.
    stemmed = {
        chunk: " ".join([stems[word] for word in words])
        for chunk, words in words_of.items()
        if words
    }
    return " ".join([stemmed[chunk] for chunk in chunks if chunk in stemmed])
