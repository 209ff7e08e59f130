"""Moodle GIFT import and export.

Import reads a GIFT file into Liboppi questions: ``$CATEGORY:``, ``::title::``, the
``[markdown]``/``[html]``/``[plain]``/``[moodle]`` text formats, ``=``/``~`` answers with
``%50%`` weights, ``#`` answer feedback, ``####`` general feedback, true/false,
short answer, numeric (``{#1.5:0.1}``, ``{#1..2}``, weighted ``=%50%…`` answers),
matching (``=a -> b``), missing word (an answer block inside the sentence leaves a blank
``_____``), ``\\``-escapes, ``//`` comments (with Moodle's ``[id:…]`` and ``[tag:…]``),
a UTF-8 byte order mark and CRLF line breaks.

What Liboppi cannot grade the same way is reported:

- Essays (``{}``) and descriptions (no answer block) are *unsupported*: Liboppi grades
  every answer automatically and has no text-only item. Unsupported questions are errors
  unless ``skip_unsupported`` is set; then they are left out and listed in ``skipped``.
  So are single-choice questions with several fully correct answers, numeric questions
  with several fully correct answers, matching with extra wrong right-hand answers,
  and questions where no answer earns full marks.
- Partial credit that Liboppi's types cannot express is approximated with a warning:
  a partly-right option of a single-choice question counts as wrong; multiple-answer
  weights become +1/k per correct and −1/k per wrong option; partly-right short and
  numeric answers and their per-answer feedback are dropped.

Export writes every single, multiple, truefalse, short, numeric and matching question;
ordering and likert questions (GIFT has neither) are left out with a comment saying so.
Each question's comment line carries its id and tags as Moodle's ``[id:…]`` and
``[tag:…]``, and the points and short-answer switches GIFT lacks as ``[points:2]`` and
``[case_sensitive:true]`` (which Moodle ignores), so importing an export gives the same
questions back.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from liboppi.content.problems import ContentError, Problem, Severity
from liboppi.quiz.format import parse_quiz, read_utf8, serialise_quiz, shown_path, split_lines
from liboppi.quiz.gift_text import FORMATS, to_markdown
from liboppi.quiz.source import Question, QuizSettings, QuizSource, is_valid_id
from liboppi.quiz.types.base import content_id
from liboppi.quiz.types.choices import ChoiceData, Option
from liboppi.quiz.types.matching import MatchingData, Pair
from liboppi.quiz.types.numeric import NumericData, number_text
from liboppi.quiz.types.short import ShortData
from liboppi.quiz.types.truefalse import TrueFalseData

ESCAPABLE = {"\\": "\\", ":": ":", "#": "#", "=": "=", "{": "{", "}": "}", "~": "~", "n": "\n"}
WEIGHT = re.compile(r"%(-?[0-9]+(?:\.[0-9]*)?)%")
GIFT_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
ID_TOKEN = re.compile(r"\[id:((?:\\\]|[^\]\x00-\x1f])+)\]")
TAG_TOKEN = re.compile(r"\[tag:((?:\\\]|[^\]<>`\x00-\x1f])+)\]")
SETTING_TOKEN = re.compile(r"\[(points|case_sensitive|ignore_diacritics):([^\]]*)\]")
TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
MISSING_WORD = "_____"
EXPORTABLE_TYPES = frozenset({"single", "multiple", "truefalse", "short", "numeric", "matching"})


@dataclass(frozen=True, slots=True)
class GiftImport:
    """What a GIFT file held: the questions, what was left out, and its category.

    ``skipped`` lists unsupported questions left out (with ``skip_unsupported``);
    ``warnings`` lists approximations and dropped details of imported questions.
    """

    questions: tuple[Question, ...]
    skipped: tuple[Problem, ...] = ()
    category: str | None = None
    warnings: tuple[Problem, ...] = ()


class GiftProblem(Exception):
    """A reason a GIFT question cannot be imported, at an offset in its block."""

    def __init__(self, offset: int, message: str, *, is_unsupported: bool = False) -> None:
        """Record where in the block the problem is and whether it is an unsupported feature."""
        super().__init__(message)
        self.offset = offset
        self.message = message
        self.is_unsupported = is_unsupported


def mask(text: str) -> str:
    """Return ``text`` with every escape pair (``\\~``) replaced by two inert characters.

    Searching the mask finds only unescaped special characters, at the same offsets as
    in the text; any slice cut at such offsets masks the same way again.
    """
    out: list[str] = []
    index = 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in ESCAPABLE:
            out.append("__")
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def unescape(text: str) -> str:
    """Resolve GIFT escapes: ``\\~ \\= \\# \\{ \\} \\: \\\\`` and ``\\n`` (a line break)."""
    out: list[str] = []
    index = 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in ESCAPABLE:
            out.append(ESCAPABLE[text[index + 1]])
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def escape(text: str) -> str:
    """Escape text for GIFT: the special characters, and line breaks as ``\\n``."""
    for char in ("\\", "~", "=", "#", "{", "}", ":"):
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def split_at(text: str, separator: str, *, keep: bool = False) -> list[tuple[int, str]]:
    """Split at unescaped ``separator``s; return (offset, piece) pairs.

    With ``keep`` the separator starts the following piece instead of being dropped.
    """
    masked = mask(text)
    pieces: list[tuple[int, str]] = []
    start = 0
    position = masked.find(separator)
    while position >= 0:
        pieces.append((start, text[start:position]))
        start = position if keep else position + len(separator)
        position = masked.find(separator, position + len(separator))
    pieces.append((start, text[start:]))
    return pieces


