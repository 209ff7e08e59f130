"""Numeric answer (`type: numeric`): a number within a tolerance of the answer, or in a range."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
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

# What a learner may type, once spaces are removed and a decimal comma made a point:
# no nan, no inf, no hexadecimal, and an exponent of at most three digits.
TYPED_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")


def number_text(value: float) -> str:
    """Write a number as an editor would: ``14`` rather than ``14.0``."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def exact(value: float) -> Decimal:
    """Return the decimal number an editor wrote, as read into a float (0.1 stays 0.1)."""
    return Decimal(number_text(value))


def decimal_text(value: Decimal) -> str:
    """Write a decimal exactly, without exponent or trailing zeros: ``1.5``, ``100``, ``0``."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_typed_number(text: str) -> Decimal | None:
    """Read a number as a learner types it: ``1,5``, ``1 000``, ``+3``, ``−2`` (minus sign)."""
    compact = "".join(text.split()).replace("\u2212", "-")
    if compact.count(",") == 1 and "." not in compact:
        compact = compact.replace(",", ".")
    if TYPED_NUMBER.fullmatch(compact) is None:
        return None
    return Decimal(compact)


def yaml_number(value: object) -> float | None:
    """Return a finite YAML number (int or float, not bool) as a float, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True)
class NumericData:
    """Either ``answer`` give or take ``tolerance``, or the closed ``range`` [low, high]."""

    answer: float | None = None
    tolerance: float = 0.0
    range: tuple[float, float] | None = None

    def bounds(self) -> tuple[Decimal, Decimal]:
        """Return the lowest and highest accepted value, computed without rounding."""
        if self.range is not None:
            return exact(self.range[0]), exact(self.range[1])
        answer = exact(self.answer if self.answer is not None else 0.0)
        tolerance = exact(self.tolerance)
        # Enough digits for any two floats (exponents -324..308): the sum is exact.
        with localcontext(prec=1000):
            return answer - tolerance, answer + tolerance

    def summary(self) -> str:
        """Return the accepted values, for showing the correct answer."""
        if self.range is not None:
            return f"{number_text(self.range[0])}–{number_text(self.range[1])}"
        answer = number_text(self.answer if self.answer is not None else 0.0)
        if self.tolerance:
            return f"{answer} ± {number_text(self.tolerance)}"
        return answer


class NumericAnswer(QuestionType[NumericData]):
    """A typed number that scores 1 when it lies within the accepted bounds.

    Comparison is in decimal arithmetic, so 1.0 is within 1.1 ± 0.1 as an editor expects
    (binary floats would put it a hair outside).
    """

    key = "numeric"
    interaction_type = "numeric"
    header_keys = frozenset({"answer", "tolerance", "range"})

    def parse(
        self, header: Mapping[str, object], body: ParsedBody, where: Where
    ) -> NumericData | list[Problem]:
        """Read ``answer`` with optional ``tolerance``, or ``range: [low, high]``."""
        if "answer" in header and "range" in header:
            return [
                where.problem("give either answer (and tolerance) or range, not both", key="range")
            ]
        if "range" in header:
            return self.parse_range(header, where)
        if "answer" not in header:
            return [
                where.problem("a numeric question needs `answer: NUMBER` or `range: [LOW, HIGH]`")
            ]
        problems: list[Problem] = []
        answer = yaml_number(header["answer"])
        if answer is None:
            problems.append(
                where.problem(
                    f"answer must be a number, got {describe(header['answer'])}", key="answer"
                )
            )
        tolerance = yaml_number(header.get("tolerance", 0))
        if tolerance is None or tolerance < 0:
            problems.append(
                where.problem(
                    f"tolerance must be a number of 0 or more, got {describe(header['tolerance'])}",
                    key="tolerance",
                )
            )
        if problems:
            return problems
        return NumericData(answer=answer, tolerance=tolerance or 0.0)

    def parse_range(
        self, header: Mapping[str, object], where: Where
    ) -> NumericData | list[Problem]:
        """Read ``range: [low, high]``."""
        if "tolerance" in header:
            return [where.problem("tolerance goes with answer, not with range", key="tolerance")]
        value = header["range"]
        bounds = [yaml_number(bound) for bound in value] if isinstance(value, list) else []
        if len(bounds) != 2 or bounds[0] is None or bounds[1] is None:
            return [
                where.problem(
                    f"range must be two numbers [low, high], got {describe(value)}", key="range"
                )
            ]
        low, high = bounds[0], bounds[1]
        if low > high:
            return [
                where.problem(f"range must go from low to high, got [{low}, {high}]", key="range")
            ]
        return NumericData(range=(low, high))

    def serialise(self, data: NumericData) -> Serialised:
        """Write ``answer`` and ``tolerance``, or ``range``."""
        if data.range is not None:
            return Serialised({"range": list(data.range)})
        header: dict[str, object] = {"answer": data.answer}
        if data.tolerance:
            header["tolerance"] = data.tolerance
        return Serialised(header)

    def public_view(self, question: Question, *, option_order: Sequence[str]) -> dict[str, Any]:
        """Return the prompt and a number input; never the answer."""
        return self.base_view(question) | {"input": "numeric"}

    def review_view(
        self, question: Question, response: object, *, option_order: Sequence[str]
    ) -> dict[str, Any]:
        """Return the learner's number and the accepted values."""
        try:
            typed = self.normalise_response(response)
        except ResponseInvalid:
            typed = None
        return self.public_view(question, option_order=option_order) | {
            "response": typed,
            "correct_response_summary": self.data(question).summary(),
        }

    def normalise_response(self, raw: object) -> str | None:
        """Return the typed number as a plain decimal string (``"1,5"`` → ``"1.5"``)."""
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            number = yaml_number(raw)
            if number is None:
                raise ResponseInvalid("the answer must be a finite number")
            return decimal_text(exact(number))
        text = one_form_value(raw)
        if text is None:
            return None
        value = parse_typed_number(text)
        if value is None:
            raise ResponseInvalid("the answer must be a number, such as 12 or 1,5")
        return decimal_text(value)

    def grade(self, question: Question, response: Any) -> Result:
        """Score 1 when the number lies within the accepted bounds (inclusive)."""
        data = self.data(question)
        summary = data.summary()
        if response is None:
            return unanswered(summary)
        low, high = data.bounds()
        is_correct = low <= Decimal(response) <= high
        return Result(1.0 if is_correct else 0.0, is_correct, (), summary)

    def xapi_interaction(self, question: Question, *, lang: str = "und") -> dict[str, Any]:
        """Describe the question as a ``numeric`` interaction: ``14`` or ``13.5[:]14.5``."""
        data = self.data(question)
        low, high = data.bounds()
        pattern = (
            decimal_text(low) if low == high else f"{decimal_text(low)}[:]{decimal_text(high)}"
        )
        return self.xapi_base(question) | {"correctResponsesPattern": [pattern]}

    def xapi_response(self, question: Question, response: Any) -> str:
        """Return the number as typed, normalised."""
        return response or ""
