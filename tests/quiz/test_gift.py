"""Moodle GIFT import and export: every construct, the problems reported, and round trips."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liboppi.content.problems import ContentError
from liboppi.quiz.format import parse_quiz, serialise_quiz
from liboppi.quiz.gift import (
    GiftImport,
    escape,
    export_gift,
    parse_gift,
    parse_gift_file,
    quiz_from_gift,
    unescape,
)
from liboppi.quiz.source import Question


def gift(text: str, *, skip_unsupported: bool = False) -> GiftImport:
    """Import dedented GIFT text."""
    return parse_gift("moodle.gift", textwrap.dedent(text), skip_unsupported=skip_unsupported)


def only(text: str) -> Question:
    """Import GIFT text holding one question and return it."""
    imported = gift(text)
    assert len(imported.questions) == 1
    return imported.questions[0]


def gift_errors(text: str, **options: bool) -> list[str]:
    """Return the problems importing GIFT text reports, as strings."""
    with pytest.raises(ContentError) as raised:
        parse_gift("moodle.gift", textwrap.dedent(text), **options)
    return [str(problem) for problem in raised.value.problems]


def texts(question: Question) -> list[tuple[str, bool, str | None]]:
    """Return a choice question's options as (text, is_correct, feedback)."""
    return [(option.text, option.is_correct, option.feedback) for option in question.data.options]


def test_multiple_choice_with_one_right_answer_becomes_single() -> None:
    question = only(
        "::Grant::Who's buried in Grant's tomb?{~Grant#No. ~Jefferson =no one#Right!####Nobody is.}"
    )
    assert (question.id, question.type, question.prompt) == (
        "grant",
        "single",
        "Who's buried in Grant's tomb?",
    )
    assert texts(question) == [
        ("Grant", False, "No."),
        ("Jefferson", False, None),
        ("no one", True, "Right!"),
    ]
    assert question.feedback == "Nobody is."


def test_weighted_answers_without_an_equals_sign_become_multiple() -> None:
    imported = gift("What two? {~%50%A ~%50%B ~%-50%C}")
    assert imported.questions[0].type == "multiple"
    assert texts(imported.questions[0]) == [
        ("A", True, None),
        ("B", True, None),
        ("C", False, None),
    ]
    assert imported.warnings == ()


def test_multiple_answer_weights_that_differ_from_one_kth_are_approximated_with_a_warning() -> None:
    imported = gift("What two? {~%50%A ~%50%B ~%-100%C ~D}")
    assert [str(problem) for problem in imported.warnings] == [
        "moodle.gift:1:12: warning: answer weights approximated: Liboppi gives +50 % for each "
        "correct and -50 % for each wrong answer chosen"
    ]


def test_partial_credit_in_single_choice_counts_as_wrong_with_a_warning() -> None:
    imported = gift("Pick {=A ~%50%B ~%-25%C ~D}")
    assert texts(imported.questions[0])[1] == ("B", False, None)
    assert [str(problem) for problem in imported.warnings] == [
        "moodle.gift:1:11: warning: partial credit 50 % approximated: the answer counts as wrong",
        "moodle.gift:1:18: warning: negative weight -25 % ignored: "
        "single questions have no penalty",
    ]


@pytest.mark.parametrize(
    ("answer", "value", "feedback_true", "feedback_false"),
    [
        ("T", True, None, None),
        ("TRUE", True, None, None),
        ("F", False, None, None),
        ("FALSE", False, None, None),
        ("TRUE#Wrong!#Right!", True, "Right!", "Wrong!"),
        ("F#Wrong!#Right!", False, "Wrong!", "Right!"),
        ("T##Right!", True, "Right!", None),
    ],
)
def test_true_false_answers_and_their_wrong_and_right_feedback(
    answer: str, value: bool, feedback_true: str | None, feedback_false: str | None
) -> None:
    question = only(f"Grant is buried in Grant's tomb.{{{answer}}}")
    assert question.type == "truefalse"
    data = question.data
    assert (data.answer, data.feedback_true, data.feedback_false) == (
        value,
        feedback_true,
        feedback_false,
    )


