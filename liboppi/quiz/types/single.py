"""Single choice (`type: single`): exactly one correct option; the learner chooses one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from liboppi.content.problems import Problem
from liboppi.quiz.source import Question
from liboppi.quiz.types.base import Result, Where, invalid, one_form_value, unanswered
from liboppi.quiz.types.choices import ChoiceType, Option


class SingleChoice(ChoiceType):
    """One `- [x]` among `- [ ]` options; full points for choosing it, none otherwise."""

    key = "single"
    input_kind = "radio"

    def check_correct_count(self, options: Sequence[Option], where: Where) -> list[Problem]:
        """Require exactly one correct option."""
        count = sum(option.is_correct for option in options)
        if count == 1:
            return []
        found = "none" if count == 0 else str(count)
        return [
            where.problem(
                f"a single question needs exactly one correct option `- [x]`, found {found}"
            )
        ]

    def normalise_response(self, raw: object) -> str | None:
        """Return the chosen option id, or None when nothing was chosen."""
        return one_form_value(raw)

    def grade(self, question: Question, response: Any) -> Result:
        """Score 1 for the correct option, 0 otherwise; feedback of the chosen option."""
        data = self.data(question)
        summary = data.summary()
        if response is None:
            return unanswered(summary)
        ids = {option.id for option in data.options}
        if response not in ids:
            return invalid("the chosen option is not one of the question's options", summary)
        is_correct = response in data.correct_ids
        return Result(
            1.0 if is_correct else 0.0,
            is_correct,
            self.option_feedback(data, (response,)),
            summary,
        )
