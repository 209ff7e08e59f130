"""Multiple choice (`type: multiple`): one or more correct options, with partial credit."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from liboppi.content.problems import Problem
from liboppi.quiz.source import Question
from liboppi.quiz.types.base import Result, Where, form_value_list, invalid, unanswered
from liboppi.quiz.types.choices import ChoiceType, Option


class MultipleChoice(ChoiceType):
    """Several `- [x]` options; each correct one chosen gives +1/k, each wrong one −1/k.

    k is the number of correct options; the score is floored at 0, so choosing every
    option never earns points for a question that also has wrong options.
    """

    key = "multiple"
    input_kind = "checkbox"

    def check_correct_count(self, options: Sequence[Option], where: Where) -> list[Problem]:
        """Require at least one correct option."""
        if any(option.is_correct for option in options):
            return []
        return [where.problem("a multiple question needs at least one correct option `- [x]`")]

    def normalise_response(self, raw: object) -> list[str]:
        """Return the chosen option ids, sorted, without duplicates."""
        return sorted(form_value_list(raw))

    def grade(self, question: Question, response: Any) -> Result:
        """Score correct choices minus wrong choices, each 1/k, floored at 0."""
        data = self.data(question)
        summary = data.summary()
        if not response:
            return unanswered(summary)
        ids = {option.id for option in data.options}
        if any(option_id not in ids for option_id in response):
            return invalid("a chosen option is not one of the question's options", summary)
        correct = set(data.correct_ids)
        chosen = set(response)
        hits = len(chosen & correct)
        misses = len(chosen - correct)
        score = max(Fraction(0), Fraction(hits - misses, len(correct)))
        return Result(
            float(score), chosen == correct, self.option_feedback(data, response), summary
        )