@dataclass(slots=True)
class Block:
    """One question's lines (blank-line separated) with its comments, for line lookups."""

    path: str
    lines: list[tuple[int, str]]
    comments: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Return the block's non-comment lines joined by line breaks."""
        return "\n".join(text for _, text in self.lines)

    @property
    def line(self) -> int:
        """Return the block's first line number."""
        return self.lines[0][0]

    def problem(self, offset: int, message: str, *, severity: Severity = "error") -> Problem:
        """Return a Problem at an offset into ``text``."""
        starts: list[int] = []
        total = 0
        for _, text in self.lines:
            starts.append(total)
            total += len(text) + 1
        index = max(0, bisect_right(starts, offset) - 1)
        col = max(0, offset - starts[index]) + 1
        return Problem(self.path, self.lines[index][0], col, message, severity)


def read_blocks(path: str, text: str) -> Iterator[Block]:
    """Yield the blank-line separated blocks of a GIFT file.

    A blank line inside an open answer block ``{ ... }`` does not end the question.
    """
    block = Block(path, [])
    inside = False
    for number, line in enumerate(split_lines(text), 1):
        stripped = line.strip()
        if stripped.startswith("//"):
            block.comments.append(stripped)
            continue
        if not stripped and not inside:
            if block.lines:
                yield block
            block = Block(path, [])
            continue
        block.lines.append((number, line))
        for char in mask(line):
            if char == "{":
                inside = True
            elif char == "}":
                inside = False
    if block.lines:
        yield block


def read_format(text: str, default: str) -> tuple[str, str]:
    """Split a leading ``[format]`` from a raw (still escaped) text; return format and text."""
    stripped = text.strip()
    if stripped.startswith("["):
        end = stripped.find("]")
        if end > 0 and stripped[1:end] in FORMATS:
            return stripped[1:end], stripped[end + 1 :]
    return default, stripped


