"""Grading: single responses of any shape, and whole attempts against the pass mark."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liboppi.quiz.format import parse_quiz
from liboppi.quiz.grading import AttemptResult, grade, grade_attempt
from liboppi.quiz.registry import get_question_type
from liboppi.quiz.source import Question

ATTEMPT_QUIZ = parse_quiz(
    "attempt.md",
    """\
---
id: attempt-quiz
title: Attempt
---

## one
type: single

Pick B.

- [ ] A
- [x] B

## two
type: multiple
points: 2

Pick A and B.

- [x] A
- [x] B
- [ ] C

## feeling
type: likert

How do you feel?

- Unsure
- Sure

## num
type: numeric
answer: 3

Three?

## pairs
type: matching

Match.

- a -> 1
- b -> 2

## steps
type: ordering

Order.

1. x
2. y
3. z

## word
type: short
accept: [sana]

Word?

## claim
type: truefalse
answer: false

The sky is green.
""",
)
ONE, TWO, FEELING = (ATTEMPT_QUIZ.get_question(name) for name in ("one", "two", "feeling"))


def choice(question: Question, *texts: str) -> list[str]:
    """Return the ids of the options with ``texts``."""
    return [option.id for option in question.data.options if option.text in texts]


def test_a_fully_right_attempt_earns_every_point_and_passes() -> None:
    result = grade_attempt(
        [ONE, TWO, FEELING],
        {"one": choice(ONE, "B")[0], "two": choice(TWO, "A", "B"), "feeling": "2"},
        0.7,
    )
    assert (result.points, result.max_points, result.scaled, result.has_passed) == (
        3.0,
        3.0,
        1.0,
        True,
    )


def test_points_weight_each_questions_score() -> None:
    result = grade_attempt([ONE, TWO], {"one": choice(ONE, "A")[0], "two": choice(TWO, "A")}, 0.7)
    assert (result.points, result.max_points) == (1.0, 3.0)
    assert result.scaled == pytest.approx(1 / 3)
    assert result.has_passed is False


def test_likert_questions_are_left_out_of_the_points() -> None:
    result = grade_attempt([ONE, FEELING], {"one": choice(ONE, "B")[0]}, 1.0)
    assert (result.points, result.max_points, result.has_passed) == (1.0, 1.0, True)
    assert result.per_question["feeling"].score is None
    assert result.per_question["feeling"].is_answered is True


def test_a_quiz_of_only_likert_questions_cannot_be_failed() -> None:
    result = grade_attempt([FEELING], {}, 1.0)
    assert result == AttemptResult(0.0, 0.0, 1.0, True, result.per_question)


def test_missing_responses_count_as_unanswered() -> None:
    result = grade_attempt([ONE, TWO], {}, 0.0)
    assert result.points == 0.0
    assert result.has_passed is True, "a pass mark of 0 is passed by anyone"
    assert [item.is_answered for item in result.per_question.values()] == [False, False]


def test_responses_that_are_not_a_mapping_count_as_unanswered() -> None:
    result = grade_attempt([ONE], ["junk"], 0.5)  # type: ignore[arg-type]
    assert (result.points, result.has_passed) == (0.0, False)


def test_a_learner_exactly_at_the_pass_mark_passes_despite_float_rounding() -> None:
    questions = [replace(ONE, id=f"q{number}") for number in range(10)]
    right = choice(ONE, "B")[0]
    responses = {f"q{number}": right for number in range(3)}
    result = grade_attempt(questions, responses, 0.1 + 0.2)
    assert result.scaled == pytest.approx(0.3)
    assert result.has_passed is True


def test_a_pass_mark_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError):
        grade_attempt([ONE], {}, 70)


def test_grading_an_attempt_twice_gives_the_same_result() -> None:
    responses = {"one": choice(ONE, "B")[0], "two": choice(TWO, "A", "C")}
    first = grade_attempt(ATTEMPT_QUIZ.questions, responses, 0.5)
    assert grade_attempt(ATTEMPT_QUIZ.questions, responses, 0.5) == first


JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary(max_size=10)
    | st.integers(min_value=10_001, max_value=50_000).map(lambda size: "9" * size),
    lambda children: (
        st.lists(children, max_size=4)
        | st.tuples(children, children)
        | st.dictionaries(st.text(max_size=5), children, max_size=4)
        | st.frozensets(st.integers(), max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, database=None)
@given(st.sampled_from(ATTEMPT_QUIZ.questions), JUNK)
def test_grading_any_response_shape_never_raises(question: Question, response: object) -> None:
    result = grade(question, response)
    if get_question_type(question.type).is_graded:
        assert result.score is not None and 0.0 <= result.score <= 1.0
        assert result.is_correct is (result.score == 1.0) or not result.is_correct
    else:
        assert result.score is None
    assert grade(question, response) == result


def component_ids(question: Question) -> list[str]:
    """Return every id a response to the question may name."""
    data = question.data
    found: list[str] = []
    for attribute in ("options", "items"):
        found += [component.id for component in getattr(data, attribute, ())]
    for pair in getattr(data, "pairs", ()):
        found += [pair.source_id, pair.target_id]
    return found + ["1", "2", "true", "3", "nope"]


@settings(max_examples=400, deadline=None, database=None)
@given(st.sampled_from(ATTEMPT_QUIZ.questions), st.data())
def test_scores_of_well_formed_responses_stay_between_zero_and_one(
    question: Question, data: st.DataObject
) -> None:
    known = st.sampled_from(component_ids(question))
    response = data.draw(
        st.one_of(
            known,
            st.lists(known, max_size=6),
            st.dictionaries(known, known, max_size=4),
            st.dictionaries(known, st.integers(-2, 6).map(str), max_size=4),
        )
    )
    result = grade(question, response)
    assert result.score is None or 0.0 <= result.score <= 1.0
    assert result.is_correct is False or result.score == 1.0
