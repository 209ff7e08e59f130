"""Ordering (`type: ordering`): numbered items written in the correct order, shown shuffled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from liboppi.content.problems import Problem
from liboppi.quiz.source import Question
from liboppi.quiz.types.base import (
    MAX_RESPONSE_CHARS,
    MAX_RESPONSE_ITEMS,
    ParsedBody,
    QuestionType,
    ResponseInvalid,
    Result,
    Serialised,
    Where,
    content_id,
    form_value_list,
    in_order,
    invalid,
    item_lines,
    language_map,
    one_form_value,
    reject_option_feedback,
    unanswered,
)


@dataclass(frozen=True, slots=True)
class Step:
    """One item to put in order."""

    id: str
    text: str


@dataclass(frozen=True, slots=True)
class OrderingData:
    """The items in the correct order."""

    items: tuple[Step, ...]

    def summary(self) -> str:
        """Return the items in order, for showing the correct answer."""
        return "; ".join(f"{number}. {step.text}" for number, step in enumerate(self.items, 1))


def positions_to_order(raw: Mapping[Any, Any]) -> list[str]:
    """Turn {item id: position} form values into item ids sorted by position."""
    if len(raw) > MAX_RESPONSE_ITEMS:
        raise ResponseInvalid("too many items")
    placed: dict[int, str] = {}
    for item_id, value in raw.items():
        if not isinstance(item_id, str) or len(item_id) > MAX_RESPONSE_CHARS:
            raise ResponseInvalid("an item id must be text")
        if isinstance(value, int) and not isinstance(value, bool):
            position = value
        else:
            text = one_form_value(value)
            if text is None:
                continue
            if not text.isascii() or not text.isdigit() or len(text) > 6:
                raise ResponseInvalid("a position must be a whole number")
            position = int(text)
        if position in placed:
            raise ResponseInvalid("give every item a different position")
        placed[position] = item_id.strip()
    return [placed[position] for position in sorted(placed)]


class Ordering(QuestionType[OrderingData]):
    """Items to put in order; the score is the share of items in their correct position.

    The share of correct positions is simple to explain to a learner ("3 of 5 steps were
    in the right place"). It is strict about shifts: moving the first step to the end
    puts every step out of place and scores 0.
    """

    key = "ordering"
    interaction_type = "sequencing"
    has_answer_list = True
    shuffle = "always"

    def parse(
        self, header: Mapping[str, object], body: ParsedBody, where: Where
    ) -> OrderingData | list[Problem]:
        """Read the numbered items `1. ...`, `2. ...` in the correct order."""
        problems = reject_option_feedback(body.items, where, self.key)
        steps: list[Step] = []
        seen: dict[str, int] = {}
        for expected, item in enumerate(body.items, 1):
            if item.number is None:
                problems.append(
                    where.item_problem(
                        item, "ordering items are numbered `1.`, `2.`, ... in the correct order"
                    )
                )
                continue
            if item.number != expected:
                problems.append(
                    where.item_problem(item, f"item number should be {expected}, not {item.number}")
                )
                continue
            text = item.text.strip()
            if not text:
                problems.append(where.item_problem(item, "the item has no text"))
                continue
            step = Step(content_id(text), text)
            if step.id in seen:
                problems.append(
                    where.item_problem(item, f"the same item is already on line {seen[step.id]}")
                )
                continue
            seen[step.id] = item.line
            steps.append(step)
        if problems:
            return problems
        if len(steps) < 2:
            return [where.problem("an ordering question needs at least 2 items `1. ...`")]
        return OrderingData(tuple(steps))

    def serialise(self, data: OrderingData) -> Serialised:
        """Write the items numbered in the correct order."""
        lines: list[str] = []
        for number, step in enumerate(data.items, 1):
            lines.extend(item_lines(f"{number}.", step.text))
        return Serialised({}, tuple(lines))

    def option_ids(self, question: Question) -> tuple[str, ...]:
        """Return the item ids in the correct order."""
        return tuple(step.id for step in self.data(question).items)

    def public_view(self, question: Question, *, option_order: Sequence[str]) -> dict[str, Any]:
        """Return the items in ``option_order`` (shuffled by ``order.option_order``)."""
        steps = {step.id: {"id": step.id, "text": step.text} for step in self.data(question).items}
        return self.base_view(question) | {
            "input": "ordering",
            "items": in_order(steps, option_order),
        }

    def review_view(
        self, question: Question, response: object, *, option_order: Sequence[str]
    ) -> dict[str, Any]:
        """Return the items with the learner's position and the correct position."""
        view = self.public_view(question, option_order=option_order)
        try:
            chosen = self.normalise_response(response)
        except ResponseInvalid:
            chosen = []
        correct = self.option_ids(question)
        for item in view["items"]:
            item["chosen_position"] = chosen.index(item["id"]) + 1 if item["id"] in chosen else None
            item["correct_position"] = correct.index(item["id"]) + 1
        view["correct_response_summary"] = self.data(question).summary()
        return view

    def normalise_response(self, raw: object) -> list[str]:
        """Return the item ids in the learner's order, from a list or {id: position}."""
        if isinstance(raw, Mapping):
            order = positions_to_order(raw)
        else:
            order = list(form_value_list(raw))
            if isinstance(raw, (list, tuple)) and len(order) != len(raw):
                raise ResponseInvalid("every item must be placed once")
        if len(set(order)) != len(order):
            raise ResponseInvalid("every item must be placed once")
        return order

    def grade(self, question: Question, response: Any) -> Result:
        """Score the share of items in their correct position."""
        data = self.data(question)
        summary = data.summary()
        if not response:
            return unanswered(summary)
        correct = self.option_ids(question)
        if sorted(response) != sorted(correct):
            return invalid("the response must place every item exactly once", summary)
        hits = sum(given == expected for given, expected in zip(response, correct, strict=True))
        return Result(float(Fraction(hits, len(correct))), hits == len(correct), (), summary)

    def xapi_interaction(self, question: Question, *, lang: str = "und") -> dict[str, Any]:
        """Describe the question as a ``sequencing`` interaction: ``id1[,]id2[,]...``."""
        data = self.data(question)
        return self.xapi_base(question) | {
            "correctResponsesPattern": ["[,]".join(step.id for step in data.items)],
            "choices": [
                {"id": step.id, "description": language_map(step.text, lang)} for step in data.items
            ],
        }

    def xapi_response(self, question: Question, response: Any) -> str:
        """Return the item ids in the learner's order joined by ``[,]``."""
        return "[,]".join(response or ())