@dataclass(slots=True)
class Reader:
    """Reads the questions of one GIFT file, collecting warnings as it goes."""

    path: str
    warnings: list[Problem] = field(default_factory=list)

    def warn(self, block: Block, offset: int, message: str) -> None:
        """Record a warning about an imported question."""
        self.warnings.append(block.problem(offset, message, severity="warning"))

    def markdown(self, block: Block, offset: int, raw: str, default: str) -> str:
        """Return a raw GIFT text (format prefix, escapes) as Markdown."""
        text_format, text = read_format(raw, default)
        converted, dropped = to_markdown(unescape(text).strip(), text_format)
        if dropped:
            names = ", ".join(f"<{name}>" for name in sorted(dropped))
            self.warn(block, offset, f"HTML the quiz format cannot show was dropped: {names}")
        return converted.strip()

    def plain(self, raw: str) -> str:
        """Return a raw GIFT answer text without its format prefix, unescaped."""
        return unescape(read_format(raw, "moodle")[1]).strip()

    def question(self, block: Block) -> dict[str, Any]:
        """Read one question block into its parts: title, prompt, type, data, feedback."""
        text = block.text
        masked = mask(text)
        position = len(masked) - len(masked.lstrip())
        title: str | None = None
        if masked.startswith("::", position):
            end = masked.find("::", position + 2)
            if end < 0:
                raise GiftProblem(position, "the question title `::...` is never closed with `::`")
            title = unescape(text[position + 2 : end]).strip()
            position = end + 2
        opening = masked.find("{", position)
        closing = masked.find("}", position)
        if opening < 0 and closing < 0:
            raise GiftProblem(
                position,
                "unsupported: a description (text without an answer block) is not a question",
                is_unsupported=True,
            )
        if closing < 0:
            raise GiftProblem(opening, "the answer block `{` is never closed with `}`")
        if opening < 0 or closing < opening:
            raise GiftProblem(closing, "`}` without an opening `{` (write \\} for a brace)")
        more = [masked.find(brace, closing + 1) for brace in "{}"]
        extra = min((index for index in more if index >= 0), default=-1)
        if extra >= 0:
            raise GiftProblem(
                extra, "a question has one answer block; write \\{ and \\} for braces"
            )
        after = text[closing + 1 :]
        prompt_raw = text[position:opening] + (MISSING_WORD + after if after.strip() else "")
        text_format, _ = read_format(prompt_raw, "moodle")
        prompt = self.markdown(block, position, prompt_raw, "moodle")
        answer = text[opening + 1 : closing]
        answer_offset = opening + 1
        general = None
        separator = mask(answer).rfind("####")
        if separator >= 0:
            general = self.markdown(
                block, answer_offset + separator, answer[separator + 4 :], text_format
            )
            answer = answer[:separator]
        if not prompt:
            raise GiftProblem(position, "the question has no text")
        parts = {
            "title": title,
            "line": block.line,
            "prompt": prompt,
            "feedback": general or None,
        }
        parts |= self.answers(block, answer, answer_offset, text_format)
        return parts

    def answers(self, block: Block, answer: str, offset: int, text_format: str) -> dict[str, Any]:
        """Read an answer block into a question type and its data."""
        masked = mask(answer)
        stripped = masked.strip()
        if not stripped:
            raise GiftProblem(
                offset - 1,
                "unsupported: essay questions ({}) need a person to grade them",
                is_unsupported=True,
            )
        if stripped.startswith("#"):
            return self.numeric(block, answer, offset)
        if "~" in masked:
            return self.choice(block, answer, offset, text_format)
        if "=" in masked and "->" in masked:
            return self.matching(block, answer, offset, text_format)
        hash_at = masked.find("#")
        check = answer[:hash_at].strip() if hash_at > 0 else answer.strip()
        if check in TRUE_FALSE:
            return self.true_false(block, answer, offset, text_format)
        return self.short(block, answer, offset)

    def weighted(self, piece: str) -> tuple[float | None, str]:
        """Split a leading ``%weight%`` from an answer; None when there is none."""
        match = WEIGHT.match(piece)
        if match is None:
            return None, piece
        return float(match[1]), piece[match.end() :]

    def feedback_split(self, raw: str) -> tuple[str, str | None]:
        """Split an answer at its first unescaped ``#`` into text and feedback."""
        pieces = split_at(raw, "#")
        if len(pieces) == 1:
            return raw, None
        cut = pieces[1][0]
        return raw[: cut - 1], raw[cut:]

    def choice(self, block: Block, answer: str, offset: int, text_format: str) -> dict[str, Any]:
        """Read a multiple-choice answer block into a single or multiple question."""
        is_single = "=" in mask(answer)
        pieces: list[tuple[int, str]] = []
        for tilde_offset, tilde_piece in split_at(answer, "~"):
            for eq_offset, piece in split_at(tilde_piece, "=", keep=True):
                pieces.append((tilde_offset + eq_offset, piece))
        if pieces and not pieces[0][1].strip():
            pieces = pieces[1:]
        options: list[tuple[int, float, Option]] = []
        for piece_offset, piece in pieces:
            at = offset + piece_offset
            raw = piece.strip()
            if raw.startswith("="):
                weight, raw = 100.0, raw[1:]
            else:
                found, raw = self.weighted(raw)
                weight = found if found is not None else 0.0
            if not -100 <= weight <= 100:
                raise GiftProblem(
                    at, f"an answer weight must be from -100 % to 100 %, got {weight:g} %"
                )
            raw_text, raw_feedback = self.feedback_split(raw)
            text = self.markdown(block, at, raw_text, text_format)
            if not text:
                raise GiftProblem(at, "an answer has no text")
            feedback = self.markdown(block, at, raw_feedback, text_format) if raw_feedback else ""
            if any(option.text == text for _, _, option in options):
                raise GiftProblem(at, f"the answer {text!r} is given twice")
            options.append(
                (at, weight, Option(content_id(text), text, weight > 0, feedback or None))
            )
        if len(options) < 2:
            raise GiftProblem(offset, "a multiple-choice question needs at least 2 answers")
        if is_single:
            return self.single(block, offset, options)
        return self.multiple(block, offset, options)

    def single(
        self, block: Block, offset: int, options: list[tuple[int, float, Option]]
    ) -> dict[str, Any]:
        """Make a single question: exactly one fully right answer."""
        full = [option for _, weight, option in options if weight == 100]
        if len(full) > 1:
            raise GiftProblem(
                offset,
                f"unsupported: {len(full)} fully correct answers in a single-choice question "
                "(Liboppi's single type has one)",
                is_unsupported=True,
            )
        if not full:
            raise GiftProblem(
                offset, "unsupported: no answer earns full marks", is_unsupported=True
            )
        for at, weight, _ in options:
            if 0 < weight < 100:
                self.warn(
                    block,
                    at,
                    f"partial credit {weight:g} % approximated: the answer counts as wrong",
                )
            elif weight < 0:
                self.warn(
                    block,
                    at,
                    f"negative weight {weight:g} % ignored: single questions have no penalty",
                )
        chosen = [replace(option, is_correct=weight == 100) for _, weight, option in options]
        return {"type": "single", "data": ChoiceData(tuple(chosen))}

    def multiple(
        self, block: Block, offset: int, options: list[tuple[int, float, Option]]
    ) -> dict[str, Any]:
        """Make a multiple question: the positively weighted answers are the correct ones."""
        correct = [weight for _, weight, _ in options if weight > 0]
        if not correct:
            raise GiftProblem(
                offset, "unsupported: no answer has a positive weight", is_unsupported=True
            )
        share = 100 / len(correct)
        if any(abs(abs(weight) - share) > 0.001 for _, weight, _ in options):
            self.warn(
                block,
                offset,
                f"answer weights approximated: Liboppi gives +{share:.4g} % for each correct "
                f"and -{share:.4g} % for each wrong answer chosen",
            )
        return {"type": "multiple", "data": ChoiceData(tuple(option for _, _, option in options))}

    def matching(self, block: Block, answer: str, offset: int, text_format: str) -> dict[str, Any]:
        """Read ``=left -> right`` pairs."""
        pairs: list[Pair] = []
        pieces = split_at(answer, "=")
        if not pieces[0][1].strip():
            pieces = pieces[1:]
        for piece_offset, piece in pieces:
            at = offset + piece_offset
            arrow = mask(piece).find("->")
            if arrow < 0:
                raise GiftProblem(at, "a matching pair is written `=left -> right`")
            left = self.markdown(block, at, piece[:arrow], text_format)
            right = unescape(piece[arrow + 2 :]).strip()
            if not right:
                raise GiftProblem(at, "a matching pair has no right-hand text")
            if not left:
                raise GiftProblem(
                    at,
                    "unsupported: extra right-hand answers (`= -> text`) have no left to match",
                    is_unsupported=True,
                )
            if any(pair.source == left for pair in pairs):
                raise GiftProblem(at, f"the left-hand text {left!r} is given twice")
            pairs.append(Pair(content_id(left), left, content_id(right), right))
        if len(pairs) < 2:
            raise GiftProblem(offset, "a matching question needs at least 2 pairs")
        return {"type": "matching", "data": MatchingData(tuple(pairs))}

    def true_false(
        self, block: Block, answer: str, offset: int, text_format: str
    ) -> dict[str, Any]:
        """Read ``T``/``TRUE``/``F``/``FALSE`` with ``#wrong#right`` feedback."""
        pieces = split_at(answer, "#")
        if len(pieces) > 3:
            # As Moodle does: a third `#` belongs to the feedback for the right answer.
            pieces = [*pieces[:2], (pieces[2][0], answer[pieces[2][0] :])]
        value = TRUE_FALSE[pieces[0][1].strip()]
        texts = [
            self.markdown(block, offset + piece_offset, piece, text_format) or None
            for piece_offset, piece in pieces[1:]
        ]
        wrong = texts[0] if texts else None
        right = texts[1] if len(texts) > 1 else None
        data = TrueFalseData(
            value,
            feedback_true=right if value else wrong,
            feedback_false=wrong if value else right,
        )
        return {"type": "truefalse", "data": data}

    def short(self, block: Block, answer: str, offset: int) -> dict[str, Any]:
        """Read ``=answer`` alternatives; partly-right ones are dropped with a warning."""
        pieces = split_at(answer, "=")
        if not pieces[0][1].strip():
            pieces = pieces[1:]
        accepted: list[str] = []
        for piece_offset, piece in pieces:
            at = offset + piece_offset
            weight, raw = self.weighted(piece.strip())
            raw_text, raw_feedback = self.feedback_split(raw)
            text = " ".join(self.plain(raw_text).split())
            if not text:
                raise GiftProblem(at, "an accepted answer is empty")
            if raw_feedback is not None and raw_feedback.strip():
                self.warn(
                    block, at, "feedback for a typed answer was dropped (short questions have none)"
                )
            if weight is not None and weight != 100:
                self.warn(
                    block, at, f"answer {text!r} worth {weight:g} % was dropped (no partial credit)"
                )
                continue
            if "*" in text:
                self.warn(
                    block, at, f"answer {text!r}: `*` is matched literally, not as a wildcard"
                )
            if text not in accepted:
                accepted.append(text)
        if not accepted:
            raise GiftProblem(
                offset, "unsupported: no answer earns full marks", is_unsupported=True
            )
        return {"type": "short", "data": ShortData(tuple(accepted))}

    def numeric(self, block: Block, answer: str, offset: int) -> dict[str, Any]:
        """Read ``#answer:tolerance``, ``#low..high`` or weighted ``=%w%...`` answers."""
        body = answer.lstrip()
        start = offset + len(answer) - len(body) + 1
        body = body[1:]
        wrong = split_at(body, "~")
        if len(wrong) > 1:
            self.warn(block, start + wrong[1][0], "feedback for wrong numbers was dropped")
            body = wrong[0][1]
        pieces = split_at(body, "=")
        if not pieces[0][1].strip():
            pieces = pieces[1:]
        full: list[tuple[int, NumericData]] = []
        for piece_offset, piece in pieces:
            at = start + piece_offset
            weight, raw = self.weighted(piece.strip())
            raw_value, raw_feedback = self.feedback_split(raw)
            value = unescape(raw_value).strip()
            if raw_feedback is not None and raw_feedback.strip():
                self.warn(block, at, "feedback for a numeric answer was dropped")
            if weight is not None and weight != 100:
                self.warn(block, at, f"numeric answer {value!r} worth {weight:g} % was dropped")
                continue
            full.append((at, self.numeric_value(value, at)))
        if not full:
            raise GiftProblem(
                start, "unsupported: no numeric answer earns full marks", is_unsupported=True
            )
        if len(full) > 1:
            raise GiftProblem(
                full[1][0],
                "unsupported: several fully correct numeric answers",
                is_unsupported=True,
            )
        return {"type": "numeric", "data": full[0][1]}

    def numeric_value(self, value: str, at: int) -> NumericData:
        """Read ``a``, ``a:tolerance`` or ``low..high``."""
        dots = value.find("..")
        if dots > 0:
            low, high = self.number(value[:dots], at), self.number(value[dots + 2 :], at)
            if low > high:
                raise GiftProblem(at, f"a range must go from low to high: {value}")
            return NumericData(range=(low, high))
        colon = value.find(":")
        if colon > 0:
            tolerance = self.number(value[colon + 1 :], at)
            if tolerance < 0:
                raise GiftProblem(at, f"a tolerance cannot be negative: {value}")
            return NumericData(answer=self.number(value[:colon], at), tolerance=tolerance)
        return NumericData(answer=self.number(value, at))

    def number(self, text: str, at: int) -> float:
        """Read a finite number."""
        text = text.strip()
        number = float(text) if GIFT_NUMBER.fullmatch(text) else math.nan
        if not math.isfinite(number):
            raise GiftProblem(at, f"{text!r} is not a number")
        return number