def test_lowercase_true_is_a_short_answer_as_in_moodle() -> None:
    assert only("Say it {true}").type == "short"


def test_short_answer_accepts_every_equals_answer() -> None:
    question = only("Who's buried in Grant's tomb?{=no one =nobody}")
    assert (question.type, question.data.accept) == ("short", ("no one", "nobody"))


def test_short_answers_worth_part_of_the_marks_are_dropped_with_warnings() -> None:
    imported = gift("Name it {=%100%kaukolaina#Yes =%50%laina =kauko*}")
    assert imported.questions[0].data.accept == ("kaukolaina", "kauko*")
    assert [str(problem) for problem in imported.warnings] == [
        "moodle.gift:1:11: warning: feedback for a typed answer was dropped "
        "(short questions have none)",
        "moodle.gift:1:32: warning: answer 'laina' worth 50 % was dropped (no partial credit)",
        "moodle.gift:1:43: warning: answer 'kauko*': `*` is matched literally, not as a wildcard",
    ]


@pytest.mark.parametrize(
    ("block", "answer", "tolerance", "value_range"),
    [
        ("{#1822}", 1822.0, 0.0, None),
        ("{#1.5:0.1}", 1.5, 0.1, None),
        ("{#-3:0.5}", -3.0, 0.5, None),
        ("{#1..2}", None, 0.0, (1.0, 2.0)),
        ("{#=%50%1.5:0.1 =%100%1.5:0}", 1.5, 0.0, None),
        ("{#\n=1822:2#Close enough\n~#Too far\n}", 1822.0, 2.0, None),
    ],
)
def test_numeric_answers_give_a_tolerance_or_a_range(
    block: str, answer: float | None, tolerance: float, value_range: tuple[float, float] | None
) -> None:
    question = only(f"When was Grant born?{block}")
    assert question.type == "numeric"
    data = question.data
    assert (data.answer, data.tolerance, data.range) == (answer, tolerance, value_range)


def test_dropped_numeric_answers_and_feedback_are_warned_about() -> None:
    imported = gift("When? {#=%50%1.5:0.1 =1.5#Exactly ~#Wrong}")
    assert [problem.message for problem in imported.warnings] == [
        "feedback for wrong numbers was dropped",
        "numeric answer '1.5:0.1' worth 50 % was dropped",
        "feedback for a numeric answer was dropped",
    ]


def test_matching_pairs_become_a_matching_question() -> None:
    question = only(
        """\
        Match the countries with their capitals. {
            =Canada -> Ottawa
            =Italy -> Rome
            =Japan -> Tokyo
        }
        """
    )
    assert question.type == "matching"
    assert [(pair.source, pair.target) for pair in question.data.pairs] == [
        ("Canada", "Ottawa"),
        ("Italy", "Rome"),
        ("Japan", "Tokyo"),
    ]


def test_an_answer_block_inside_the_sentence_leaves_a_blank() -> None:
    question = only("Grant is {~buried =entombed ~living} in Grant's tomb.")
    assert question.prompt == "Grant is _____ in Grant's tomb."
    assert question.type == "single"


def test_escaped_characters_are_text() -> None:
    question = only(r"Escapes \~ \= \# \{ \} \: and \\ here\nnext line {=a\=b\#c}")
    assert question.prompt == "Escapes ~ = # { } : and \\ here\nnext line"
    assert question.data.accept == ("a=b#c",)


def test_comments_are_ignored_even_when_they_look_like_questions() -> None:
    imported = gift(
        """\
        // A comment {=not a question}
        // Another one

        Real? {T}
        // trailing comment
        """
    )
    assert [question.prompt for question in imported.questions] == ["Real?"]


