"""Hostile Markdown comes out harmless on the module page and in the editor preview.

The versions here are written with the service directly, past the checker, because the
renderer and nh3 are the defence that must hold even for text the checker never saw.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from liboppi.models import Module
from liboppi.services import content_import
from tests.web_client import post_form

from .conftest import MODULE_2

XSS_SAMPLES = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">klikkaa</a>',
    "<svg onload=alert(1)>",
    '<iframe src="https://evil.example"></iframe>',
    '<div style="background:url(javascript:alert(1))">tyyli</div>',
    '<a onmouseover="alert(1)">hiiri</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<object data="javascript:alert(1)"></object>',
    "[klikkaa](javascript:alert(1))",
    "[klikkaa](JaVaScRiPt:alert(1))",
    "[klikkaa](java&#x09;script:alert(1))",
    "[klikkaa](&#106;avascript:alert(1))",
    "[klikkaa](vbscript:msgbox(1))",
    "[klikkaa](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![kuva](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![kuva](javascript:alert(1))",
    '![kuva" onerror="alert(1)](x.png)',
    "[klikkaa](`javascript:alert(1))",
    '[klikkaa](https://example.org "title\\" onclick=\\"alert(1)")',
    "<!-- <script>alert(1)</script> -->",
    "::: tip <img src=x onerror=alert(1)>\nSisältö\n:::",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    "Termi\n: <img src=x onerror=alert(1)>",
    "Viite[^1]\n\n[^1]: <script>alert(1)</script>",
]

DANGEROUS_TAGS = {
    "script", "iframe", "object", "embed", "svg", "math", "style", "form", "input", "meta",
    "link", "base",
}  # fmt: skip


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def assert_harmless(fragment: str) -> None:
    """No active element, no event handler or style attribute, no script or data URL."""
    parser = _Tags()
    parser.feed(fragment)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in DANGEROUS_TAGS, fragment
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", (tag, attrs)
            if name in ("href", "src"):
                cleaned = re.sub(r"[\s\x00-\x1f]", "", value or "").lower()
                assert not cleaned.startswith(("javascript:", "vbscript:", "data:")), (tag, attrs)


def _content_of(page: str) -> str:
    start = page.index('<div class="prose module-content">')
    return page[start : page.index("</article>", start)]


@pytest.mark.parametrize("sample", XSS_SAMPLES)
def test_hostile_markdown_is_harmless_on_the_module_page(
    client, logged_in, imported, db_session, sample
):
    module = db_session.scalar(select(Module).filter_by(stable_id="testikurssi-lainaus"))
    content_import.add_version(
        db_session,
        module,
        module.course,
        MODULE_2 + f"\n{sample}\n\nLoppu.\n",
        targets={},
        site_host="liboppi.test",
    )
    db_session.commit()
    logged_in("learner")
    page = client.get("/courses/testikurssi/testikurssi-lainaus").get_data(as_text=True)
    content = _content_of(page)
    assert "Loppu." in content  # the sample was rendered, not dropped with the rest
    assert_harmless(content)


@pytest.mark.parametrize("sample", XSS_SAMPLES)
def test_hostile_markdown_is_harmless_in_the_editor_preview(client, logged_in, imported, sample):
    logged_in("editor")
    url = "/editor/modules/testikurssi-lainaus"
    form = {
        "title": "Lainaus",
        "base_version": "1",
        "body": f"\n{sample}\n\nLoppu.\n",
        "preview": "1",
    }
    page = post_form(client, url, form).get_data(as_text=True)
    preview = page[
        page.index("data-preview>") : page.index("</section>", page.index('id="preview"'))
    ]
    assert "Loppu." in preview
    assert_harmless(preview)
    fragment = post_form(client, f"{url}/preview", form, page=url).get_data(as_text=True)
    assert_harmless(fragment[fragment.index("data-preview") :])


def test_a_hostile_title_is_escaped_everywhere(client, logged_in, imported, db_session):
    module = db_session.scalar(select(Module).filter_by(stable_id="testikurssi-lainaus"))
    content_import.add_version(
        db_session,
        module,
        module.course,
        MODULE_2.replace("title: Lainaus ja palautus", "title: '<script>alert(1)</script>'"),
        targets={},
        site_host=None,
    )
    db_session.commit()
    logged_in("editor")
    for url in (
        "/courses/testikurssi",
        "/courses/testikurssi/testikurssi-lainaus",
        "/courses/testikurssi/testikurssi-kirjastojarjestelma",
        "/search?q=palautus",
        "/editor/courses/testikurssi",
        "/editor/modules/testikurssi-lainaus",
        "/editor/modules/testikurssi-lainaus/revisions",
    ):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in page, url


@pytest.mark.parametrize(
    "fragment",
    [
        "<script>x</script>",
        '<p onclick="x">a</p>',
        '<p style="color:red">a</p>',
        '<a href=" JaVa\tScript:alert(1)">a</a>',
        '<img src="data:image/png;base64,AAAA" alt="">',
    ],
)
def test_the_harmlessness_check_catches_each_danger(fragment):
    with pytest.raises(AssertionError):
        assert_harmless(fragment)