def slug(text: str) -> str:
    """Turn a question title into an id: a valid id stays as it is."""
    if is_valid_id(text):
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(char for char in decomposed if not unicodedata.combining(char)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:60].strip("-")


def comment_settings(block: Block, reader: Reader) -> dict[str, Any]:
    """Read Moodle's ``[id:…]``/``[tag:…]`` and Liboppi's setting tokens from comments."""
    comments = "\n".join(block.comments)
    settings: dict[str, Any] = {"tags": []}
    match = ID_TOKEN.search(comments)
    if match:
        settings["idnumber"] = match[1].replace("\\]", "]").strip()
    for raw_tag in TAG_TOKEN.findall(comments):
        tag = slug(raw_tag.replace("\\]", "]").strip())
        if not tag:
            reader.warn(block, 0, f"tag {raw_tag!r} has no letters or digits and was dropped")
        elif tag not in settings["tags"]:
            settings["tags"].append(tag)
    for key, value in SETTING_TOKEN.findall(comments):
        if key == "points":
            points = float(value) if GIFT_NUMBER.fullmatch(value.strip()) else math.nan
            if math.isfinite(points) and points > 0:
                settings["points"] = points
            else:
                reader.warn(block, 0, f"[points:{value}] is not a number above 0 and was ignored")
        else:
            settings[key] = value.strip() == "true"
    return settings