def test_a_question_may_span_lines_and_questions_are_separated_by_blank_lines() -> None:
    imported = gift(
        """\
        ::First::
        Which one
        is right? {
        =this
        ~that

        ~other
        }

        ::Second::Sure? {F}
        """
    )
    first, second = imported.questions
    assert first.prompt == "Which one\nis right?"
    assert [option.text for option in first.data.options] == ["this", "that", "other"]
    assert (second.id, second.type) == ("second", "truefalse")


def test_a_byte_order_mark_and_crlf_line_breaks_are_read() -> None:
    text = "\ufeff// comment\r\n::Q1::Sure?{T}\r\n\r\n::Q2::Which?{\r\n=a\r\n~b\r\n}\r\n"
    imported = parse_gift("windows.gift", text)
    assert [question.id for question in imported.questions] == ["q1", "q2"]
    assert imported.questions[1].data.options[0].text == "a"


def test_a_gift_file_is_read_as_utf8_with_or_without_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "bom.gift").write_bytes("\ufeff::Sää::Onko? {T}\n".encode())
    (tmp_path / "plain.gift").write_bytes("::Sää::Onko? {T}\n".encode())
    for name in ("bom.gift", "plain.gift"):
        assert parse_gift_file(tmp_path / name, tmp_path).questions[0].id == "saa"


def test_a_gift_file_that_is_not_utf8_is_reported_at_the_bad_byte(tmp_path: Path) -> None:
    (tmp_path / "latin1.gift").write_bytes("// ok\n::S\u00e4\u00e4:: {T}\n".encode("latin-1"))
    with pytest.raises(ContentError) as raised:
        parse_gift_file(tmp_path / "latin1.gift", tmp_path)
    assert str(raised.value) == "latin1.gift:2:4: the file is not UTF-8 text (byte 0xe4)"


def test_the_category_is_reported() -> None:
    imported = gift(
        """\
        $CATEGORY: $course$/top/Koha

        Sure? {T}
        """
    )
    assert imported.category == "$course$/top/Koha"


def test_question_ids_come_from_moodle_ids_titles_or_positions() -> None:
    imported = gift(
        """\
        // [id:kirjastolaki-1]
        ::Anything::A? {T}

        ::Kirjaston tehtävät::B? {T}

        C? {T}

        ::Kirjaston tehtävät::D? {T}

        // [id:Not Valid]
        E? {T}
        """
    )
    assert [question.id for question in imported.questions] == [
        "kirjastolaki-1",
        "kirjaston-tehtavat",
        "q3",
        "kirjaston-tehtavat-2",
        "q5",
    ]


def test_moodle_tags_and_liboppi_settings_are_read_from_comments() -> None:
    question = only(
        """\
        // [tag:Koha] [tag:lainaus] [points:2.5] [case_sensitive:true]
        Name the system {=Koha}
        """
    )
    assert question.tags == ("koha", "lainaus")
    assert question.points == 2.5
    assert question.data.case_sensitive is True


@pytest.mark.parametrize(
    ("text", "prompt"),
    [
        ("[markdown]Is **this** bold? {T}", "Is **this** bold?"),
        (
            "[html]<p>Is <b>this</b> bold?</p><p>Second &amp; last</p> {T}",
            "Is **this** bold?\n\nSecond & last",
        ),
        ("[plain]Is 2*3*4 = 24? {T}", "Is 2\\*3\\*4 = 24?"),
        ("[moodle]Is <em>this</em> it? {T}", "Is *this* it?"),
        ("Plain moodle text *stays* {T}", "Plain moodle text *stays*"),
        (
            '[html]See <a href="https://finna.fi">Finna</a><br>now {T}',
            "See [Finna](https://finna.fi)\nnow",
        ),
    ],
)
def test_text_formats_become_markdown(text: str, prompt: str) -> None:
    assert only(text).prompt == prompt


