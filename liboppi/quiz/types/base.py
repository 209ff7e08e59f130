"""The interface every question type implements, and the values passed across it.

A question type (like a CTFd challenge type) is one class in one module of this package,
registered by its ``key`` in ``liboppi.quiz.registry``. It parses its part of a question
section, writes it back, shows it to the learner without answers, normalises form values
into a response, grades a response, and describes itself as an xAPI interaction.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar, cast

from liboppi.content.problems import Problem
from liboppi.quiz.source import Question

# Form values larger than these are not answers but junk; they are refused, not graded.
MAX_RESPONSE_CHARS = 10_000
MAX_RESPONSE_ITEMS = 1_000

ShufflePolicy = Literal["setting", "always", "never"]

DataT = TypeVar("DataT")


class ResponseInvalid(ValueError):
    """Raised when a response has a shape that no answer to the question can have."""


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of grading one response.

    ``score`` is in 0–1, or None for an ungraded (likert) question, whose ``is_correct`` is
    always False and means nothing: check ``is_graded``. ``feedback`` holds the
    answer-specific feedback (Markdown) for what the learner chose; the question's general
    feedback is ``Question.feedback``. ``is_valid`` is False when the response had a shape
    no answer can have (it then scores 0); ``invalid_reason`` says why.
    """

    score: float | None
    is_correct: bool
    feedback: tuple[str, ...] = ()
    correct_response_summary: str = ""
    is_answered: bool = True
    is_valid: bool = True
    invalid_reason: str = ""

    @property
    def is_graded(self) -> bool:
        """Tell whether this result counts towards the attempt's points."""
        return self.score is not None


@dataclass(frozen=True, slots=True)
class ListItem:
    """One item of a question's answer list, as written in the quiz file.

    ``marker`` is ``-`` (or ``*``/``+``) for bullet items and ``N.`` for numbered ones, with
    ``number`` set for the latter. ``col`` is where ``text`` starts (1-based).
    """

    line: int
    col: int
    marker: str
    number: int | None
    text: str
    feedback: str | None = None
    feedback_line: int = 0
    feedback_col: int = 0


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """A question section below its header: prompt, answer list and general feedback."""

    prompt: str
    items: tuple[ListItem, ...] = ()
    feedback: str | None = None


@dataclass(frozen=True, slots=True)
class Where:
    """Where a question is in its file, for reporting problems at the real line and column.

    ``positions`` maps each header key to the line and column of its value.
    """

    path: str
    line: int
    positions: Mapping[str, tuple[int, int]]

    def problem(
        self, message: str, *, key: str | None = None, line: int | None = None, col: int = 1
    ) -> Problem:
        """Return a Problem at ``key``'s value, at ``line``/``col``, or else at the heading."""
        if key is not None and key in self.positions:
            line, col = self.positions[key]
        return Problem(self.path, line if line is not None else self.line, col, message)

    def item_problem(self, item: ListItem, message: str) -> Problem:
        """Return a Problem at the text of an answer-list item."""
        return Problem(self.path, item.line, item.col, message)


@dataclass(frozen=True, slots=True)
class Serialised:
    """A question's type-specific part written back: header entries and answer-list lines."""

    header: dict[str, object]
    lines: tuple[str, ...] = ()