def parse_gift(path: str, text: str, *, skip_unsupported: bool = False) -> GiftImport:
    """Read a GIFT file into Liboppi questions; raise ContentError listing every error.

    Question ids come from Moodle's ``[id:…]`` comment when it is a valid id, else from
    the title (``::Title::`` → ``title``), else ``q1``, ``q2``… by position; clashes get
    ``-2``, ``-3``. Every imported question is checked to write and read back unchanged
    as a Liboppi quiz file.
    """
    reader = Reader(path)
    errors: list[Problem] = []
    skipped: list[Problem] = []
    category: str | None = None
    found: list[tuple[Block, dict[str, Any]]] = []
    for block in read_blocks(path, text):
        stripped = block.text.strip()
        if stripped.startswith("$CATEGORY:"):
            name = unescape(stripped[len("$CATEGORY:") :]).strip()
            if "\n" in name:
                errors.append(
                    block.problem(0, "put a blank line between $CATEGORY and the next question")
                )
            elif category is None:
                category = name
            elif name != category:
                reader.warn(block, 0, f"a second category {name!r}: all questions go into one quiz")
            continue
        try:
            parts = reader.question(block)
        except GiftProblem as problem:
            if problem.is_unsupported and skip_unsupported:
                skipped.append(block.problem(problem.offset, problem.message, severity="warning"))
            else:
                errors.append(block.problem(problem.offset, problem.message))
            found.append((block, {}))
            continue
        found.append((block, parts))
    questions: list[Question] = []
    used: set[str] = set()
    for number, (block, parts) in enumerate(found, 1):
        if not parts:
            continue
        settings = comment_settings(block, reader)
        question_id = question_id_for(settings.get("idnumber"), parts["title"], number, used)
        data = parts["data"]
        if isinstance(data, ShortData):
            data = replace(
                data,
                case_sensitive=settings.get("case_sensitive", False),
                ignore_diacritics=settings.get("ignore_diacritics", False),
            )
        question = Question(
            id=question_id,
            type=parts["type"],
            prompt=parts["prompt"],
            data=data,
            points=settings.get("points", 1.0),
            tags=tuple(settings["tags"]),
            feedback=parts["feedback"],
            line=parts["line"],
        )
        problem = check_writable(question, block)
        if problem is not None:
            errors.append(problem)
            continue
        questions.append(question)
    if errors:
        raise ContentError(errors)
    return GiftImport(tuple(questions), tuple(skipped), category, tuple(reader.warnings))


