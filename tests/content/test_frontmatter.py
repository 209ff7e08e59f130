"""Splitting module files and validating their front matter, with exact problem positions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liboppi.content import frontmatter
from liboppi.content.frontmatter import (
    ModuleMeta,
    parse_module_meta,
    split_front_matter,
    split_lines,
)
from liboppi.content.problems import ContentError

PATH = "courses/perehdytys/01-a.md"


def meta_problems(text: str) -> list[str]:
    """The problems (as `path:line:col: message`) that reading ``text``'s front matter raises."""
    with pytest.raises(ContentError) as raised:
        parse_module_meta(split_front_matter(text, PATH), PATH)
    return [str(problem) for problem in raised.value.problems]


def read_meta(text: str) -> tuple[ModuleMeta, list[str]]:
    meta, warnings = parse_module_meta(split_front_matter(text, PATH), PATH)
    return meta, [str(warning) for warning in warnings]


def test_split_keeps_the_body_and_the_file_line_where_it_starts() -> None:
    split = split_front_matter("---\nid: a\ntitle: A\n---\n## Osio\n", PATH)

    assert split.front_matter == "id: a\ntitle: A\n"
    assert split.body == "## Osio\n"
    assert split.body_line == 5
    assert split.closing_line == 4


def test_split_counts_crlf_and_ignores_a_byte_order_mark() -> None:
    split = split_front_matter("\ufeff---\r\nid: a\r\n---\r\n\r\nTeksti\r\n", PATH)

    assert split.front_matter == "id: a\r\n"
    assert split.body == "\r\nTeksti\r\n"
    assert split.body_line == 4


def test_a_file_without_opening_fence_is_rejected_at_line_one() -> None:
    with pytest.raises(ContentError) as raised:
        split_front_matter("\n---\nid: a\n---\n", PATH)

    assert [str(p) for p in raised.value.problems] == [
        f"{PATH}:1:1: the file must start with a `---` line opening the front matter"
    ]


def test_front_matter_that_is_never_closed_is_rejected() -> None:
    with pytest.raises(ContentError) as raised:
        split_front_matter("---\nid: a\ntitle: A\n\n## Osio\n", PATH)

    assert str(raised.value) == (
        f"{PATH}:1:1: the front matter opened here is never closed with a `---` line"
    )


def test_yaml_syntax_error_is_reported_at_its_line_in_the_file() -> None:
    text = "---\nid: a\ntitle: Otsikko\n  tags: väärin sisennetty\n---\nTeksti\n"

    assert meta_problems(text) == [
        f"{PATH}:4:7: YAML syntax error: mapping values are not allowed here"
    ]


def test_unclosed_quote_is_reported_where_the_yaml_ends() -> None:
    text = '---\nid: a\ntitle: "Otsikko\n---\nTeksti\n'

    assert meta_problems(text) == [
        f"{PATH}:4:1: YAML syntax error: while scanning a quoted scalar, "
        "found unexpected end of stream"
    ]


def test_impossible_date_is_reported_at_the_value() -> None:
    text = "---\nid: a\ntitle: A\nupdated: 2024-13-45\n---\nTeksti\n"

    assert meta_problems(text) == [f"{PATH}:4:10: YAML value error: month must be in 1..12"]


def test_python_tags_are_refused_by_the_safe_loader() -> None:
    text = "---\nid: a\ntitle: !!python/object/apply:os.system [ls]\n---\nTeksti\n"

    problems = meta_problems(text)

    assert len(problems) == 1
    assert problems[0].startswith(
        f"{PATH}:3:8: YAML value error: could not determine a constructor"
    )


def test_control_character_in_front_matter_is_located() -> None:
    assert meta_problems("---\nid: a\ntitle: A\x07\n---\nTeksti\n") == [
        f"{PATH}:3:9: YAML does not allow the character U+0007 here"
    ]


def test_missing_id_is_reported_at_the_opening_fence() -> None:
    assert meta_problems("---\ntitle: A\n---\nTeksti\n") == [
        f"{PATH}:1:1: missing required key `id`"
    ]


def test_empty_front_matter_names_the_required_keys() -> None:
    assert meta_problems("---\n---\nTeksti\n") == [
        f"{PATH}:1:1: the front matter is empty: write at least `id` and `title`"
    ]


def test_front_matter_that_is_a_list_is_rejected() -> None:
    assert meta_problems("---\n- id: a\n---\nTeksti\n") == [
        f"{PATH}:2:1: expected a mapping of `key: value` lines, found a list"
    ]


@pytest.mark.parametrize("bad_id", ["Perehdytys", "kirjasto_laki", "-alku", "ä-kirjain", "a b"])
def test_id_outside_the_pattern_is_reported_at_the_id_line(bad_id: str) -> None:
    text = f"---\ntitle: A\nid: '{bad_id}'\n---\nTeksti\n"

    assert meta_problems(text) == [
        f"{PATH}:3:1: `id` `{bad_id}` is not a valid id: use lower-case letters a-z, "
        "digits and hyphens, starting with a letter or digit"
    ]