def content_id(text: str) -> str:
    """Return the stable id of an option, derived from its text.

    Ids come from content, not position: the written position of an ordering item or a
    matching target IS the answer, so a positional id would leak it to anyone reading
    the page source. Whitespace differences do not change the id.
    """
    normal = " ".join(text.split())
    return hashlib.sha256(normal.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def describe(value: object) -> str:
    """Describe a YAML value for a message without printing a large structure."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def one_form_value(raw: object) -> str | None:
    """Return the single string in a form value (string or one-element list); None if empty."""
    if isinstance(raw, (list, tuple)):
        if len(raw) > 1:
            raise ResponseInvalid("only one answer may be given")
        raw = raw[0] if raw else None
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ResponseInvalid(f"expected text, got {type(raw).__name__}")
    if len(raw) > MAX_RESPONSE_CHARS:
        raise ResponseInvalid("the answer is too long")
    return raw.strip() or None


def form_value_list(raw: object) -> tuple[str, ...]:
    """Return the non-empty strings in a form value (string or list), without duplicates."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, (list, tuple)):
        raise ResponseInvalid(f"expected a list, got {type(raw).__name__}")
    if len(raw) > MAX_RESPONSE_ITEMS:
        raise ResponseInvalid("too many answers")
    values: list[str] = []
    for value in raw:
        if not isinstance(value, str):
            raise ResponseInvalid(f"expected text, got {type(value).__name__}")
        if len(value) > MAX_RESPONSE_CHARS:
            raise ResponseInvalid("the answer is too long")
        value = value.strip()
        if value and value not in values:
            values.append(value)
    return tuple(values)


def in_order(components: Mapping[str, Any], option_order: Sequence[str]) -> list[Any]:
    """Return ``components`` (by id) in ``option_order``, which must list every id once."""
    order = list(option_order)
    if sorted(order) != sorted(components):
        raise ValueError(f"option order {order!r} does not list the ids {sorted(components)!r}")
    return [components[option_id] for option_id in order]


def language_map(text: str, lang: str) -> dict[str, str]:
    """Return an xAPI language map holding ``text`` (which must not be empty) in ``lang``."""
    return {lang: text or "-"}


class QuestionType(ABC, Generic[DataT]):
    """A kind of question: how it is written, shown, answered and graded.

    Subclasses set the class attributes and implement the abstract methods; the type's
    ``data`` (stored in ``Question.data``) is a frozen dataclass of its own.
    """

    key: ClassVar[str]
    """The ``type:`` value in quiz files and the registry key."""
    interaction_type: ClassVar[str]
    """The xAPI 1.0.3 ``interactionType`` (cmi.interaction)."""
    header_keys: ClassVar[frozenset[str]] = frozenset()
    """Type-specific YAML keys allowed in the question header."""
    has_answer_list: ClassVar[bool] = False
    """Whether the question ends with an answer list (`- ...` or `1. ...` items)."""
    is_graded: ClassVar[bool] = True
    """Whether the question counts towards points (likert does not)."""
    shuffle: ClassVar[ShufflePolicy] = "never"
    """How ``option_ids`` are ordered for the learner: by the quiz's ``shuffle_options``
    setting, always shuffled (the written order is the answer), or never."""

    @abstractmethod
    def parse(
        self, header: Mapping[str, object], body: ParsedBody, where: Where
    ) -> DataT | list[Problem]:
        """Build the type's data from its header keys and body, or return what is wrong."""

    @abstractmethod
    def serialise(self, data: DataT) -> Serialised:
        """Write the type's data back as header entries and answer-list lines."""

    def option_ids(self, question: Question) -> tuple[str, ...]:
        """Return the ids whose presentation order ``order.option_order`` decides."""
        return ()

    @abstractmethod
    def public_view(self, question: Question, *, option_order: Sequence[str]) -> dict[str, Any]:
        """Return what a page may show before answering: no correctness, no option feedback."""

    @abstractmethod
    def review_view(
        self, question: Question, response: object, *, option_order: Sequence[str]
    ) -> dict[str, Any]:
        """Return the public view plus the learner's response and the correct answer."""

    @abstractmethod
    def normalise_response(self, raw: object) -> Any:
        """Turn form values (strings, lists of strings, mappings) into the canonical response.

        The result is JSON-compatible, and normalising it again returns it unchanged.
        Raises ResponseInvalid for shapes no answer can have.
        """

    @abstractmethod
    def grade(self, question: Question, response: Any) -> Result:
        """Grade a canonical response (the output of ``normalise_response``)."""

    @abstractmethod
    def xapi_interaction(self, question: Question, *, lang: str = "und") -> dict[str, Any]:
        """Return the xAPI activity definition fields of the question as an interaction."""

    @abstractmethod
    def xapi_response(self, question: Question, response: Any) -> str:
        """Return a canonical response as an xAPI ``result.response`` string."""

    def data(self, question: Question) -> DataT:
        """Return the question's type-specific data."""
        return cast(DataT, question.data)

    def base_view(self, question: Question) -> dict[str, Any]:
        """Return the view fields every type shares."""
        return {
            "id": question.id,
            "type": self.key,
            "prompt": question.prompt,
            "points": question.points,
            "is_graded": self.is_graded,
        }

    def xapi_base(self, question: Question) -> dict[str, Any]:
        """Return the activity definition fields every type shares."""
        return {
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "interactionType": self.interaction_type,
        }


def unanswered(summary: str) -> Result:
    """Return the result for a graded question left unanswered."""
    return Result(0.0, False, (), summary, is_answered=False)


def invalid(reason: str, summary: str = "", *, is_graded: bool = True) -> Result:
    """Return the result for a response that cannot be an answer to the question."""
    return Result(
        0.0 if is_graded else None,
        False,
        (),
        summary,
        is_answered=not is_graded,
        is_valid=False,
        invalid_reason=reason,
    )


def reject_option_feedback(items: Sequence[ListItem], where: Where, key: str) -> list[Problem]:
    """Report option feedback (indented ``> ...``) under items of a type that has none."""
    return [
        Problem(
            where.path,
            item.feedback_line,
            item.feedback_col,
            f"option feedback (an indented `> ...` line) is only for single and multiple "
            f"questions, not {key}",
        )
        for item in items
        if item.feedback is not None
    ]


def item_lines(marker: str, text: str, feedback: str | None = None) -> list[str]:
    """Write one answer-list item: marker and text, continuation lines, option feedback."""
    indent = " " * (len(marker) + 1)
    first, *rest = text.split("\n")
    lines = [f"{marker} {first}"]
    lines.extend(indent + line if line else "" for line in rest)
    if feedback is not None:
        lines.extend(f"{indent}> {line}" if line else f"{indent}>" for line in feedback.split("\n"))
    return lines
