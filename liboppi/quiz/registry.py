"""The question types by key: adding a type is one module in ``types/`` and one line here."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from liboppi.quiz.types.base import QuestionType
from liboppi.quiz.types.likert import Likert
from liboppi.quiz.types.matching import Matching
from liboppi.quiz.types.multiple import MultipleChoice
from liboppi.quiz.types.numeric import NumericAnswer
from liboppi.quiz.types.ordering import Ordering
from liboppi.quiz.types.short import ShortAnswer
from liboppi.quiz.types.single import SingleChoice
from liboppi.quiz.types.truefalse import TrueFalse

QUESTION_TYPES: Mapping[str, QuestionType[Any]] = MappingProxyType(
    {
        question_type.key: question_type
        for question_type in (
            SingleChoice(),
            MultipleChoice(),
            TrueFalse(),
            ShortAnswer(),
            NumericAnswer(),
            Matching(),
            Ordering(),
            Likert(),
        )
    }
)


class UnknownQuestionType(KeyError):
    """Raised when no question type is registered under a key."""


def get_question_type(key: str) -> QuestionType[Any]:
    """Return the question type registered under ``key``."""
    try:
        return QUESTION_TYPES[key]
    except KeyError:
        raise UnknownQuestionType(key) from None