def parse_gift_file(path: Path, root: Path, *, skip_unsupported: bool = False) -> GiftImport:
    """Read and import a GIFT file (UTF-8, with or without a byte order mark).

    Problems are reported with the path relative to ``root`` (when the file is under it).
    """
    shown = shown_path(path, root)
    return parse_gift(shown, read_utf8(path, shown), skip_unsupported=skip_unsupported)


def question_id_for(idnumber: str | None, title: str | None, number: int, used: set[str]) -> str:
    """Choose a unique id for an imported question."""
    if idnumber and is_valid_id(idnumber):
        base = idnumber
    else:
        base = slug(title or "") or f"q{number}"
    candidate = base
    suffix = 2
    while candidate in used:
        candidate = f"{base}-{suffix}"
        suffix += 1
    used.add(candidate)
    return candidate


def check_writable(question: Question, block: Block) -> Problem | None:
    """Report a question that would not read back unchanged from a quiz file."""
    draft = QuizSource("gift-import", "GIFT import", QuizSettings(), "", (question,))
    try:
        back = parse_quiz(block.path, serialise_quiz(draft)).questions[0]
    except ContentError as error:
        return block.problem(
            0, f"cannot be written as a Liboppi question: {error.problems[0].message}"
        )
    if back != question:
        return block.problem(
            0,
            "cannot be written as a Liboppi question: its text reads back differently as "
            "Markdown (a line starting with `## `, `- ` or `> ` in the wrong place?)",
        )
    return None