def test_html_that_markdown_cannot_show_is_dropped_with_a_warning() -> None:
    imported = gift('[html]<p>Look <img src="x.png"> here</p> {T}')
    assert imported.questions[0].prompt == "Look here"
    assert [problem.message for problem in imported.warnings] == [
        "HTML the quiz format cannot show was dropped: <img>"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "::e:: Write an essay. {}",
            "moodle.gift:1:23: unsupported: essay questions ({}) need a person to grade them",
        ),
        (
            "Just a description.",
            "moodle.gift:1:1: unsupported: a description (text without an answer block) "
            "is not a question",
        ),
        (
            "Pick {=a =b ~c}",
            "moodle.gift:1:7: unsupported: 2 fully correct answers in a single-choice question "
            "(Liboppi's single type has one)",
        ),
        ("When? {#=1 =2}", "moodle.gift:1:13: unsupported: several fully correct numeric answers"),
        (
            "Match {=a -> 1 =b -> 2 = -> 3}",
            "moodle.gift:1:25: unsupported: extra right-hand answers (`= -> text`) "
            "have no left to match",
        ),
        ("Name {=%50%half}", "moodle.gift:1:7: unsupported: no answer earns full marks"),
    ],
)
def test_unsupported_questions_are_errors_unless_skipped(text: str, expected: str) -> None:
    assert gift_errors(text) == [expected]
    skipped = gift(f"{text}\n\nKept? {{T}}", skip_unsupported=True)
    assert [question.prompt for question in skipped.questions] == ["Kept?"]
    assert [str(problem) for problem in skipped.skipped] == [
        expected.replace(": unsupported", ": warning: unsupported", 1)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("::t:: Q {=a ~b", "moodle.gift:1:9: the answer block `{` is never closed with `}`"),
        ("Q } {=a ~b}", "moodle.gift:1:3: `}` without an opening `{` (write \\} for a brace)"),
        ("::t Q {=a ~b}", "moodle.gift:1:1: the question title `::...` is never closed with `::`"),
        (
            "Q {=a ~b} and {=c}",
            "moodle.gift:1:15: a question has one answer block; write \\{ and \\} for braces",
        ),
        ("Q {#abc}", "moodle.gift:1:5: 'abc' is not a number"),
        ("Q {#2..1}", "moodle.gift:1:5: a range must go from low to high: 2..1"),
        ("Q {=a -> b =c}", "moodle.gift:1:13: a matching pair is written `=left -> right`"),
        ("Q {~a}", "moodle.gift:1:4: a multiple-choice question needs at least 2 answers"),
        (
            "Q {~%200%a =b}",
            "moodle.gift:1:5: an answer weight must be from -100 % to 100 %, got 200 %",
        ),
        ("{=a ~b}", "moodle.gift:1:1: the question has no text"),
        (
            "$CATEGORY: a\nQ {=a}",
            "moodle.gift:1:1: put a blank line between $CATEGORY and the next question",
        ),
        (
            "Q {=a ~a}",
            "moodle.gift:1:8: the answer 'a' is given twice",
        ),
    ],
)
def test_gift_mistakes_are_reported_at_their_line(text: str, expected: str) -> None:
    assert gift_errors(text) == [expected]


def test_every_gift_error_is_reported_at_once() -> None:
    errors = gift_errors(
        """\
        Good? {T}

        Bad {#x}

        Worse {=a

        """
    )
    assert errors == [
        "moodle.gift:3:7: 'x' is not a number",
        "moodle.gift:5:7: the answer block `{` is never closed with `}`",
    ]


def test_escape_and_unescape_are_inverse() -> None:
    text = "a \\ b ~ = # { } : \n c"
    assert unescape(escape(text)) == text


