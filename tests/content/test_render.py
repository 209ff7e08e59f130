"""Rendering module Markdown: the HTML a learner sees, its table of contents and search text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liboppi.content import render
from liboppi.content.render import (
    TocEntry,
    count_words,
    markdown_parser,
    render_markdown,
    slugify,
    stem_finnish,
)


def html_of(body: str, **kwargs) -> str:
    kwargs.setdefault("base_url_for_images", None)
    return render_markdown(body, **kwargs).html


def test_tables_render_with_alignment_as_classes_not_styles() -> None:
    html = html_of("| Palvelu | Hinta |\n|:--|--:|\n| Lainaus | 0 € |\n")

    assert '<th class="align-left">Palvelu</th>' in html
    assert '<td class="align-right">0 €</td>' in html
    assert "style" not in html


def test_footnotes_link_both_ways() -> None:
    html = html_of("Kirjastolaki[^1] on vuodelta 2016.\n\n[^1]: Laki yleisistä kirjastoista.\n")

    assert '<sup class="footnote-ref"><a href="#fn1" id="fnref1">[1]</a></sup>' in html
    assert '<section class="footnotes">' in html
    assert '<li id="fn1" class="footnote-item"><p>Laki yleisistä kirjastoista.' in html
    assert '<a href="#fnref1" class="footnote-backref">' in html


def test_definition_lists_render_as_dl() -> None:
    html = html_of("Kaukolaina\n: Laina toisesta kirjastosta.\n")

    assert "<dl>\n<dt>Kaukolaina</dt>\n<dd>Laina toisesta kirjastosta.</dd>\n</dl>" in html


def test_headings_get_ascii_anchor_ids_from_finnish_text() -> None:
    html = html_of("## Yleisen kirjaston tehtävät\n\n### Sámi: Čálli ja Đuolla, ŋ\n")

    assert '<h2 id="yleisen-kirjaston-tehtavat">Yleisen kirjaston tehtävät</h2>' in html
    assert '<h3 id="sami-calli-ja-duolla-n">' in html


def test_repeated_headings_get_distinct_ids() -> None:
    toc = render_markdown("## Kertaus\n\n## Kertaus\n", base_url_for_images=None).toc

    assert [entry.id for entry in toc] == ["kertaus", "kertaus-1"]


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Yleisen kirjaston tehtävät", "yleisen-kirjaston-tehtavat"),
        ("Åbo & Öljy", "abo-oljy"),
        ("  Koha: lainaus (2024)  ", "koha-lainaus-2024"),
        ("!!!", "osio"),
    ],
)
def test_slugify_makes_readable_ascii_ids(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_table_of_contents_lists_headings_in_order() -> None:
    body = "## Johdanto\n\nTeksti.\n\n### `Koha` ja lainaus\n\n## Lopuksi\n"

    assert render_markdown(body, base_url_for_images=None).toc == [
        TocEntry(level=2, id="johdanto", text="Johdanto"),
        TocEntry(level=3, id="koha-ja-lainaus", text="Koha ja lainaus"),
        TocEntry(level=2, id="lopuksi", text="Lopuksi"),
    ]


@pytest.mark.parametrize(
    ("kind", "label"), [("tip", "Vinkki"), ("warning", "Huomio"), ("note", "Muista")]
)
def test_callouts_render_as_asides_with_finnish_default_titles(kind: str, label: str) -> None:
    html = html_of(f"::: {kind}\nMuista kuitata laina.\n:::\n")

    assert html == (
        f'<aside class="callout callout-{kind}" role="note">\n'
        f'<p class="callout-title">{label}</p>\n'
        "<p>Muista kuitata laina.</p>\n"
        "</aside>\n"
    )


def test_callout_titles_come_from_the_given_labels() -> None:
    labels = {"tip": "Tips", "warning": "Varning", "note": "Kom ihåg"}

    html = html_of("::: note\nText.\n:::\n", labels=labels)

    assert '<p class="callout-title">Kom ihåg</p>' in html


def test_a_callout_may_have_its_own_title() -> None:
    html = html_of("::: warning Tietosuoja ensin\nÄlä kysy henkilötunnusta.\n:::\n")

    assert '<p class="callout-title">Tietosuoja ensin</p>' in html


def test_callout_titles_are_escaped() -> None:
    html = html_of("::: tip <b>x</b>\nTeksti.\n:::\n", labels={"tip": "<i>y</i>"})

    assert '<p class="callout-title">&lt;b&gt;x&lt;/b&gt;</p>' in html
    assert html_of("::: tip\nx\n:::\n", labels={"tip": "<i>y</i>"}).count("&lt;i&gt;") == 1


def test_an_unknown_container_is_not_a_callout() -> None:
    html = html_of("::: danger\nTeksti.\n:::\n")

    assert "<aside" not in html


def test_external_links_are_marked_without_opening_new_windows() -> None:
    html = html_of(
        "[Finna](https://www.finna.fi/) ja [oma](https://liboppi.test/kurssit)",
        site_host="liboppi.test",
    )

    assert (
        '<a href="https://www.finna.fi/" rel="noopener noreferrer external" '
        'class="external-link">Finna</a>'
    ) in html
    assert '<a href="https://liboppi.test/kurssit">oma</a>' in html
    assert "target" not in html


def test_relative_links_are_not_external_and_may_be_resolved() -> None:
    html = html_of(
        "[Seuraava](02-verkko.md) ja [alas](#lopuksi)",
        resolve_link=lambda href: (
            "/oppiminen/perehdytys-verkko" if href == "02-verkko.md" else None
        ),
    )

    assert '<a href="/oppiminen/perehdytys-verkko">Seuraava</a>' in html
    assert '<a href="#lopuksi">alas</a>' in html
    assert "external" not in html


def test_mailto_links_are_kept() -> None:
    assert '<a href="mailto:kirjasto@rovaniemi.fi">' in html_of("<mailto:kirjasto@rovaniemi.fi>")


def test_relative_images_resolve_against_the_base_url() -> None:
    html = html_of(
        "![Kartta](kuvat/kartta.png) ![Logo](https://lapinkirjasto.fi/logo.png) "
        "![Ylä](/static/y.png)",
        base_url_for_images="/media/perehdytys",
    )

    assert '<img src="/media/perehdytys/kuvat/kartta.png" alt="Kartta">' in html
    assert '<img src="https://lapinkirjasto.fi/logo.png" alt="Logo">' in html
    assert '<img src="/static/y.png" alt="Ylä">' in html


def test_images_stay_as_written_without_a_base_url() -> None:
    assert '<img src="kartta.png" alt="Kartta">' in html_of("![Kartta](kartta.png)")


def test_raw_html_in_markdown_is_shown_as_text() -> None:
    html = html_of("Tämä <b>ei</b> ole lihavoitu.\n")

    assert html == "<p>Tämä &lt;b&gt;ei&lt;/b&gt; ole lihavoitu.</p>\n"


def test_plain_text_and_word_count_cover_the_readable_text() -> None:
    body = (
        "## Kirjastolaki\n\n"
        "Laki on **tärkeä**[^1].\n\n"
        "![Lapin kartta](kartta.png)\n\n"
        "::: tip\nKysy neuvoa.\n:::\n\n"
        "[^1]: Vuodelta 2016.\n"
    )

    rendered = render_markdown(body, base_url_for_images=None)

    assert rendered.plain_text == (
        "Kirjastolaki\nLaki on tärkeä.\nLapin kartta\nKysy neuvoa.\nVuodelta 2016."
    )
    assert rendered.word_count == 10
    assert "Vinkki" not in rendered.plain_text


def test_the_markdown_parser_is_built_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = markdown_parser()

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("MarkdownIt constructed during a render")

    monkeypatch.setattr(render, "MarkdownIt", fail)
    render_markdown("## Osio\n", base_url_for_images=None)
    render_markdown("Toinen.\n", base_url_for_images=None)

    assert markdown_parser() is parser


def test_finnish_inflections_share_one_stem() -> None:
    stems = stem_finnish(
        "Kirjastojärjestelmän kirjastojärjestelmässä, kirjastojärjestelmä!"
    ).split()

    assert len(stems) == 3
    assert len(set(stems)) == 1


def test_stemming_lower_cases_and_drops_punctuation() -> None:
    assert stem_finnish("Lainaus, LAINAUKSET; lainauksen.") == stem_finnish(
        "lainaus lainaukset lainauksen"
    )
    assert stem_finnish("  — !? ") == ""


def test_word_count_joins_hyphens_and_apostrophes_between_letters_only() -> None:
    rendered = render_markdown(
        "E-kirja ja O’Reillyn kirja: lainaa--palauta, 2-3 kertaa _x_ -.\n",
        base_url_for_images=None,
    )

    # E-kirja, ja, O’Reillyn, kirja, lainaa, palauta, 2-3, kertaa, x
    assert rendered.word_count == 9


# Letters whose lower case depends on their neighbours (final sigma) or grows (İ), the
# word joiners, and white space of several kinds, including the kinds str.split() knows.
_WORDS_ALPHABET = "aäÖΣσİ9_-’'. ,\t\n\r\x1c\x85\xa0\u2028\u3000"


@given(st.text(alphabet=st.sampled_from(_WORDS_ALPHABET), max_size=80) | st.text(max_size=80))
def test_words_are_counted_and_stemmed_as_over_the_whole_text(text: str) -> None:
    # count_words and stem_finnish work chunk by chunk; the result must be that of the
    # patterns run over the whole text at once.
    word = re.compile(r"[^\W_]++(?:['’-][^\W_]++)*+")
    tokens = re.findall(r"[^\W_]+", text.lower())
    stemmer = render._finnish_stemmer()

    assert count_words(text) == len(word.findall(text))
    assert stem_finnish(text) == " ".join(stemmer.stemWords(tokens))
