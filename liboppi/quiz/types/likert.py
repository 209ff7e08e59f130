"""Likert scale (`type: likert`): an ungraded self-assessment; list items are the scale labels."""

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
    invalid,
    item_lines,
    language_map,
    one_form_value,
    reject_option_feedback,
)


@dataclass(frozen=True, slots=True)
class LikertData:
    """The scale labels from lowest to highest."""

    scale: tuple[str, ...]

    def ids(self) -> tuple[str, ...]:
        """Return the scale point ids ``1`` … ``n``.

        Positional ids are right here (unlike graded types): the scale is always shown in
        order, nothing is hidden, and the position is the value analysed later.
        """
        return tuple(str(number) for number in range(1, len(self.scale) + 1))


class Likert(QuestionType[LikertData]):
    """A self-assessment on a scale: never graded, always counted as answered."""

    key = "likert"
    interaction_type = "likert"
    has_answer_list = True
    is_graded = False

    def parse(
        self, header: Mapping[str, object], body: ParsedBody, where: Where
    ) -> LikertData | list[Problem]:
        """Read the `- label` items from lowest to highest."""
        problems = reject_option_feedback(body.items, where, self.key)
        labels: list[str] = []
        for item in body.items:
            text = item.text.strip()
            if item.number is not None:
                problems.append(
                    where.item_problem(item, "scale labels are `- label` items, not numbered")
                )
            elif not text:
                problems.append(where.item_problem(item, "the scale label has no text"))
            elif text in labels:
                problems.append(where.item_problem(item, "the same scale label is listed twice"))
            else:
                labels.append(text)
        if problems:
            return problems
        if len(labels) < 2:
            return [where.problem("a likert question needs at least 2 scale labels `- ...`")]
        return LikertData(tuple(labels))

    def serialise(self, data: LikertData) -> Serialised:
        """Write the scale labels as `- label` items."""
        lines: list[str] = []
        for label in data.scale:
            lines.extend(item_lines("-", label))
        return Serialised({}, tuple(lines))

    def option_ids(self, question: Question) -> tuple[str, ...]:
        """Return the scale point ids, lowest first (never shuffled)."""
        return self.data(question).ids()

    def public_view(self, question: Question, *, option_order: Sequence[str]) -> dict[str, Any]:
        """Return the scale in order."""
        data = self.data(question)
        return self.base_view(question) | {
            "input": "likert",
            "scale": [
                {"id": scale_id, "text": text}
                for scale_id, text in zip(data.ids(), data.scale, strict=True)
            ],
        }

    def review_view(
        self, question: Question, response: object, *, option_order: Sequence[str]
    ) -> dict[str, Any]:
        """Return the scale with the learner's choice marked."""
        view = self.public_view(question, option_order=option_order)
        try:
            chosen = self.normalise_response(response)
        except ResponseInvalid:
            chosen = None
        for point in view["scale"]:
            point["is_chosen"] = point["id"] == chosen
        view["correct_response_summary"] = ""
        return view

    def normalise_response(self, raw: object) -> str | None:
        """Return the chosen scale point id, or None."""
        if isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)
        return one_form_value(raw)

    def grade(self, question: Question, response: Any) -> Result:
        """Return an ungraded result (score None) that counts as answered."""
        if response is not None and response not in self.data(question).ids():
            return invalid("the chosen point is not on the scale", is_graded=False)
        return Result(None, False, (), "", is_answered=True)

    def xapi_interaction(self, question: Question, *, lang: str = "und") -> dict[str, Any]:
        """Describe the question as a ``likert`` interaction with its scale (no correct answer)."""
        data = self.data(question)
        return self.xapi_base(question) | {
            "scale": [
                {"id": scale_id, "description": language_map(text, lang)}
                for scale_id, text in zip(data.ids(), data.scale, strict=True)
            ],
        }

    def xapi_response(self, question: Question, response: Any) -> str:
        """Return the chosen scale point id."""
        return response or ""
