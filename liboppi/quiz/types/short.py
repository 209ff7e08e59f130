"""Short answer (`type: short`): the learner types text matched against accepted answers."""

from __future__ import annotations

import unicodedata
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


@dataclass(frozen=True, slots=True)
class ShortData:
    """The accepted answers and how strictly a typed answer must match them."""

    accept: tuple[str, ...]
    case_sensitive: bool = False
    ignore_diacritics: bool = False

    def summary(self) -> str:
        """Return the accepted answers, for showing the correct answer."""
        return " / ".join(self.accept)


def comparable(text: str, *, case_sensitive: bool, ignore_diacritics: bool) -> str:
    """Return ``text`` in the form answers are compared in.

    Always: Unicode NFC (so a decomposed ä equals a composed one) and whitespace runs
    collapsed to one space. Unless case-sensitive: case folded. With ignore_diacritics:
    NFKD and combining marks dropped, so "sää" matches "saa" (off by default: in Finnish
    and Swedish ä, ö and å are letters of their own).
    """
    text = " ".join(unicodedata.normalize("NFC", text).split())
    if not case_sensitive:
        text = text.casefold()
    if ignore_diacritics:
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
        text = unicodedata.normalize("NFC", text)
    return text


class ShortAnswer(QuestionType[ShortData]):
    """A typed answer that scores 1 when it matches any accepted answer."""

    key = "short"
    interaction_type = "fill-in"
    header_keys = frozenset({"accept", "case_sensitive", "ignore_diacritics"})

    def parse(
        self, header: Mapping[str, object], body: ParsedBody, where: Where
    ) -> ShortData | list[Problem]:
        """Read ``accept`` (a list of answers, or one) and the two matching switches."""
        problems: list[Problem] = []
        accept = header.get("accept")
        if isinstance(accept, str):
            accept = [accept]
        answers: list[str] = []
        if "accept" not in header:
            problems.append(where.problem('a short question needs `accept: ["answer", ...]`'))
        elif accept == []:
            problems.append(where.problem("accept needs at least one answer", key="accept"))
        elif not isinstance(accept, list):
            problems.append(
                where.problem(
                    f"accept must be a list of accepted answers, got {describe(accept)}",
                    key="accept",
                )
            )
        else:
            for value in accept:
                if not isinstance(value, str):
                    problems.append(
                        where.problem(
                            f'accepted answers must be text (quote numbers: "14"), '
                            f"got {describe(value)}",
                            key="accept",
                        )
                    )
                    continue
                answer = " ".join(value.split())
                if not answer:
                    problems.append(where.problem("an accepted answer is empty", key="accept"))
                elif answer in answers:
                    problems.append(
                        where.problem(f"accepted answer {answer!r} is listed twice", key="accept")
                    )
                else:
                    answers.append(answer)
        switches: dict[str, bool] = {}
        for key in ("case_sensitive", "ignore_diacritics"):
            value = header.get(key, False)
            if not isinstance(value, bool):
                problems.append(
                    where.problem(f"{key} must be true or false, got {describe(value)}", key=key)
                )
            switches[key] = value is True
        if problems:
            return problems
        return ShortData(tuple(answers), **switches)

    def serialise(self, data: ShortData) -> Serialised:
        """Write ``accept`` and the switches that are on."""
        header: dict[str, object] = {"accept": list(data.accept)}
        if data.case_sensitive:
            header["case_sensitive"] = True
        if data.ignore_diacritics:
            header["ignore_diacritics"] = True
        return Serialised(header)

    def public_view(self, question: Question, *, option_order: Sequence[str]) -> dict[str, Any]:
        """Return the prompt and a text input; never the accepted answers."""
        return self.base_view(question) | {"input": "text"}

    def review_view(
        self, question: Question, response: object, *, option_order: Sequence[str]
    ) -> dict[str, Any]:
        """Return the learner's text and the accepted answers."""
        data = self.data(question)
        try:
            typed = self.normalise_response(response)
        except ResponseInvalid:
            typed = None
        return self.public_view(question, option_order=option_order) | {
            "response": typed,
            "accept": list(data.accept),
            "correct_response_summary": data.summary(),
        }

    def normalise_response(self, raw: object) -> str | None:
        """Return the typed text with whitespace runs collapsed, or None when empty."""
        value = one_form_value(raw)
        return " ".join(value.split()) if value is not None else None

    def grade(self, question: Question, response: Any) -> Result:
        """Score 1 when the text matches an accepted answer, compared as ``comparable`` says."""
        data = self.data(question)
        summary = data.summary()
        if response is None:
            return unanswered(summary)
        options = {
            "case_sensitive": data.case_sensitive,
            "ignore_diacritics": data.ignore_diacritics,
        }
        typed = comparable(response, **options)
        is_correct = any(typed == comparable(answer, **options) for answer in data.accept)
        return Result(1.0 if is_correct else 0.0, is_correct, (), summary)

    def xapi_interaction(self, question: Question, *, lang: str = "und") -> dict[str, Any]:
        """Describe the question as a ``fill-in`` interaction, one pattern per accepted answer."""
        data = self.data(question)
        prefix = "{case_matters=true}" if data.case_sensitive else ""
        return self.xapi_base(question) | {
            "correctResponsesPattern": [prefix + answer for answer in data.accept]
        }

    def xapi_response(self, question: Question, response: Any) -> str:
        """Return the typed text."""
        return response or ""
