"""The quiz file format: what parses, what each mistake reports, and writing quizzes back."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liboppi.content.problems import ContentError
from liboppi.quiz.format import parse_quiz, parse_quiz_file, serialise_quiz
from liboppi.quiz.source import DrawRule, QuizSettings

TYPES = "single, multiple, truefalse, short, numeric, matching, ordering, likert"
ID_RULE = "lowercase letters a-z, digits and hyphens, starting with a letter or digit"

FULL_QUIZ = """\
---
id: perehdytys-kirjaston-tehtavat-quiz
title: Yleisen kirjaston tehtävät – tarkistus
pass_mark: 0.7
attempts: 3
time_limit: 20
shuffle_questions: true
shuffle_options: false
feedback: immediately
review: after_pass
layout: all_on_one_page
draw:
  - tag: koha
    count: 1
---

Intro paragraph.

## kirjastolaki-maksuttomuus
type: single
points: 2
tags: [kirjastolaki]

Which of these is free of charge?

- [ ] Late-return fees
  > Feedback for a wrong option.
- [x] Borrowing the library's own material
  > Feedback for the right option.
- [ ] Interlibrary loans

> General feedback,
> over two lines.

## koha-varaus
type: truefalse
tags: [koha]
answer: true
feedback_true: "Right."

Koha can place holds.

## koha-haku
type: short
tags: [koha]
accept: ["varaus"]