def quiz_from_gift(
    imported: GiftImport,
    *,
    quiz_id: str,
    title: str,
    settings: QuizSettings | None = None,
    path: str = "<gift import>",
) -> QuizSource:
    """Make a quiz of imported questions, ready for ``serialise_quiz`` to write to a file."""
    draft = QuizSource(quiz_id, title, settings or QuizSettings(), "", imported.questions)
    return parse_quiz(path, serialise_quiz(draft))


def gift_unsupported_reason(question: Question) -> str | None:
    """Say why a question cannot be written as GIFT, or None when it can."""
    if question.type not in EXPORTABLE_TYPES:
        return f"GIFT has no {question.type} questions"
    if isinstance(question.data, ShortData) and any(
        "->" in answer for answer in question.data.accept
    ):
        return "an accepted answer contains `->`, which GIFT would read as a matching pair"
    return None


def gift_text(text: str) -> str:
    """Write a Markdown text for GIFT, marking it as Markdown when it starts with ``[``."""
    return ("[markdown]" if text.startswith("[") else "") + escape(text)


def weight_text(weight: float) -> str:
    """Write an answer weight in percent as Moodle expects (``33.33333``, ``-50``)."""
    return f"{weight:.5f}".rstrip("0").rstrip(".")


def answer_block(question: Question) -> list[str]:
    """Write the answer block of an exportable question (without the braces' neighbours)."""
    data = question.data
    lines: list[str] = []
    if isinstance(data, ChoiceData) and question.type == "single":
        for option in data.options:
            mark = "=" if option.is_correct else ("~%0%" if option.text.startswith("%") else "~")
            lines.append(f"\t{mark}{gift_text(option.text)}{feedback_suffix(option.feedback)}")
    elif isinstance(data, ChoiceData):
        share = 100 / len(data.correct_ids)
        for option in data.options:
            weight = weight_text(share if option.is_correct else -share)
            lines.append(f"\t~%{weight}%{gift_text(option.text)}{feedback_suffix(option.feedback)}")
    elif isinstance(data, ShortData):
        for answer in data.accept:
            weight = "%100%" if answer.startswith("%") else ""
            lines.append(f"\t={weight}{gift_text(answer)}")
    elif isinstance(data, MatchingData):
        for pair in data.pairs:
            lines.append(f"\t={gift_text(pair.source)} -> {escape(pair.target)}")
    if question.feedback:
        lines.append(f"\t####{gift_text(question.feedback)}")
    return lines


