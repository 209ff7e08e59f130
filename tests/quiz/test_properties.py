"""Properties over generated quizzes: round trips, answer-free views, total grading."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liboppi.quiz.format import parse_quiz, serialise_quiz
from liboppi.quiz.gift import export_gift, gift_unsupported_reason, parse_gift
from liboppi.quiz.grading import grade, grade_attempt
from liboppi.quiz.order import draw_questions, option_order
from liboppi.quiz.registry import get_question_type
from liboppi.quiz.source import (
    FEEDBACK_RULES,
    LAYOUTS,
    REVIEW_RULES,
    DrawRule,
    Question,
    QuizSettings,
    QuizSource,
)
from liboppi.quiz.types.base import content_id
from liboppi.quiz.types.choices import ChoiceData, Option
from liboppi.quiz.types.likert import LikertData
from liboppi.quiz.types.matching import MatchingData, Pair
from liboppi.quiz.types.numeric import NumericData, number_text
from liboppi.quiz.types.ordering import OrderingData, Step
from liboppi.quiz.types.short import ShortData
from liboppi.quiz.types.truefalse import TrueFalseData
from tests.quiz.public_views import VIEW_KEYS, view_keys

# Texts start with a letter so that a line of text never opens Markdown structure of the
# quiz format (a list item, a blockquote, a heading); after that, anything GIFT and YAML
# must escape may follow. "FEEDBACK" cannot occur in them (no F, E, D, B, C or K).
FIRST = "abcdefghijklmnopqrstuvwxyzäöåÄÖÅQXZ"
INNER = FIRST + "0123456789 .,;!?'\"()#{}~=:\\%[]*_<>/&|+-@$^`"
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def normal(text: str) -> str:
    """Return text with whitespace runs collapsed, as ids and accepted answers see it."""
    return " ".join(text.split())


line = st.builds(
    lambda first, rest: (first + rest).rstrip(), st.sampled_from(FIRST), st.text(INNER, max_size=20)
)
text = st.tuples(st.lists(line, min_size=1, max_size=3), st.sampled_from(["\n", "\n\n"])).map(
    lambda parts: parts[1].join(parts[0])
)
feedback = st.none() | text.map(lambda value: f"FEEDBACK {value}")
unique_texts = st.lists(text, min_size=2, max_size=5, unique_by=normal)


@st.composite
def single_data(draw: st.DrawFn) -> ChoiceData:
    """Draw single-choice options with exactly one correct."""
    texts = draw(unique_texts)
    right = draw(st.integers(0, len(texts) - 1))
    return ChoiceData(
        tuple(
            Option(content_id(value), value, index == right, draw(feedback))
            for index, value in enumerate(texts)
        )
    )


@st.composite
def multiple_data(draw: st.DrawFn) -> ChoiceData:
    """Draw multiple-choice options with at least one correct."""
    texts = draw(unique_texts)
    marks = draw(st.lists(st.booleans(), min_size=len(texts), max_size=len(texts)))
    if not any(marks):
        marks[0] = True
    return ChoiceData(
        tuple(
            Option(content_id(value), value, mark, draw(feedback))
            for value, mark in zip(texts, marks, strict=True)
        )
    )


finite = st.floats(allow_nan=False, allow_infinity=False)
numeric_data = st.one_of(
    st.builds(
        lambda answer, tolerance: NumericData(answer=answer, tolerance=tolerance),
        finite,
        st.floats(min_value=0, max_value=1e6) | st.just(0.0),
    ),
    st.tuples(finite, finite).map(lambda pair: NumericData(range=(min(pair), max(pair)))),
)
short_data = st.builds(
    ShortData,
    st.lists(line.map(normal), min_size=1, max_size=3, unique=True).map(tuple),
    st.booleans(),
    st.booleans(),
)
truefalse_data = st.builds(
    TrueFalseData,
    st.booleans(),
    text.map(lambda value: f"FEEDBACK {value}") | st.none(),
    text.map(lambda value: f"FEEDBACK {value}") | st.none(),
)


@st.composite
def matching_data(draw: st.DrawFn) -> MatchingData:
    """Draw 2–4 pairs with distinct lefts; rights may repeat."""
    lefts = draw(
        st.lists(
            text.filter(lambda value: "->" not in value), min_size=2, max_size=4, unique_by=normal
        )
    )
    rights = draw(st.lists(text, min_size=len(lefts), max_size=len(lefts)))
    return MatchingData(
        tuple(
            Pair(content_id(left), left, content_id(right), right)
            for left, right in zip(lefts, rights, strict=True)
        )
    )


ordering_data = unique_texts.map(
    lambda texts: OrderingData(tuple(Step(content_id(value), value) for value in texts))
)
likert_data = st.lists(line, min_size=2, max_size=5, unique=True).map(
    lambda labels: LikertData(tuple(labels))
)

DATA = {
    "single": single_data(),
    "multiple": multiple_data(),
    "truefalse": truefalse_data,
    "short": short_data,
    "numeric": numeric_data,
    "matching": matching_data(),
    "ordering": ordering_data,
    "likert": likert_data,
}


@st.composite
def questions(draw: st.DrawFn, question_id: str) -> Question:
    """Draw a question of any type with the given id."""
    key = draw(st.sampled_from(sorted(DATA)))
    is_graded = get_question_type(key).is_graded
    return Question(
        id=question_id,
        type=key,
        prompt=draw(text),
        data=draw(DATA[key]),
        points=draw(st.sampled_from([1.0, 2.0, 0.5, 2.75]) | st.floats(0.01, 1000))
        if is_graded
        else 0.0,
        tags=tuple(
            draw(st.lists(st.sampled_from(["koha", "finna", "lainaus"]), max_size=2, unique=True))
        ),
        feedback=draw(st.none() | text.map(lambda value: f"FEEDBACK {value}")),
    )


@st.composite
def quizzes(draw: st.DrawFn) -> QuizSource:
    """Draw a valid quiz: settings, an optional draw rule, intro and questions."""
    ids = draw(
        st.lists(
            st.from_regex(r"[a-z0-9][a-z0-9-]{0,12}", fullmatch=True),
            min_size=1,
            max_size=6,
            unique=True,
        )
    )
    items = tuple(draw(questions(question_id)) for question_id in ids)
    pool = sum("koha" in question.tags for question in items)
    draw_rules = ()
    if pool and draw(st.booleans()):
        draw_rules = (DrawRule("koha", draw(st.integers(1, pool))),)
    quiz_settings = QuizSettings(
        pass_mark=draw(st.floats(0, 1)),
        attempts=draw(st.integers(0, 50)),
        time_limit=draw(st.none() | st.integers(1, 600)),
        shuffle_questions=draw(st.booleans()),
        shuffle_options=draw(st.booleans()),
        feedback=draw(st.sampled_from(FEEDBACK_RULES)),
        review=draw(st.sampled_from(REVIEW_RULES)),
        layout=draw(st.sampled_from(LAYOUTS)),
        draw=draw_rules,
    )
    return QuizSource(
        id=draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)),
        title=draw(line),
        settings=quiz_settings,
        intro=draw(st.just("") | text),
        questions=items,
    )


@SETTINGS
@given(quizzes())
def test_a_serialised_quiz_parses_back_to_the_same_quiz(quiz: QuizSource) -> None:
    text_once = serialise_quiz(quiz)
    parsed = parse_quiz("round-trip.md", text_once)
    assert parsed == quiz
    assert serialise_quiz(parsed) == text_once


@SETTINGS
@given(quizzes())
def test_an_exported_gift_file_imports_as_the_same_questions(quiz: QuizSource) -> None:
    imported = parse_gift("round-trip.gift", export_gift(quiz))
    expected = tuple(
        question for question in quiz.questions if gift_unsupported_reason(question) is None
    )
    assert imported.questions == expected
    assert imported.skipped == ()


@SETTINGS
@given(quizzes(), st.integers())
def test_public_views_never_hold_answers_or_feedback(quiz: QuizSource, seed: int) -> None:
    for question in quiz.questions:
        question_type = get_question_type(question.type)
        view = question_type.public_view(question, option_order=option_order(question, seed))
        dumped = json.dumps(view, ensure_ascii=False)
        assert view_keys(view) <= VIEW_KEYS
        assert "FEEDBACK" not in dumped
        if question.type == "ordering":
            assert [item["id"] for item in view["items"]] != list(
                question_type.option_ids(question)
            )


def correct_response(question: Question) -> Any:
    """Return a form response that answers the question correctly."""
    data = question.data
    if isinstance(data, ChoiceData):
        return list(data.correct_ids) if question.type == "multiple" else data.correct_ids[0]
    if isinstance(data, TrueFalseData):
        return "true" if data.answer else "false"
    if isinstance(data, ShortData):
        answer = data.accept[-1]
        return f"  {answer if data.case_sensitive else answer.upper()}  "
    if isinstance(data, NumericData):
        value = data.range[1] if data.range is not None else data.answer
        return number_text(value).replace(".", ",")
    if isinstance(data, MatchingData):
        return {pair.source_id: [pair.target_id] for pair in data.pairs}
    if isinstance(data, OrderingData):
        return {step.id: str(position) for position, step in enumerate(data.items, 1)}
    return "1"


@SETTINGS
@given(quizzes())
def test_the_correct_answer_always_earns_full_marks(quiz: QuizSource) -> None:
    responses = {question.id: correct_response(question) for question in quiz.questions}
    result = grade_attempt(quiz.questions, responses, quiz.settings.pass_mark)
    assert result.points == result.max_points
    assert result.has_passed is True
    for question in quiz.questions:
        assert (
            result.per_question[question.id].is_correct
            is get_question_type(question.type).is_graded
        )


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)


@SETTINGS
@given(quizzes(), st.lists(JUNK, min_size=6, max_size=6))
def test_grading_generated_questions_never_raises_and_stays_in_range(
    quiz: QuizSource, responses: list[object]
) -> None:
    for question, response in zip(quiz.questions, responses, strict=False):
        result = grade(question, response)
        assert result.score is None or 0.0 <= result.score <= 1.0
        assert grade(question, response) == result


@SETTINGS
@given(quizzes(), st.integers() | st.text())
def test_draws_are_repeatable_and_honour_the_draw_rules(quiz: QuizSource, seed: int | str) -> None:
    drawn = draw_questions(quiz, seed)
    assert drawn == draw_questions(quiz, seed)
    assert len(set(drawn)) == len(drawn)
    for rule in quiz.settings.draw:
        tagged = [
            question_id for question_id in drawn if rule.tag in quiz.get_question(question_id).tags
        ]
        assert len(tagged) == rule.count
