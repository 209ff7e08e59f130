"""What a parsed quiz file holds: its settings, its questions, and the quiz as a whole."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")

FeedbackRule = Literal["immediately", "after_submit", "never"]
ReviewRule = Literal["after_submit", "after_pass", "never"]
Layout = Literal["one_per_page", "all_on_one_page"]

FEEDBACK_RULES: tuple[FeedbackRule, ...] = ("immediately", "after_submit", "never")
REVIEW_RULES: tuple[ReviewRule, ...] = ("after_submit", "after_pass", "never")
LAYOUTS: tuple[Layout, ...] = ("one_per_page", "all_on_one_page")


def is_valid_id(value: object) -> bool:
    """Tell whether ``value`` is a stable id: lowercase ASCII letters, digits and hyphens."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class DrawRule:
    """Draw ``count`` questions carrying ``tag`` from the quiz's pool into each attempt."""

    tag: str
    count: int


@dataclass(frozen=True, slots=True)
class QuizSettings:
    """The rules a quiz is taken and graded under (the front matter minus id and title)."""

    pass_mark: float = 0.7
    attempts: int = 0
    time_limit: int | None = None
    shuffle_questions: bool = False
    shuffle_options: bool = True
    feedback: FeedbackRule = "after_submit"
    review: ReviewRule = "after_submit"
    layout: Layout = "one_per_page"
    draw: tuple[DrawRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Question:
    """One question of a quiz; ``data`` is the type-specific part made by its question type.

    ``prompt`` and ``feedback`` (the general feedback) are Markdown. ``line`` is where the
    question's heading is in its file; it does not take part in equality.
    """

    id: str
    type: str
    prompt: str
    data: Any
    points: float = 1.0
    tags: tuple[str, ...] = ()
    feedback: str | None = None
    line: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class QuizSource:
    """A quiz as read from its file.

    Equality compares what the quiz means (ids, texts, settings, questions), not its bytes:
    ``raw_text``, ``content_hash`` and ``path`` do not take part. Compare ``content_hash``
    (sha256 of the file's UTF-8 bytes) to see whether the file changed.
    """

    id: str
    title: str
    settings: QuizSettings
    intro: str
    questions: tuple[Question, ...]
    raw_text: str = field(default="", compare=False, repr=False)
    content_hash: str = field(default="", compare=False)
    path: str = field(default="", compare=False)

    def get_question(self, question_id: str) -> Question:
        """Return the question with ``question_id``; raise KeyError when there is none."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)
