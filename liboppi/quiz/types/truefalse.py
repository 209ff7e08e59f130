"""True or false (`type: truefalse`): the header says `answer: true|false`; no answer list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from liboppi.content.problems import Problem
from liboppi.quiz.source import Question
from liboppi.quiz.types.base import (
    ParsedBody,
    QuestionType,
    ResponseInvalid,
    Result,
    Serialised,
    Where,
    describe,
    one_form_value,
    unanswered,
)

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True, slots=True)
class TrueFalseData:
    """The correct answer, and feedback for whoever answered true or answered false."""

    answer: bool
    feedback_true: str | None = None
    feedback_false: str | None = None


class TrueFalse(QuestionType[TrueFalseData]):
    """A statement the learner judges true or false."""

    key = "truefalse"
    interaction_type = "true-false"
    header_keys = frozenset({"answer", "feedback_true", "feedback_false"})

    def parse(
        self, header: Mapping[str, object], body: ParsedBody, where: Where
    ) -> TrueFalseData | list[Problem]:
        """Read ``answer`` and the optional ``feedback_true``/``feedback_false``."""
        problems: list[Problem] = []
        answer = header.get("answer")
        if "answer" not in header:
            problems.append(where.problem("a truefalse question needs `answer: true` or `false`"))
        elif not isinstance(answer, bool):
            problems.append(
                where.problem(f"answer must be true or false, got {describe(answer)}", key="answer")
            )
        feedback: dict[str, str | None] = {}
        for key in ("feedback_true", "feedback_false"):
            value = header.get(key)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                problems.append(
                    where.problem(f"{key} must be text, got {describe(value)}", key=key)
                )
            feedback[key] = value.strip() if isinstance(value, str) and value.strip() else None
        if problems:
            return problems
        return TrueFalseData(bool(answer), feedback["feedback_true"], feedback["feedback_false"])

    def serialise(self, data: TrueFalseData) -> Serialised:
        """Write ``answer`` and any feedback keys."""
        header: dict[str, object] = {"answer": data.answer}
        if data.feedback_true is not None:
            header["feedback_true"] = data.feedback_true
        if data.feedback_false is not None:
            header["feedback_false"] = data.feedback_false
        return Serialised(header)

    def public_view(self, question: Question, *, option_order: Sequence[str]) -> dict[str, Any]:
        """Return the prompt and the two choices ``true`` and ``false`` (labels are the page's)."""
        return self.base_view(question) | {
            "input": "truefalse",
            "options": [{"id": "true"}, {"id": "false"}],
        }

    def review_view(
        self, question: Question, response: object, *, option_order: Sequence[str]
    ) -> dict[str, Any]:
        """Return the choices marked as chosen and as correct."""
        view = self.public_view(question, option_order=option_order)
        answer = self.data(question).answer
        try:
            chosen = self.normalise_response(response)
        except ResponseInvalid:
            chosen = None
        for option in view["options"]:
            value = option["id"] == "true"
            option["is_chosen"] = chosen is value
            option["is_correct"] = answer is value
        view["correct_response_summary"] = "true" if answer else "false"
        return view

    def normalise_response(self, raw: object) -> bool | None:
        """Return True or False from a bool or a form value such as ``"true"``/``"false"``."""
        if isinstance(raw, bool):
            return raw
        value = one_form_value(raw)
        if value is None:
            return None
        if value.lower() in TRUE_WORDS:
            return True
        if value.lower() in FALSE_WORDS:
            return False
        raise ResponseInvalid("the answer must be true or false")

    def grade(self, question: Question, response: Any) -> Result:
        """Score 1 for the correct judgement; feedback for the judgement given."""
        data = self.data(question)
        summary = "true" if data.answer else "false"
        if response is None:
            return unanswered(summary)
        feedback = data.feedback_true if response else data.feedback_false
        is_correct = response is data.answer
        return Result(
            1.0 if is_correct else 0.0,
            is_correct,
            (feedback,) if feedback is not None else (),
            summary,
        )

    def xapi_interaction(self, question: Question, *, lang: str = "und") -> dict[str, Any]:
        """Describe the question as a ``true-false`` interaction."""
        answer = "true" if self.data(question).answer else "false"
        return self.xapi_base(question) | {"correctResponsesPattern": [answer]}

    def xapi_response(self, question: Question, response: Any) -> str:
        """Return ``true``, ``false`` or an empty string."""
        if response is None:
            return ""
        return "true" if response else "false"