What is a hold called?
"""


def problems_of(text: str, path: str = "quiz.md") -> list[str]:
    """Return the problems parse_quiz reports for a text, as strings."""
    with pytest.raises(ContentError) as raised:
        parse_quiz(path, text)
    return [str(problem) for problem in raised.value.problems]


def test_full_quiz_reads_every_setting() -> None:
    quiz = parse_quiz("quiz.md", FULL_QUIZ)
    assert quiz.id == "perehdytys-kirjaston-tehtavat-quiz"
    assert quiz.title == "Yleisen kirjaston tehtävät – tarkistus"
    assert quiz.settings == QuizSettings(
        pass_mark=0.7,
        attempts=3,
        time_limit=20,
        shuffle_questions=True,
        shuffle_options=False,
        feedback="immediately",
        review="after_pass",
        layout="all_on_one_page",
        draw=(DrawRule("koha", 1),),
    )
    assert quiz.intro == "Intro paragraph."
    assert [question.id for question in quiz.questions] == [
        "kirjastolaki-maksuttomuus",
        "koha-varaus",
        "koha-haku",
    ]


def test_question_parts_are_read_from_their_section() -> None:
    question = parse_quiz("quiz.md", FULL_QUIZ).questions[0]
    assert question.type == "single"
    assert question.points == 2
    assert question.tags == ("kirjastolaki",)
    assert question.prompt == "Which of these is free of charge?"
    assert question.feedback == "General feedback,\nover two lines."
    assert question.line == 19
    options = question.data.options
    assert [option.text for option in options] == [
        "Late-return fees",
        "Borrowing the library's own material",
        "Interlibrary loans",
    ]
    assert [option.is_correct for option in options] == [False, True, False]
    assert [option.feedback for option in options] == [
        "Feedback for a wrong option.",
        "Feedback for the right option.",
        None,
    ]


def test_omitted_settings_take_their_defaults(quiz_text: Callable[..., str]) -> None:
    quiz = parse_quiz("quiz.md", quiz_text("## q\ntype: short\naccept: [a]\n\nPrompt"))
    assert quiz.settings == QuizSettings()
    assert quiz.settings.pass_mark == 0.7
    assert quiz.settings.time_limit is None


def test_content_hash_is_the_sha256_of_the_utf8_bytes() -> None:
    quiz = parse_quiz("quiz.md", FULL_QUIZ)
    assert quiz.raw_text == FULL_QUIZ
    assert quiz.content_hash == hashlib.sha256(FULL_QUIZ.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_files_parse_like_lf_files(newline: str) -> None:
    assert parse_quiz("quiz.md", FULL_QUIZ.replace("\n", newline)) == parse_quiz(
        "quiz.md", FULL_QUIZ
    )


def test_a_byte_order_mark_is_ignored() -> None:
    assert parse_quiz("quiz.md", "\ufeff" + FULL_QUIZ) == parse_quiz("quiz.md", FULL_QUIZ)


def test_crlf_files_report_the_same_lines(quiz_text: Callable[..., str]) -> None:
    text = quiz_text("## q\ntype: essay\n\nPrompt")
    assert problems_of(text.replace("\n", "\r\n")) == problems_of(text)


def test_headings_and_options_inside_code_fences_belong_to_the_prompt(
    question_from: Callable[[str], object],
) -> None:
    question = question_from(
        """
        ## q
        type: single

        Look at this:

        ```
        ## not-a-question
        - [x] not an option
        > not feedback
        ```

        - [x] Yes
        - [ ] No
        """
    )
    assert "## not-a-question" in question.prompt
    assert [option.text for option in question.data.options] == ["Yes", "No"]


def test_options_may_span_lines_and_carry_multi_line_feedback(
    question_from: Callable[[str], object],
) -> None:
    question = question_from(
        """
        ## q
        type: multiple

        Choose.

        - [x] First line
          second line
          > Feedback one
          > feedback two
        - [ ] Other
        """
    )
    first = question.data.options[0]
    assert first.text == "First line\nsecond line"
    assert first.feedback == "Feedback one\nfeedback two"


def test_a_prompt_may_hold_a_list_when_the_type_has_no_answer_list(
    question_from: Callable[[str], object],
) -> None:
    question = question_from(
        """
        ## q
        type: short
        accept: [b]

        Which letter is missing?

        - a
        - c

        > b it is.
        """
    )
    assert question.prompt == "Which letter is missing?\n\n- a\n- c"
    assert question.feedback == "b it is."


def test_a_heading_may_end_with_closing_hashes(question_from: Callable[[str], object]) -> None:
    assert question_from("## q1 ##\ntype: short\naccept: [a]\n\nPrompt").id == "q1"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            "## q\ntype: essay\n\nPrompt",
            f"quiz.md:7:7: unknown question type 'essay'; use one of {TYPES}",
        ),
        ("## q\npoints: 1\n\nPrompt", f"quiz.md:7:1: the question needs `type:` (one of {TYPES})"),
        (
            "## Q1\ntype: short\naccept: [a]\n\nPrompt",
            f"quiz.md:6:4: question id 'Q1' must be {ID_RULE}",
        ),
        (
            "##\ntype: short\naccept: [a]\n\nPrompt",
            "quiz.md:6:1: a question heading `## ` needs the question's id",
        ),
        (
            "## q\n\ntype: single\n\nPrompt",
            "quiz.md:6:1: put the question's settings (such as `type: single`) on the lines "
            "directly under its heading",
        ),
        (
            "## q\ntype: single\n\nWhich?\n\n- [x] A\n- [x] B",
            "quiz.md:6:1: a single question needs exactly one correct option `- [x]`, found 2",
        ),
        (
            "## q\ntype: single\n\nWhich?\n\n- [ ] A\n- [ ] B",
            "quiz.md:6:1: a single question needs exactly one correct option `- [x]`, found none",
        ),
        (
            "## q\ntype: multiple\n\nWhich?\n\n- [ ] A\n- [ ] B",
            "quiz.md:6:1: a multiple question needs at least one correct option `- [x]`",
        ),
        (
            "## q\ntype: single\n\nWhich?\n\n- [x] A",
            "quiz.md:6:1: a single question needs at least 2 options",
        ),
        (
            "## q\ntype: single\n\nWhich?\n\n- [x] A\n- B",
            "quiz.md:12:3: an option starts with `[ ]` (wrong) or `[x]` (correct)",
        ),
        (
            "## q\ntype: single\n\nWhich?\n\n- [x] A\n- [ ] A",
            "quiz.md:12:3: the same option is already on line 11",
        ),
        (
            "## q\ntype: single\n\nWhich?\n\n- [x] A\n- [ ]",
            "quiz.md:12:3: the option has no text",
        ),
        (
            "## q\ntype: single\n\nWhich?",
            "quiz.md:6:1: a single question needs an answer list (`- ...` items)",
        ),
        (
            "## q\ntype: single\n\nWhich?\n\n- [x] A\n- [ ] B\n\nMore text.",
            "quiz.md:14:1: only a general-feedback blockquote (`> ...`) may follow the answer list",
        ),
        (
            "## q\ntype: single\n\nWhich?\n\n- [x] A\n> about A\n- [ ] B",
            "quiz.md:12:1: indent option feedback under its option: `  > ...`",
        ),
        (
            "## q\ntype: single\n\nWhich?\n\n- [x] A\n  > about A\n  more text\n- [ ] B",
            "quiz.md:13:1: option feedback (`> ...`) must come last under its option",
        ),
        (
            "## q\ntype: single\n\n- [x] A\n- [ ] B",
            "quiz.md:6:1: the question has no prompt: write it below the settings",
        ),
        (
            "## q\ntype: short\n\nPrompt",
            'quiz.md:6:1: a short question needs `accept: ["answer", ...]`',
        ),
        (
            "## q\ntype: short\naccept: []\n\nPrompt",
            "quiz.md:8:9: accept needs at least one answer",
        ),
        (
            "## q\ntype: short\naccept: [14]\n\nPrompt",
            'quiz.md:8:9: accepted answers must be text (quote numbers: "14"), got 14',
        ),
        (
            "## q\ntype: short\naccept: [a]\ncolour: red\n\nPrompt",
            "quiz.md:9:9: unknown key 'colour' for a short question (known: accept, "
            "case_sensitive, ignore_diacritics, points, tags, type)",
        ),
        (
            "## q\ntype: short\naccept: [a]\ncase_sensitive: maybe\n\nPrompt",
            "quiz.md:9:17: case_sensitive must be true or false, got 'maybe'",
        ),
        (
            "## q\ntype: short\naccept: [a]\npoints: -1\n\nPrompt",
            "quiz.md:9:9: points must be a number above 0, got -1",
        ),
        (
            "## q\ntype: short\naccept: [a]\ntags: [Koha]\n\nPrompt",
            f"quiz.md:9:7: tag 'Koha' must be {ID_RULE}",
        ),
        (
            "## q\ntype: short\naccept: [a]\ntags: koha\n\nPrompt",
            "quiz.md:9:7: tags must be a list such as [koha, lainaus], got 'koha'",
        ),
        (
            "## q\ntype: short\naccept: [a]\naccept: [b]\n\nPrompt",
            "quiz.md:9:1: the key 'accept' is given twice",
        ),
        (
            "## q\ntype: short\naccept: [a\n\nPrompt",
            "quiz.md:8:11: invalid YAML: expected ',' or ']', but got '<stream end>'",
        ),
        (
            "## q\njust words\n\nPrompt",
            "quiz.md:7:1: the question's settings must be `key: value` lines",
        ),
        (
            "## q\ntype: truefalse\n\nStatement.",
            "quiz.md:6:1: a truefalse question needs `answer: true` or `false`",
        ),
        (
            "## q\ntype: truefalse\nanswer: maybe\n\nStatement.",
            "quiz.md:8:9: answer must be true or false, got 'maybe'",
        ),
        (
            "## q\ntype: numeric\nanswer: lots\n\nHow many?",
            "quiz.md:8:9: answer must be a number, got 'lots'",
        ),
        (
            "## q\ntype: numeric\nanswer: .nan\n\nHow many?",
            "quiz.md:8:9: answer must be a number, got nan",
        ),
        (
            "## q\ntype: numeric\nanswer: 1\ntolerance: -1\n\nHow many?",
            "quiz.md:9:12: tolerance must be a number of 0 or more, got -1",
        ),
        (
            "## q\ntype: numeric\nanswer: 1\nrange: [1, 2]\n\nHow many?",
            "quiz.md:9:8: give either answer (and tolerance) or range, not both",
        ),
        (
            "## q\ntype: numeric\nrange: [2, 1]\n\nHow many?",
            "quiz.md:8:8: range must go from low to high, got [2.0, 1.0]",
        ),
        (
            "## q\ntype: numeric\nrange: [1]\n\nHow many?",
            "quiz.md:8:8: range must be two numbers [low, high], got a list",
        ),
        (
            "## q\ntype: numeric\n\nHow many?",
            "quiz.md:6:1: a numeric question needs `answer: NUMBER` or `range: [LOW, HIGH]`",
        ),
        (
            "## q\ntype: matching\n\nMatch.\n\n- a -> b",
            "quiz.md:6:1: a matching question needs at least 2 pairs `- left -> right`",
        ),
        (
            "## q\ntype: matching\n\nMatch.\n\n- a -> b\n- c",
            "quiz.md:12:3: a pair is written `- left text -> right text`",
        ),
        (
            "## q\ntype: matching\n\nMatch.\n\n- a -> b\n  > no\n- c -> d",
            "quiz.md:12:3: option feedback (an indented `> ...` line) is only for single and "
            "multiple questions, not matching",
        ),
        (
            "## q\ntype: ordering\n\nOrder.\n\n1. a\n3. b",
            "quiz.md:12:4: item number should be 2, not 3",
        ),
        (
            "## q\ntype: likert\npoints: 2\n\nHow well?\n\n- Badly\n- Well",
            "quiz.md:8:9: likert questions are not graded, so they have no points",
        ),
        (
            "## q\ntype: likert\n\nHow well?\n\n- Badly",
            "quiz.md:6:1: a likert question needs at least 2 scale labels `- ...`",
        ),
        (
            "## q\ntype: short\naccept: [a]\n\nPrompt\n\n```\ncode",
            "quiz.md:12:1: this code fence is never closed (add a closing ```)",
        ),
    ],
)
def test_each_question_mistake_is_reported_at_its_line_and_column(
    quiz_text: Callable[..., str], section: str, expected: str
) -> None:
    assert problems_of(quiz_text(section)) == [expected]


def test_a_duplicate_question_id_is_reported_at_the_second_heading(
    quiz_text: Callable[..., str],
) -> None:
    text = quiz_text(
        "## q\ntype: short\naccept: [a]\n\nOne", "## q\ntype: short\naccept: [b]\n\nTwo"
    )
    assert problems_of(text) == ["quiz.md:12:4: question id 'q' is already used on line 6"]


def test_every_misnumbered_ordering_item_is_reported(quiz_text: Callable[..., str]) -> None:
    text = quiz_text("## q\ntype: ordering\n\nOrder.\n\n- a\n- b")
    message = "ordering items are numbered `1.`, `2.`, ... in the correct order"
    assert problems_of(text) == [f"quiz.md:11:3: {message}", f"quiz.md:12:3: {message}"]


QUESTION = "## q\ntype: short\naccept: [a]\ntags: [koha]\n\nPrompt"


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("id: quiz\n", "quiz.md:1:1: the front matter needs `title:`"),
        ("title: T\n", "quiz.md:1:1: the front matter needs `id:`, the quiz's stable id"),
        ("id: Quiz One\ntitle: T\n", f"quiz.md:2:5: id 'Quiz One' must be {ID_RULE}"),
        ("id: quiz\ntitle: ''\n", "quiz.md:3:8: title must be text, got ''"),
        (
            "id: quiz\ntitle: T\npass_mark: 1.5\n",
            "quiz.md:4:12: pass_mark must be a number from 0 to 1 (0.7 = 70 %), got 1.5",
        ),
        (
            "id: quiz\ntitle: T\npass_mark: 70%\n",
            "quiz.md:4:12: pass_mark must be a number from 0 to 1 (0.7 = 70 %), got '70%'",
        ),
        (
            "id: quiz\ntitle: T\nattempts: -1\n",
            "quiz.md:4:11: attempts must be a whole number, 0 or more (0 = unlimited), got -1",
        ),
        (
            "id: quiz\ntitle: T\nattempts: true\n",
            "quiz.md:4:11: attempts must be a whole number, 0 or more (0 = unlimited), got true",
        ),
        (
            "id: quiz\ntitle: T\ntime_limit: 0\n",
            "quiz.md:4:13: time_limit must be a whole number of minutes above 0, got 0",
        ),
        (
            "id: quiz\ntitle: T\ntime_limit: 1.5\n",
            "quiz.md:4:13: time_limit must be a whole number of minutes above 0, got 1.5",
        ),
        (
            "id: quiz\ntitle: T\nshuffle_options: often\n",
            "quiz.md:4:18: shuffle_options must be true or false, got 'often'",
        ),
        (
            "id: quiz\ntitle: T\nfeedback: later\n",
            "quiz.md:4:11: feedback must be one of immediately, after_submit, never, got 'later'",
        ),
        (
            "id: quiz\ntitle: T\nreview: always\n",
            "quiz.md:4:9: review must be one of after_submit, after_pass, never, got 'always'",
        ),
        (
            "id: quiz\ntitle: T\nlayout: grid\n",
            "quiz.md:4:9: layout must be one of one_per_page, all_on_one_page, got 'grid'",
        ),
        (
            "id: quiz\ntitle: T\npass-mark: 0.5\n",
            "quiz.md:4:12: unknown setting 'pass-mark' (known: id, title, pass_mark, attempts, "
            "time_limit, shuffle_questions, shuffle_options, feedback, review, layout, draw)",
        ),
        ("id: quiz\ntitle: T\ntitle: U\n", "quiz.md:4:1: the key 'title' is given twice"),
        (
            "id: quiz\ntitle: T\ndraw:\n  - tag: finna\n    count: 1\n",
            "quiz.md:5:10: no question has the tag 'finna', so none can be drawn",
        ),
        (
            "id: quiz\ntitle: T\ndraw:\n  - tag: koha\n    count: 2\n",
            "quiz.md:6:12: cannot draw 2 questions tagged 'koha': the pool has only 1",
        ),
        (
            "id: quiz\ntitle: T\ndraw:\n  - tag: koha\n    count: 0\n",
            "quiz.md:6:12: the draw count must be a whole number, 1 or more, got 0",
        ),
        (
            "id: quiz\ntitle: T\ndraw:\n  - tag: koha\n    count: 1\n  - tag: koha\n    count: 1\n",
            "quiz.md:7:10: the tag 'koha' is drawn twice",
        ),
        (
            "id: quiz\ntitle: T\ndraw:\n  - tag: koha\n    number: 1\n",
            "quiz.md:6:13: unknown key 'number' in a draw entry (known: tag, count)\n"
            "quiz.md:5:5: a draw entry needs count",
        ),
        (
            "id: quiz\ntitle: T\ndraw: koha\n",
            "quiz.md:4:7: draw must be a list of `- tag: TAG` / `count: N` entries, got 'koha'",
        ),
        ("- id: quiz\n", "quiz.md:2:1: the front matter must be `key: value` lines"),
        ("id: [quiz\n", "quiz.md:2:10: invalid YAML: expected ',' or ']', but got '<stream end>'"),
    ],
)
def test_each_settings_mistake_is_reported_at_its_line_and_column(
    quiz_text: Callable[..., str], front: str, expected: str
) -> None:
    text = quiz_text(QUESTION, front=f"---\n{front}---\n")
    assert sorted(problems_of(text)) == sorted(expected.split("\n"))


def test_a_question_may_carry_only_one_drawn_tag(quiz_text: Callable[..., str]) -> None:
    front = (
        "---\nid: quiz\ntitle: T\ndraw:\n  - {tag: koha, count: 1}\n"
        "  - {tag: finna, count: 1}\n---\n"
    )
    text = quiz_text("## q\ntype: short\naccept: [a]\ntags: [koha, finna]\n\nPrompt", front=front)
    assert problems_of(text) == [
        "quiz.md:5:3: the question on line 9 has two drawn tags (koha, finna); "
        "a question can be drawn by one rule only"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "quiz.md:1:1: a quiz file starts with front matter: a line `---`, settings, `---`"),
        (
            "# Title\n",
            "quiz.md:1:1: a quiz file starts with front matter: a line `---`, settings, `---`",
        ),
        ("---\nid: q\n", "quiz.md:1:1: the front matter is not closed with a line `---`"),
        (
            "---\nid: q\ntitle: T\n---\nIntro only.\n",
            "quiz.md:5:1: the quiz has no questions (each starts with `## question-id`)",
        ),
        (
            "---\nid: q\ntitle: T\n---\n## a\ntype: x\n\n\ud800\n",
            "quiz.md:8:1: the text has a character UTF-8 cannot hold",
        ),
    ],
)
def test_file_level_mistakes_are_reported(text: str, expected: str) -> None:
    assert problems_of(text) == [expected]


def test_every_problem_in_a_file_is_reported_at_once(quiz_text: Callable[..., str]) -> None:
    text = quiz_text(
        "## q1\ntype: single\n\nWhich?\n\n- [x] A\n- [x] B",
        "## q2\ntype: numeric\nanswer: lots\n\nHow many?",
        "## q3\ntype: essay\n\nWrite.",
        front="---\nid: quiz\ntitle: T\npass_mark: 2\n---\n",
    )
    assert problems_of(text) == [
        "quiz.md:4:12: pass_mark must be a number from 0 to 1 (0.7 = 70 %), got 2",
        "quiz.md:7:1: a single question needs exactly one correct option `- [x]`, found 2",
        "quiz.md:17:9: answer must be a number, got 'lots'",
        f"quiz.md:22:7: unknown question type 'essay'; use one of {TYPES}",
    ]


def test_draw_counts_questions_that_have_other_problems(quiz_text: Callable[..., str]) -> None:
    text = quiz_text(
        "## q\ntype: short\ntags: [koha]\n\nPrompt",
        front="---\nid: quiz\ntitle: T\ndraw:\n  - {tag: koha, count: 1}\n---\n",
    )
    assert problems_of(text) == ['quiz.md:8:1: a short question needs `accept: ["answer", ...]`']


def test_a_quiz_file_is_reported_relative_to_the_content_root(tmp_path: Path) -> None:
    folder = tmp_path / "quizzes" / "perehdytys"
    folder.mkdir(parents=True)
    path = folder / "perehdytys-kirjaston-tehtavat-quiz.md"
    path.write_text(FULL_QUIZ, encoding="utf-8")
    quiz = parse_quiz_file(path, tmp_path)
    assert quiz.path == "quizzes/perehdytys/perehdytys-kirjaston-tehtavat-quiz.md"
    assert quiz.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_quiz_file_must_be_named_after_its_id(tmp_path: Path) -> None:
    path = tmp_path / "other-name.md"
    path.write_text(FULL_QUIZ, encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        parse_quiz_file(path, tmp_path)
    assert str(raised.value) == (
        "other-name.md:2:5: the quiz id 'perehdytys-kirjaston-tehtavat-quiz' must match the "
        "file name 'other-name'"
    )


def test_a_quiz_file_that_is_not_utf8_is_reported_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "quiz.md"
    path.write_bytes(b"---\nid: quiz\ntitle: K\xe4\n---\n")
    with pytest.raises(ContentError) as raised:
        parse_quiz_file(path, tmp_path)
    assert str(raised.value) == "quiz.md:3:9: the file is not UTF-8 text (byte 0xe4)"


def test_a_missing_quiz_file_is_a_content_error(tmp_path: Path) -> None:
    with pytest.raises(ContentError) as raised:
        parse_quiz_file(tmp_path / "gone.md", tmp_path)
    assert str(raised.value) == "gone.md:1:1: cannot read the file: No such file or directory"


def test_serialising_a_quiz_reads_back_the_same_quiz() -> None:
    quiz = parse_quiz("quiz.md", FULL_QUIZ)
    assert parse_quiz("again.md", serialise_quiz(quiz)) == quiz


def test_serialised_text_is_stable_when_written_twice() -> None:
    once = serialise_quiz(parse_quiz("quiz.md", FULL_QUIZ))
    assert serialise_quiz(parse_quiz("quiz.md", once)) == once


def test_serialised_quiz_is_written_the_way_an_editor_writes_it() -> None:
    text = serialise_quiz(parse_quiz("quiz.md", FULL_QUIZ))
    # Up to the second question, the file is exactly the one the editor wrote.
    assert text.startswith(FULL_QUIZ[: FULL_QUIZ.index("## koha-varaus")])


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_arbitrary_text_raises_only_content_errors(text: str) -> None:
    try:
        parse_quiz("fuzz.md", text)
    except ContentError as error:
        assert error.problems


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(FULL_QUIZ)),
            st.integers(min_value=0, max_value=5),
            st.text(alphabet="-#>[]x:{}`\n 1.!&*|'\"ä\t\r\\", max_size=6),
        ),
        max_size=6,
    )
)
def test_damaged_quiz_files_raise_only_content_errors(
    edits: list[tuple[int, int, str]],
) -> None:
    text = FULL_QUIZ
    for position, length, insert in edits:
        text = text[:position] + insert + text[position + length :]
    try:
        parse_quiz("fuzz.md", text)
    except ContentError as error:
        assert all(problem.line >= 1 and problem.col >= 1 for problem in error.problems)