def test_id_that_yaml_reads_as_true_asks_for_quotes() -> None:
    assert meta_problems("---\nid: yes\ntitle: A\n---\nTeksti\n") == [
        f"{PATH}:2:1: `id` must be text, not true/false (true); put it in quotes"
    ]


def test_every_wrong_type_is_reported_at_once_each_at_its_key() -> None:
    text = (
        "---\n"
        "id: a\n"
        "title: 12\n"
        "estimated_minutes: 15 min\n"
        "objectives: Osaat asiat\n"
        "tags: [Koha]\n"
        "quiz: Quiz_1\n"
        "lang: de\n"
        "---\n"
        "Teksti\n"
    )

    assert meta_problems(text) == [
        f"{PATH}:3:1: `title` must be text, not a number (12); put it in quotes",
        f"{PATH}:4:1: `estimated_minutes` must be a whole number, not text",
        f"{PATH}:5:1: `objectives` must be a list (`[a, b]` or `- a` lines), not text",
        f"{PATH}:6:8: `tags` item 1 `Koha` is not a valid id: use lower-case letters a-z, "
        "digits and hyphens, starting with a letter or digit",
        f"{PATH}:7:1: `quiz` `Quiz_1` is not a valid id: use lower-case letters a-z, "
        "digits and hyphens, starting with a letter or digit",
        f"{PATH}:8:1: `lang` must be one of fi, sv, en, not `de`",
    ]


def test_a_bad_objective_is_reported_at_its_own_line() -> None:
    text = "---\nid: a\ntitle: A\nobjectives:\n  - Osaat lainata\n  - 3\n---\nTeksti\n"

    assert meta_problems(text) == [
        f"{PATH}:6:5: `objectives` item 2 must be text, not a number (3)"
    ]


def test_estimated_minutes_must_be_positive() -> None:
    assert meta_problems("---\nid: a\ntitle: A\nestimated_minutes: 0\n---\nx\n") == [
        f"{PATH}:4:1: `estimated_minutes` must be between 1 and 600, not 0"
    ]


def test_a_key_written_twice_is_an_error() -> None:
    assert meta_problems("---\nid: a\ntitle: A\nid: b\n---\nTeksti\n") == [
        f"{PATH}:4:1: duplicate key `id`"
    ]


def test_valid_front_matter_gives_typed_metadata() -> None:
    text = (
        "---\n"
        "id: perehdytys-kirjaston-tehtavat\n"
        "title: Yleisen kirjaston tehtävät\n"
        "estimated_minutes: 15\n"
        "objectives:\n"
        "  - Osaat kertoa kirjastolain tavoitteet omin sanoin.\n"
        "tags: [kirjastolaki, asiakaspalvelu]\n"
        "quiz: perehdytys-kirjaston-tehtavat-quiz\n"
        "lang: sv\n"
        "---\n"
        "Teksti\n"
    )

    meta, warnings = read_meta(text)

    assert meta == ModuleMeta(
        id="perehdytys-kirjaston-tehtavat",
        title="Yleisen kirjaston tehtävät",
        estimated_minutes=15,
        objectives=("Osaat kertoa kirjastolain tavoitteet omin sanoin.",),
        tags=("kirjastolaki", "asiakaspalvelu"),
        quiz="perehdytys-kirjaston-tehtavat-quiz",
        lang="sv",
    )
    assert warnings == []
    assert meta.position_of("quiz").line == 8


def test_missing_minutes_and_objectives_are_warnings_not_errors() -> None:
    meta, warnings = read_meta("---\nid: a\ntitle: A\n---\nTeksti\n")

    assert meta.id == "a"
    assert warnings == [
        f"{PATH}:1:1: warning: no `estimated_minutes`: learners plan their time with it",
        f"{PATH}:1:1: warning: no `objectives`: list what the learner will be able to do",
    ]


def test_an_empty_objectives_list_is_warned_about_at_its_key() -> None:
    _, warnings = read_meta("---\nid: a\ntitle: A\nestimated_minutes: 5\nobjectives: []\n---\nx\n")

    assert warnings == [
        f"{PATH}:5:1: warning: `objectives` is empty: list what the learner will be able to do"
    ]


def test_an_unknown_key_is_warned_about_as_a_likely_typo() -> None:
    text = "---\nid: a\ntitle: A\nestimated_minutes: 5\nobjectives: [x]\nobjective: y\n---\nx\n"

    _, warnings = read_meta(text)

    assert warnings == [
        f"{PATH}:6:1: warning: unknown key `objective` is ignored (known keys: "
        "estimated_minutes, id, lang, objectives, quiz, tags, title)"
    ]


@given(st.text(alphabet=st.sampled_from("ab \t-.ä\n\r\ufeff"), max_size=60))
def test_split_lines_cuts_where_the_line_pattern_does(text: str) -> None:
    # LF-only text takes a faster path than text with CR; both must cut like the pattern.
    assert split_lines(text) == frontmatter._LINE.findall(text)
    assert "".join(split_lines(text)) == text
