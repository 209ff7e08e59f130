"""Grading responses: one question (never raises) and a whole attempt against its pass mark."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from liboppi.quiz.registry import get_question_type
from liboppi.quiz.source import Question
from liboppi.quiz.types.base import ResponseInvalid, Result, invalid

# Partial scores such as 1/3 + 1/3 + 1/3 add up to 0.9999999999999999 in floats; a
# learner exactly at the pass mark must pass.
PASS_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """The outcome of a whole attempt.

    ``points`` and ``max_points`` sum the graded questions only (likert is left out);
    ``scaled`` is points / max_points in 0–1 (1.0 when nothing in the attempt is graded,
    since nothing could be failed); ``per_question`` maps question id to its Result.
    """

    points: float
    max_points: float
    scaled: float
    has_passed: bool
    per_question: Mapping[str, Result]


def grade(question: Question, response: object) -> Result:
    """Grade any response to a question; never raises for any response shape.

    ``response`` may be raw form values or a canonical response. A shape no answer can
    have (wrong types, unknown option ids, oversized text) gives a result with
    ``is_valid`` False and score 0 (None for ungraded questions).
    """
    question_type = get_question_type(question.type)
    try:
        canonical = question_type.normalise_response(response)
    except ResponseInvalid as error:
        return invalid(str(error), is_graded=question_type.is_graded)
    return question_type.grade(question, canonical)


def grade_attempt(
    questions: Sequence[Question], responses: Mapping[str, object], pass_mark: float
) -> AttemptResult:
    """Grade every question of an attempt; a missing response counts as unanswered.

    Each question is worth its ``points`` times its score. The attempt passes when
    ``scaled`` reaches ``pass_mark`` (0–1).
    """
    if not 0 <= pass_mark <= 1:
        raise ValueError(f"pass_mark must be in 0..1, got {pass_mark!r}")
    if not isinstance(responses, Mapping):
        responses = {}
    per_question: dict[str, Result] = {}
    earned: list[float] = []
    possible: list[float] = []
    for question in questions:
        result = grade(question, responses.get(question.id))
        per_question[question.id] = result
        if result.score is not None:
            earned.append(result.score * question.points)
            possible.append(question.points)
    points = math.fsum(earned)
    max_points = math.fsum(possible)
    scaled = min(1.0, points / max_points) if max_points else 1.0
    return AttemptResult(
        points=points,
        max_points=max_points,
        scaled=scaled,
        has_passed=scaled + PASS_EPSILON >= pass_mark,
        per_question=per_question,
    )