EXPORT_QUIZ = parse_quiz(
    "export.md",
    """\
---
id: export-quiz
title: Export
---

## pick
type: single
points: 2
tags: [koha]

Which **one**?

- [x] Right: yes
  > Good {choice}
- [ ] Wrong = no

> General #1

## several
type: multiple

Which?

- [x] A
- [x] B
- [ ] C

## judge
type: truefalse
answer: false
feedback_false: "Right."

The sky is green.

## word
type: short
accept: ["kaukolaina", "%tricky"]
ignore_diacritics: true

Word?

## number
type: numeric
answer: 1.5
tolerance: 0.1

Number?

## between
type: numeric
range: [-2, 2]

Between?

## pairs
type: matching

Match.

- Koha -> system
- [Finna](https://finna.fi) -> search

## steps
type: ordering

Order.

1. a
2. b

## scale
type: likert

Sure?

- No
- Yes
""",
)


def test_export_writes_gift_that_moodle_reads() -> None:
    assert export_gift(EXPORT_QUIZ, category="$course$/top/Export") == textwrap.dedent(
        """\
        // Export
        // Liboppi quiz export-quiz

        $CATEGORY: $course$/top/Export

        // [id:pick] [tag:koha] [points:2]
        ::pick::[markdown]Which **one**?{
        \t=Right\\: yes#Good \\{choice\\}
        \t~Wrong \\= no
        \t####General \\#1
        }

        // [id:several]
        ::several::[markdown]Which?{
        \t~%50%A
        \t~%50%B
        \t~%-50%C
        }

        // [id:judge]
        ::judge::[markdown]The sky is green.{FALSE##Right.}

        // [id:word] [ignore_diacritics:true]
        ::word::[markdown]Word?{
        \t=kaukolaina
        \t=%100%%tricky
        }

        // [id:number]
        ::number::[markdown]Number?{#1.5:0.1}

        // [id:between]
        ::between::[markdown]Between?{#-2..2}

        // [id:pairs]
        ::pairs::[markdown]Match.{
        \t=Koha -> system
        \t=[markdown][Finna](https\\://finna.fi) -> search
        }

        // Left out: question steps: GIFT has no ordering questions.

        // Left out: question scale: GIFT has no likert questions.
        """
    )


def test_importing_an_export_gives_the_same_questions() -> None:
    imported = parse_gift("export.gift", export_gift(EXPORT_QUIZ))
    assert imported.questions == EXPORT_QUIZ.questions[:7]
    assert imported.warnings == ()


def test_a_short_answer_with_an_arrow_is_left_out_of_the_export() -> None:
    quiz = parse_quiz(
        "arrow.md", "---\nid: a\ntitle: A\n---\n## q\ntype: short\naccept: [a->b]\n\nP\n"
    )
    assert "// Left out: question q: an accepted answer contains `->`" in export_gift(quiz)


def test_an_import_becomes_a_quiz_file_that_reads_back() -> None:
    imported = gift("::Q1::Sure? {T}\n\n::Q2::Which? {=a ~b}")
    quiz = quiz_from_gift(imported, quiz_id="moodle-import", title="Moodle import")
    text = serialise_quiz(quiz)
    assert text.startswith("---\nid: moodle-import\ntitle: Moodle import\npass_mark: 0.7\n")
    assert parse_quiz("moodle-import.md", text).questions == imported.questions


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_arbitrary_text_raises_only_content_errors(text: str) -> None:
    try:
        parse_gift("fuzz.gift", text)
    except ContentError as error:
        assert error.problems


GIFT_SAMPLE = export_gift(EXPORT_QUIZ)


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(GIFT_SAMPLE)),
            st.integers(min_value=0, max_value=4),
            st.text(alphabet="{}~=#:%\\->.\n\r TF[]<>a1/$", max_size=5),
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_damaged_gift_files_raise_only_content_errors(
    edits: list[tuple[int, int, str]], skip_unsupported: bool
) -> None:
    text = GIFT_SAMPLE
    for position, length, insert in edits:
        text = text[:position] + insert + text[position + length :]
    try:
        parse_gift("fuzz.gift", text, skip_unsupported=skip_unsupported)
    except ContentError as error:
        assert all(problem.line >= 1 and problem.col >= 1 for problem in error.problems)
