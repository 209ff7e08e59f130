"""Checkbox options (`- [x] ...`, `- [ ] ...`) shared by the single and multiple types."""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from liboppi.content.problems import Problem
from liboppi.quiz.source import Question
from liboppi.quiz.types.base import (
    ParsedBody,
    QuestionType,
    Serialised,
    Where,
    content_id,
    in_order,
    item_lines,
    language_map,
)

CHECKBOX = re.compile(r"\[(?P<mark>[ xX])\](?:\s+(?P<text>.*))?", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Option:
    """One answer option; ``feedback`` (Markdown) shows to a learner who chose it."""

    id: str
    text: str
    is_correct: bool
    feedback: str | None = None


@dataclass(frozen=True, slots=True)
class ChoiceData:
    """The options of a choice question, in written order."""

    options: tuple[Option, ...]

    @property
    def correct_ids(self) -> tuple[str, ...]:
        """Return the ids of the correct options in written order."""
        return tuple(option.id for option in self.options if option.is_correct)

    def summary(self) -> str:
        """Return the correct options' texts, for showing the correct answer."""
        return "; ".join(option.text for option in self.options if option.is_correct)


class ChoiceType(QuestionType[ChoiceData]):
    """A question answered by choosing among checkbox options."""

    interaction_type: ClassVar[str] = "choice"
    has_answer_list: ClassVar[bool] = True
    shuffle = "setting"
    input_kind: ClassVar[str]

    @abstractmethod
    def check_correct_count(self, options: Sequence[Option], where: Where) -> list[Problem]:
        """Report a number of correct options that the type does not allow."""

    def parse(
        self, header: Mapping[str, object], body: ParsedBody, where: Where
    ) -> ChoiceData | list[Problem]:
        """Read the `- [x]`/`- [ ]` options and their feedback."""
        problems: list[Problem] = []
        options: list[Option] = []
        seen: dict[str, int] = {}
        for item in body.items:
            if item.number is not None:
                problems.append(
                    where.item_problem(item, "options are `- [ ]` or `- [x]` items, not numbered")
                )
                continue
            match = CHECKBOX.fullmatch(item.text)
            if match is None:
                problems.append(
                    where.item_problem(
                        item, "an option starts with `[ ]` (wrong) or `[x]` (correct)"
                    )
                )
                continue
            text = (match.group("text") or "").strip()
            if not text:
                problems.append(where.item_problem(item, "the option has no text"))
                continue
            option = Option(content_id(text), text, match.group("mark") != " ", item.feedback)
            if option.id in seen:
                problems.append(
                    where.item_problem(
                        item, f"the same option is already on line {seen[option.id]}"
                    )
                )
                continue
            seen[option.id] = item.line
            options.append(option)
        if problems:
            return problems
        if len(options) < 2:
            return [where.problem(f"a {self.key} question needs at least 2 options")]
        problems = self.check_correct_count(options, where)
        return problems or ChoiceData(tuple(options))

    def serialise(self, data: ChoiceData) -> Serialised:
        """Write the options as checkbox items with their feedback."""
        lines: list[str] = []
        for option in data.options:
            mark = "x" if option.is_correct else " "
            lines.extend(item_lines("-", f"[{mark}] {option.text}", option.feedback))
        return Serialised({}, tuple(lines))

    def option_ids(self, question: Question) -> tuple[str, ...]:
        """Return the option ids in written order."""
        return tuple(option.id for option in self.data(question).options)

    def public_view(self, question: Question, *, option_order: Sequence[str]) -> dict[str, Any]:
        """Return the prompt and the options' ids and texts, in ``option_order``."""
        options = {option.id: option for option in self.data(question).options}
        return self.base_view(question) | {
            "input": self.input_kind,
            "options": [
                {"id": option.id, "text": option.text} for option in in_order(options, option_order)
            ],
        }

    def chosen_ids(self, response: Any) -> tuple[str, ...]:
        """Return the option ids a canonical response chose."""
        if response is None:
            return ()
        if isinstance(response, str):
            return (response,)
        return tuple(response)

    def review_view(
        self, question: Question, response: object, *, option_order: Sequence[str]
    ) -> dict[str, Any]:
        """Return the options marked as chosen and as correct."""
        view = self.public_view(question, option_order=option_order)
        data = self.data(question)
        correct = set(data.correct_ids)
        try:
            chosen = set(self.chosen_ids(self.normalise_response(response)))
        except ValueError:
            chosen = set()
        for option in view["options"]:
            option["is_chosen"] = option["id"] in chosen
            option["is_correct"] = option["id"] in correct
        view["correct_response_summary"] = data.summary()
        return view

    def option_feedback(self, data: ChoiceData, chosen: Sequence[str]) -> tuple[str, ...]:
        """Return the feedback of the chosen options, in written order."""
        return tuple(
            option.feedback
            for option in data.options
            if option.id in chosen and option.feedback is not None
        )

    def xapi_interaction(self, question: Question, *, lang: str = "und") -> dict[str, Any]:
        """Describe the question as a ``choice`` interaction."""
        data = self.data(question)
        return self.xapi_base(question) | {
            "correctResponsesPattern": ["[,]".join(data.correct_ids)],
            "choices": [
                {"id": option.id, "description": language_map(option.text, lang)}
                for option in data.options
            ],
        }

    def xapi_response(self, question: Question, response: Any) -> str:
        """Return the chosen ids joined by ``[,]``."""
        return "[,]".join(self.chosen_ids(response))