def feedback_suffix(feedback: str | None) -> str:
    """Write an answer's ``#feedback``."""
    return f"#{gift_text(feedback)}" if feedback else ""


def inline_answer(question: Question) -> str | None:
    """Write the one-line answer block of true/false and numeric questions."""
    data = question.data
    general = f"####{gift_text(question.feedback)}" if question.feedback else ""
    if isinstance(data, TrueFalseData):
        right = data.feedback_true if data.answer else data.feedback_false
        wrong = data.feedback_false if data.answer else data.feedback_true
        text = "TRUE" if data.answer else "FALSE"
        if wrong or right:
            text += f"#{gift_text(wrong or '')}"
        if right:
            text += f"#{gift_text(right)}"
        return "{" + text + general + "}"
    if isinstance(data, NumericData):
        if data.range is not None:
            value = f"{number_text(data.range[0])}..{number_text(data.range[1])}"
        else:
            value = number_text(data.answer if data.answer is not None else 0.0)
            if data.tolerance:
                value += f":{number_text(data.tolerance)}"
        return "{#" + value + general + "}"
    return None


def question_comments(question: Question) -> list[str]:
    """Write the comment line with Moodle's id and tags and Liboppi's points and switches."""
    tokens = [f"[id:{question.id}]", *(f"[tag:{tag}]" for tag in question.tags)]
    if question.points != 1 and question.type != "likert":
        tokens.append(f"[points:{number_text(question.points)}]")
    if isinstance(question.data, ShortData):
        if question.data.case_sensitive:
            tokens.append("[case_sensitive:true]")
        if question.data.ignore_diacritics:
            tokens.append("[ignore_diacritics:true]")
    return [f"// {' '.join(tokens)}"]


def export_gift(quiz: QuizSource, *, category: str | None = None) -> str:
    """Write a quiz's questions as GIFT text for Moodle.

    Questions GIFT cannot hold (see ``gift_unsupported_reason``) are left out, each with
    a ``//`` comment in their place saying why.
    """
    out = [f"// {line}" for line in quiz.title.split("\n")]
    out += [f"// Liboppi quiz {quiz.id}", ""]
    if category:
        out += [f"$CATEGORY: {category}", ""]
    for question in quiz.questions:
        reason = gift_unsupported_reason(question)
        if reason is not None:
            out += [f"// Left out: question {question.id}: {reason}.", ""]
            continue
        out += question_comments(question)
        head = f"::{question.id}::[markdown]{escape(question.prompt)}"
        inline = inline_answer(question)
        if inline is not None:
            out += [head + inline, ""]
        else:
            out += [head + "{", *answer_block(question), "}", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def gift_questions(questions: Sequence[Question]) -> list[Question]:
    """Return the questions that ``export_gift`` writes."""
    return [question for question in questions if gift_unsupported_reason(question) is None]
