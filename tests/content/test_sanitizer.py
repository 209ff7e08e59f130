"""Nothing an editor writes can run script in a learner's browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from liboppi.content.render import render_markdown, sanitize_html

# From the OWASP XSS filter evasion cheat sheet and similar lists.
XSS_HTML = [
    "<script>alert('XSS')</script>",
    "<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>",
    '<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>',
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114'
    '&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116">',
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;"
    "&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74"
    "&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    '<a onmouseover="alert(document.cookie)">xxs link</a>',
    '<a href="&#x6A;avascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" alt="x">',
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<IMG DYNSRC=\"javascript:alert('XSS')\">",
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<IMG STYLE=\"xss:expr/*XSS*/ession(alert('XSS'))\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,PHNjcmlwdD4K">',
    "<iframe src=http://xss.rocks/scriptlet.html <",
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<svg/onload=alert('XSS')>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<form><button formaction=javascript:alert(1)>x</button></form>",
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    '<aside class="callout" role="note" onclick="alert(1)" style="color:red">x</aside>',
    '<h2 id="x" onmouseover="alert(1)" style="position:fixed">x</h2>',
]

XSS_MARKDOWN = [
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](java\tscript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "[ref]: javascript:alert(1)\n\n[x][ref]",
    "## <img src=x onerror=alert(1)>",
    "::: tip <script>alert(1)</script>\nx\n:::",
    "Alaviite[^<script>]\n\n[^<script>]: <img src=x onerror=alert(1)>",
    "| <script>alert(1)</script> |\n|---|\n| <a href=javascript:alert(1)>x</a> |",
    "Termi <svg onload=alert(1)>\n: <style>body{}</style>",
    *XSS_HTML,
]


class _Markup(HTMLParser):
    """Collects the tags and attributes of an HTML fragment, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.start_tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.start_tags.append(self.get_starttag_text() or "")
        self.attributes.extend((name, value or "") for name, value in attrs)


def assert_harmless(html: str) -> None:
    """Fail if ``html`` could run script: script tags, handlers, styles, script/data URLs."""
    markup = _Markup()
    markup.feed(html)
    markup.close()
    tags_text = " ".join(markup.start_tags).lower()

    assert "<script" not in html.lower()
    assert "script" not in markup.tags
    assert "javascript:" not in tags_text
    assert "vbscript:" not in tags_text
    assert not re.search(r"\son\w+\s*=", tags_text)
    assert "style=" not in tags_text
    for name, value in markup.attributes:
        assert not name.startswith("on"), name
        assert name != "style"
        if name in ("href", "src"):
            url = re.sub(r"[\x00-\x20]", "", value).lower()
            assert not url.startswith(("javascript:", "vbscript:", "data:")), value


@pytest.mark.parametrize("payload", XSS_HTML)
def test_the_sanitiser_makes_cheat_sheet_html_harmless(payload: str) -> None:
    assert_harmless(sanitize_html(payload))


@pytest.mark.parametrize("payload", XSS_MARKDOWN)
def test_rendered_markdown_is_harmless(payload: str) -> None:
    assert_harmless(render_markdown(payload, base_url_for_images="/media/x/").html)


def test_the_harmlessness_check_itself_catches_script() -> None:
    for dangerous in [
        "<script>x</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<img src="x" onerror="alert(1)">',
        '<p style="color:red">x</p>',
        '<img src="data:image/png;base64,AAAA">',
    ]:
        with pytest.raises(AssertionError):
            assert_harmless(dangerous)


def test_script_content_is_removed_not_shown() -> None:
    assert sanitize_html("<p>ennen</p><script>alert(1)</script><p>jälkeen</p>") == (
        "<p>ennen</p><p>jälkeen</p>"
    )


def test_only_the_renderers_classes_survive() -> None:
    html = sanitize_html(
        '<aside class="callout callout-tip evil" role="note">'
        '<p class="callout-title big">T</p></aside>'
        '<a href="https://x.fi" class="external-link button">x</a>'
    )

    assert html == (
        '<aside class="callout callout-tip" role="note"><p class="callout-title">T</p></aside>'
        '<a href="https://x.fi" class="external-link">x</a>'
    )


def test_unexpected_role_and_rel_values_are_dropped() -> None:
    html = sanitize_html(
        '<aside role="alert">x</aside><a href="https://x.fi" rel="opener">y</a><p id="p">z</p>'
    )

    assert html == '<aside>x</aside><a href="https://x.fi">y</a><p>z</p>'


def test_relative_and_allowed_scheme_urls_are_kept() -> None:
    html = sanitize_html(
        '<a href="02-verkko.md">a</a><a href="#fn1">b</a><a href="mailto:k@l.fi">c</a>'
        '<img src="/media/kartta.png" alt="Kartta">'
    )

    assert html == (
        '<a href="02-verkko.md">a</a><a href="#fn1">b</a><a href="mailto:k@l.fi">c</a>'
        '<img src="/media/kartta.png" alt="Kartta">'
    )
