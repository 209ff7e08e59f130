"""Reading and writing quiz files (``quizzes/<course-id>/<quiz-id>.md``).

A quiz file is YAML front matter (the settings), optional intro Markdown, then one
``## question-id`` section per question: YAML header lines directly under the heading,
a blank line, the prompt, the answer list (for types that have one) and optionally a
closing blockquote of general feedback. Every problem found is reported at once, each as
``path:line:col: message``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from liboppi.content.problems import ContentError, Problem
from liboppi.quiz.registry import QUESTION_TYPES
from liboppi.quiz.source import (
    FEEDBACK_RULES,
    LAYOUTS,
    REVIEW_RULES,
    DrawRule,
    Question,
    QuizSettings,
    QuizSource,
    is_valid_id,
)
from liboppi.quiz.types.base import ListItem, ParsedBody, QuestionType, Where, describe
from liboppi.quiz.types.numeric import yaml_number

LINE_BREAK = re.compile(r"\r\n|\r|\n")
FENCE_OPEN = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)")
FENCE_CLOSE = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})[ \t]*")
HEADING = re.compile(r"##(?:[ \t]+(?P<text>.*?))?[ \t]*")
HEADING_CLOSE = re.compile(r"(?:^|[ \t]+)#+$")
BULLET = re.compile(r"(?P<marker>[-*+])(?:[ \t]+(?P<text>.*))?")
NUMBERED = re.compile(r"(?P<number>[0-9]{1,9})\.(?:[ \t]+(?P<text>.*))?")

COMMON_KEYS = frozenset({"type", "points", "tags"})
SETTING_KEYS = (
    "id",
    "title",
    "pass_mark",
    "attempts",
    "time_limit",
    "shuffle_questions",
    "shuffle_options",
    "feedback",
    "review",
    "layout",
    "draw",
)
ID_RULE = "lowercase letters a-z, digits and hyphens, starting with a letter or digit"

Position = tuple[int, int]
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the file with its 1-based number and whether it is inside a code fence."""

    number: int
    text: str
    is_code: bool = False

    @property
    def is_blank(self) -> bool:
        """Tell whether the line holds only whitespace."""
        return not self.text.strip()


@dataclass(slots=True)
class YamlBlock:
    """A YAML chunk as loaded: its value and where each key's value starts."""

    value: object = None
    positions: dict[KeyPath, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def parse_quiz(path: str, text: str) -> QuizSource:
    """Parse the text of a quiz file; raise ContentError listing every problem found.

    ``path`` is used in problem messages only. Line breaks may be LF, CRLF or CR, and a
    UTF-8 byte order mark is ignored.
    """
    return read_quiz(path, text, expected_id=None)


def parse_quiz_file(path: Path, root: Path) -> QuizSource:
    """Read and parse a quiz file; its name must be ``<quiz id>.md``.

    Problems are reported with the path relative to ``root`` (when the file is under it).
    """
    shown = shown_path(path, root)
    return read_quiz(shown, read_utf8(path, shown), expected_id=path.stem)


def shown_path(path: Path, root: Path) -> str:
    """Return ``path`` as problems show it: relative to ``root`` when it is under it."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def read_utf8(path: Path, shown: str) -> str:
    """Read a UTF-8 text file; raise ContentError at the first byte that is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ContentError(
            [Problem(shown, 1, 1, f"cannot read the file: {error.strerror}")]
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        col = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        message = f"the file is not UTF-8 text (byte 0x{data[error.start]:02x})"
        raise ContentError([Problem(shown, line, col, message)]) from None


def read_quiz(path: str, text: str, *, expected_id: str | None) -> QuizSource:
    """Parse a quiz file's text, checking the quiz id against ``expected_id`` when given."""
    encoding_problem = check_encodable(path, text)
    if encoding_problem is not None:
        raise ContentError([encoding_problem])
    lines = [Line(number, line) for number, line in enumerate(split_lines(text), 1)]
    if not lines or lines[0].text.rstrip() != "---":
        raise ContentError(
            [
                Problem(
                    path,
                    1,
                    1,
                    "a quiz file starts with front matter: a line `---`, settings, `---`",
                )
            ]
        )
    end = next(
        (index for index in range(1, len(lines)) if lines[index].text.rstrip() in ("---", "...")),
        None,
    )
    if end is None:
        raise ContentError(
            [Problem(path, 1, 1, "the front matter is not closed with a line `---`")]
        )
    front = load_yaml(path, "\n".join(line.text for line in lines[1:end]), first_line=2)
    problems = list(front.problems)
    rest, unclosed = mark_code(lines[end + 1 :])
    if unclosed is not None:
        problems.append(
            Problem(path, unclosed.number, 1, "this code fence is never closed (add a closing ```)")
        )
    headings = [index for index, line in enumerate(rest) if is_heading(line)]
    intro_end = headings[0] if headings else len(rest)
    intro = "\n".join(line.text for line in rest[:intro_end]).strip()
    questions: list[Question] = []
    tagged: list[tuple[tuple[str, ...], int]] = []
    first_seen: dict[str, int] = {}
    for number, start in enumerate(headings):
        stop = headings[number + 1] if number + 1 < len(headings) else len(rest)
        parsed = parse_question(path, rest[start:stop], tagged)
        if isinstance(parsed, list):
            problems.extend(parsed)
            continue
        if parsed.id in first_seen:
            problems.append(
                Problem(
                    path,
                    parsed.line,
                    4,
                    f"question id {parsed.id!r} is already used on line {first_seen[parsed.id]}",
                )
            )
            continue
        first_seen[parsed.id] = parsed.line
        questions.append(parsed)
    if not headings:
        problems.append(
            Problem(
                path,
                min(end + 2, len(lines)),
                1,
                "the quiz has no questions (each starts with `## question-id`)",
            )
        )
    quiz_id, title, settings, setting_problems = read_settings(path, front, tagged)
    problems.extend(setting_problems)
    if expected_id is not None and quiz_id is not None and quiz_id != expected_id:
        line, col = front.positions.get(("id",), (1, 1))
        problems.append(
            Problem(
                path, line, col, f"the quiz id {quiz_id!r} must match the file name {expected_id!r}"
            )
        )
    if any(problem.severity == "error" for problem in problems):
        raise ContentError(problems)
    assert quiz_id is not None and title is not None and settings is not None
    return QuizSource(
        id=quiz_id,
        title=title,
        settings=settings,
        intro=intro,
        questions=tuple(questions),
        raw_text=text,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        path=path,
    )


def split_lines(text: str) -> list[str]:
    """Split text into lines at LF, CRLF or CR (only those: not at form feeds or U+2028)."""
    return LINE_BREAK.split(text.removeprefix("\ufeff"))


def check_encodable(path: str, text: str) -> Problem | None:
    """Report a character that UTF-8 cannot hold (a lone surrogate), at its line and column."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        before = split_lines(text[: error.start])
        return Problem(
            path, len(before), len(before[-1]) + 1, "the text has a character UTF-8 cannot hold"
        )
    return None


def mark_code(lines: Sequence[Line]) -> tuple[list[Line], Line | None]:
    """Mark the lines inside fenced code blocks; return them and an unclosed fence, if any."""
    marked: list[Line] = []
    fence: tuple[str, int, Line] | None = None
    for line in lines:
        if fence is None:
            opening = FENCE_OPEN.fullmatch(line.text)
            if opening and not (opening["fence"][0] == "`" and "`" in opening["info"]):
                fence = (opening["fence"][0], len(opening["fence"]), line)
                marked.append(Line(line.number, line.text, True))
            else:
                marked.append(line)
            continue
        marked.append(Line(line.number, line.text, True))
        closing = FENCE_CLOSE.fullmatch(line.text)
        if closing and closing["fence"][0] == fence[0] and len(closing["fence"]) >= fence[1]:
            fence = None
    return marked, fence[2] if fence else None


def is_heading(line: Line) -> bool:
    """Tell whether a line is a level-2 heading (a question start) outside code."""
    return not line.is_code and HEADING.fullmatch(line.text) is not None


def heading_text(line: Line) -> str:
    """Return a heading's text without the `##` and any closing `#`s."""
    match = HEADING.fullmatch(line.text)
    text = (match["text"] or "") if match else ""
    return HEADING_CLOSE.sub("", text).strip()


def load_yaml(path: str, text: str, *, first_line: int) -> YamlBlock:
    """Load a YAML chunk that starts on ``first_line``, recording where each key's value is.

    Positions are kept for top-level keys and, one and two levels down, for list items
    and their keys (``("draw", 0, "count")``). Duplicate keys are reported: PyYAML would
    silently keep the last one.
    """
    block = YamlBlock()
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            record_positions(path, node, (), first_line, block, depth=0)
            block.value = loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + first_line, mark.column + 1) if mark else (first_line, 1)
        detail = error.problem or error.context or "cannot be read"
        block.problems.append(Problem(path, line, col, f"invalid YAML: {detail}"))
    except yaml.YAMLError as error:
        position = getattr(error, "position", 0)
        before = split_lines(text[:position])
        reason = getattr(error, "reason", "cannot be read")
        block.problems.append(
            Problem(
                path, first_line + len(before) - 1, len(before[-1]) + 1, f"invalid YAML: {reason}"
            )
        )
    except RecursionError:
        block.problems.append(Problem(path, first_line, 1, "invalid YAML: nested too deeply"))
    except (ValueError, TypeError, OverflowError) as error:
        # PyYAML raises these for scalars its resolver accepts but cannot build,
        # such as the date 2024-13-45 or `!!int abc`.
        block.problems.append(Problem(path, first_line, 1, f"invalid YAML value: {error}"))
    finally:
        loader.dispose()
    return block


def record_positions(
    path: str, node: yaml.Node, key_path: KeyPath, first_line: int, block: YamlBlock, *, depth: int
) -> None:
    """Record the positions of mapping values and list items under ``node`` (3 levels)."""
    if depth > 2:
        return
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = key_node.value
            if key in seen:
                block.problems.append(
                    Problem(
                        path,
                        key_node.start_mark.line + first_line,
                        key_node.start_mark.column + 1,
                        f"the key {key!r} is given twice",
                    )
                )
            seen.add(key)
            mark = value_node.start_mark
            block.positions[(*key_path, key)] = (mark.line + first_line, mark.column + 1)
            record_positions(path, value_node, (*key_path, key), first_line, block, depth=depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            mark = item.start_mark
            block.positions[(*key_path, index)] = (mark.line + first_line, mark.column + 1)
            record_positions(path, item, (*key_path, index), first_line, block, depth=depth + 1)


def parse_question(
    path: str, section: Sequence[Line], tagged: list[tuple[tuple[str, ...], int]]
) -> Question | list[Problem]:
    """Parse one `## id` section into a Question, or return what is wrong with it.

    The question's tags and line go into ``tagged`` even when the question has problems,
    so that ``draw`` is checked against every question the editor wrote.
    """
    heading = section[0]
    problems: list[Problem] = []
    question_id = heading_text(heading)
    if not question_id:
        problems.append(
            Problem(path, heading.number, 1, "a question heading `## ` needs the question's id")
        )
    elif not is_valid_id(question_id):
        problems.append(
            Problem(path, heading.number, 4, f"question id {question_id!r} must be {ID_RULE}")
        )
    header_end = 1
    while header_end < len(section) and not section[header_end].is_blank:
        header_end += 1
    if header_end == 1:
        problems.append(
            Problem(
                path,
                heading.number,
                1,
                "put the question's settings (such as `type: single`) on the lines directly "
                "under its heading",
            )
        )
        return problems
    header_text = "\n".join(line.text for line in section[1:header_end])
    header = load_yaml(path, header_text, first_line=heading.number + 1)
    problems.extend(header.problems)
    if header.problems:
        return problems
    if not isinstance(header.value, Mapping):
        problems.append(
            Problem(
                path, heading.number + 1, 1, "the question's settings must be `key: value` lines"
            )
        )
        return problems
    positions = {key[0]: place for key, place in header.positions.items() if len(key) == 1}
    where = Where(path, heading.number, {str(key): place for key, place in positions.items()})
    values: Mapping[Any, Any] = header.value
    question_type = read_type(values, where, problems)
    if question_type is None:
        return problems
    for key in values:
        if key not in COMMON_KEYS and key not in question_type.header_keys:
            allowed = ", ".join(sorted(COMMON_KEYS | question_type.header_keys))
            problems.append(
                where.problem(
                    f"unknown key {describe(key)} for a {question_type.key} question "
                    f"(known: {allowed})",
                    key=str(key),
                )
            )
    points = read_points(values, question_type, where, problems)
    tags = read_tags(values.get("tags", []), where, problems)
    tagged.append((tags, heading.number))
    body = split_body(section[header_end:], question_type, where, problems)
    if body is None:
        return problems
    data = question_type.parse(
        {key: value for key, value in values.items() if key in question_type.header_keys},
        body,
        where,
    )
    if isinstance(data, list):
        problems.extend(data)
    if problems:
        return problems
    return Question(
        id=question_id,
        type=question_type.key,
        prompt=body.prompt,
        data=data,
        points=points,
        tags=tags,
        feedback=body.feedback,
        line=heading.number,
    )


def read_type(
    values: Mapping[Any, Any], where: Where, problems: list[Problem]
) -> QuestionType[Any] | None:
    """Return the question type named by ``type:``, or report why there is none."""
    known = ", ".join(QUESTION_TYPES)
    if "type" not in values:
        problems.append(
            where.problem(f"the question needs `type:` (one of {known})", line=where.line + 1)
        )
        return None
    key = values["type"]
    if not isinstance(key, str) or key not in QUESTION_TYPES:
        problems.append(
            where.problem(f"unknown question type {describe(key)}; use one of {known}", key="type")
        )
        return None
    return QUESTION_TYPES[key]


def read_points(
    values: Mapping[Any, Any],
    question_type: QuestionType[Any],
    where: Where,
    problems: list[Problem],
) -> float:
    """Return the question's points: 1 unless given, 0 for ungraded types."""
    if not question_type.is_graded:
        if "points" in values:
            problems.append(
                where.problem(
                    f"{question_type.key} questions are not graded, so they have no points",
                    key="points",
                )
            )
        return 0.0
    points = yaml_number(values.get("points", 1))
    if points is None or points <= 0:
        problems.append(
            where.problem(
                f"points must be a number above 0, got {describe(values['points'])}", key="points"
            )
        )
        return 1.0
    return points


def read_tags(value: object, where: Where, problems: list[Problem]) -> tuple[str, ...]:
    """Return the question's tags without duplicates, or report what is wrong with them."""
    if not isinstance(value, list):
        problems.append(
            where.problem(
                f"tags must be a list such as [koha, lainaus], got {describe(value)}", key="tags"
            )
        )
        return ()
    tags: list[str] = []
    for tag in value:
        if not is_valid_id(tag):
            problems.append(where.problem(f"tag {describe(tag)} must be {ID_RULE}", key="tags"))
        elif tag not in tags:
            tags.append(tag)
    return tuple(tags)


def split_body(
    lines: Sequence[Line], question_type: QuestionType[Any], where: Where, problems: list[Problem]
) -> ParsedBody | None:
    """Split a question body into prompt, answer list and closing general feedback."""
    body = list(lines)
    while body and body[-1].is_blank:
        body.pop()
    start = len(body)
    while start > 0 and not body[start - 1].is_code and body[start - 1].text.startswith(">"):
        start -= 1
    feedback = unquote(line.text for line in body[start:]) or None
    rest = body[:start]
    items: tuple[ListItem, ...] = ()
    if question_type.has_answer_list:
        first = answer_list_start(rest)
        if first is None:
            problems.append(missing_list_problem(rest, question_type, where))
            return None
        stray = stray_option_feedback(rest[:first])
        if stray is not None:
            problems.append(
                where.problem(
                    "indent option feedback under its option: `  > ...`", line=stray.number
                )
            )
            return None
        parsed_items = parse_items(rest[first:], where, problems)
        if parsed_items is None:
            return None
        items = tuple(parsed_items)
        rest = rest[:first]
    prompt = "\n".join(line.text for line in rest).strip()
    if not prompt:
        problems.append(
            where.problem(
                "the question has no prompt: write it below the settings", line=where.line
            )
        )
        return None
    return ParsedBody(prompt, items, feedback)


def item_match(line: Line) -> re.Match[str] | None:
    """Return the list-item match of an unindented line outside code."""
    if line.is_code:
        return None
    return BULLET.fullmatch(line.text) or NUMBERED.fullmatch(line.text)


def answer_list_start(lines: Sequence[Line]) -> int | None:
    """Return where the list that ends the lines starts (items, their indented lines, blanks)."""
    first = None
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if item_match(line):
            first = index
        elif not (line.is_blank or line.text[0] in " \t"):
            break
    return first


def missing_list_problem(
    lines: Sequence[Line], question_type: QuestionType[Any], where: Where
) -> Problem:
    """Explain why no answer list was found at the end of a question."""
    last_item = None
    for index, line in enumerate(lines):
        if item_match(line):
            last_item = index
    if last_item is not None:
        for line in lines[last_item + 1 :]:
            if not (line.is_blank or line.text[0] in " \t"):
                return where.problem(
                    "only a general-feedback blockquote (`> ...`) may follow the answer list",
                    line=line.number,
                )
    return where.problem(f"a {question_type.key} question needs an answer list (`- ...` items)")


def stray_option_feedback(lines: Sequence[Line]) -> Line | None:
    """Return an unindented `> ...` line between answer-list items, which breaks the list."""
    index = len(lines) - 1
    while index >= 0 and lines[index].is_blank:
        index -= 1
    if index < 0 or lines[index].is_code or not lines[index].text.startswith(">"):
        return None
    quote_line = lines[index]
    while index >= 0 and (lines[index].is_blank or lines[index].text.startswith(">")):
        if not lines[index].is_blank:
            quote_line = lines[index]
        index -= 1
    return quote_line if index >= 0 and item_match(lines[index]) else None


def parse_items(
    lines: Sequence[Line], where: Where, problems: list[Problem]
) -> list[ListItem] | None:
    """Parse answer-list items with their continuation lines and option feedback."""
    items: list[ListItem] = []
    current: dict[str, Any] | None = None
    failed = False

    def finish() -> None:
        """Add the item being read, if any, to ``items``."""
        if current is not None:
            feedback = "\n".join(current["feedback"]).strip()
            items.append(
                ListItem(
                    line=current["line"],
                    col=current["col"],
                    marker=current["marker"],
                    number=current["number"],
                    text="\n".join(current["text"]).strip(),
                    feedback=feedback if current["feedback"] else None,
                    feedback_line=current["feedback_line"],
                    feedback_col=current["feedback_col"],
                )
            )

    for line in lines:
        match = item_match(line)
        if match:
            finish()
            groups = match.groupdict()
            number = int(groups["number"]) if groups.get("number") else None
            marker = groups.get("marker") or f"{groups['number']}."
            text = groups["text"] or ""
            current = {
                "line": line.number,
                "col": len(line.text) - len(text) + 1,
                "marker": marker,
                "number": number,
                "text": [text],
                "feedback": [],
                "feedback_line": 0,
                "feedback_col": 0,
                "blanks": 0,
                "indent": len(marker) + 1,
            }
            continue
        assert current is not None  # answer_list_start begins the list at an item
        if line.is_blank:
            current["blanks"] += 1
            continue
        stripped = line.text.lstrip(" \t")
        if stripped.startswith(">") and not line.is_code:
            if not current["feedback"]:
                current["feedback_line"] = line.number
                current["feedback_col"] = len(line.text) - len(stripped) + 1
            else:
                current["feedback"].extend([""] * current["blanks"])
            current["feedback"].append(unquote_line(stripped))
        elif current["feedback"]:
            problems.append(
                Problem(
                    where.path,
                    line.number,
                    1,
                    "option feedback (`> ...`) must come last under its option",
                )
            )
            failed = True
        else:
            current["text"].extend([""] * current["blanks"])
            current["text"].append(dedent(line.text, current["indent"]))
        current["blanks"] = 0
    finish()
    return None if failed else items


def dedent(text: str, indent: int) -> str:
    """Remove a list item's continuation indent: up to ``indent`` spaces, or one tab."""
    if text.startswith("\t"):
        return text[1:]
    spaces = len(text) - len(text.lstrip(" "))
    return text[min(spaces, indent) :]


def unquote_line(text: str) -> str:
    """Remove a blockquote's `>` and the one space after it."""
    text = text[1:]
    return text[1:] if text.startswith(" ") else text


def unquote(lines: Any) -> str:
    """Return the text of blockquote lines."""
    return "\n".join(unquote_line(line) for line in lines).strip()


def read_settings(
    path: str, front: YamlBlock, tagged: Sequence[tuple[tuple[str, ...], int]]
) -> tuple[str | None, str | None, QuizSettings | None, list[Problem]]:
    """Validate the front matter; return id, title and settings (None where invalid)."""
    problems: list[Problem] = []

    def at(*key: str | int) -> Position:
        while key and key not in front.positions:
            key = key[:-1]
        return front.positions.get(key, (1, 1))

    def report(message: str, *key: str | int) -> None:
        line, col = at(*key)
        problems.append(Problem(path, line, col, message))

    if front.problems:
        return None, None, None, problems
    data = front.value
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        return (
            None,
            None,
            None,
            [Problem(path, 2, 1, "the front matter must be `key: value` lines")],
        )
    for key in data:
        if key not in SETTING_KEYS:
            report(f"unknown setting {describe(key)} (known: {', '.join(SETTING_KEYS)})", str(key))
    quiz_id = data.get("id")
    if "id" not in data:
        report("the front matter needs `id:`, the quiz's stable id")
    elif not is_valid_id(quiz_id):
        report(f"id {describe(quiz_id)} must be {ID_RULE}", "id")
        quiz_id = None
    title = data.get("title")
    if "title" not in data:
        report("the front matter needs `title:`")
    elif not isinstance(title, str) or not title.strip():
        report(f"title must be text, got {describe(title)}", "title")
        title = None
    defaults = QuizSettings()
    pass_mark = yaml_number(data.get("pass_mark", defaults.pass_mark))
    if pass_mark is None or not 0 <= pass_mark <= 1:
        report(
            f"pass_mark must be a number from 0 to 1 (0.7 = 70 %), "
            f"got {describe(data['pass_mark'])}",
            "pass_mark",
        )
    attempts = data.get("attempts", defaults.attempts)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
        report(
            f"attempts must be a whole number, 0 or more (0 = unlimited), got {describe(attempts)}",
            "attempts",
        )
    time_limit = data.get("time_limit")
    if time_limit is not None and (
        isinstance(time_limit, bool) or not isinstance(time_limit, int) or time_limit <= 0
    ):
        report(
            f"time_limit must be a whole number of minutes above 0, got {describe(time_limit)}",
            "time_limit",
        )
    switches: dict[str, bool] = {}
    for key in ("shuffle_questions", "shuffle_options"):
        value = data.get(key, getattr(defaults, key))
        if not isinstance(value, bool):
            report(f"{key} must be true or false, got {describe(value)}", key)
        switches[key] = value is True
    rules: dict[str, Any] = {}
    for key, allowed in (
        ("feedback", FEEDBACK_RULES),
        ("review", REVIEW_RULES),
        ("layout", LAYOUTS),
    ):
        value = data.get(key, getattr(defaults, key))
        if value not in allowed:
            report(f"{key} must be one of {', '.join(allowed)}, got {describe(value)}", key)
        rules[key] = value
    draw = read_draw(data.get("draw"), tagged, report)
    if problems or quiz_id is None or title is None:
        return quiz_id, title, None, problems
    settings = QuizSettings(
        pass_mark=float(pass_mark or 0.0),
        attempts=attempts,
        time_limit=time_limit,
        shuffle_questions=switches["shuffle_questions"],
        shuffle_options=switches["shuffle_options"],
        feedback=rules["feedback"],
        review=rules["review"],
        layout=rules["layout"],
        draw=draw,
    )
    return quiz_id, title.strip(), settings, problems


def read_draw(
    value: object, tagged: Sequence[tuple[tuple[str, ...], int]], report: Any
) -> tuple[DrawRule, ...]:
    """Validate ``draw``: each rule's tag is on some question and its count fits the pool.

    A question may carry at most one drawn tag, so the pools never overlap and every
    draw can always be filled.
    """
    if value is None:
        return ()
    if not isinstance(value, list):
        report(
            f"draw must be a list of `- tag: TAG` / `count: N` entries, got {describe(value)}",
            "draw",
        )
        return ()
    rules: list[DrawRule] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            report(f"a draw entry must have tag and count, got {describe(entry)}", "draw", index)
            continue
        for key in entry:
            if key not in ("tag", "count"):
                report(
                    f"unknown key {describe(key)} in a draw entry (known: tag, count)",
                    "draw",
                    index,
                    str(key),
                )
        tag, count = entry.get("tag"), entry.get("count")
        missing = [key for key in ("tag", "count") if key not in entry]
        if missing:
            report(f"a draw entry needs {' and '.join(missing)}", "draw", index)
            continue
        if not is_valid_id(tag):
            report(f"the draw tag {describe(tag)} must be {ID_RULE}", "draw", index, "tag")
            continue
        if any(rule.tag == tag for rule in rules):
            report(f"the tag {tag!r} is drawn twice", "draw", index, "tag")
            continue
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            report(
                f"the draw count must be a whole number, 1 or more, got {describe(count)}",
                "draw",
                index,
                "count",
            )
            continue
        pool = sum(tag in tags for tags, _ in tagged)
        if pool == 0:
            report(f"no question has the tag {tag!r}, so none can be drawn", "draw", index, "tag")
        elif count > pool:
            report(
                f"cannot draw {count} questions tagged {tag!r}: the pool has only {pool}",
                "draw",
                index,
                "count",
            )
        rules.append(DrawRule(tag, count))
    drawn = {rule.tag for rule in rules}
    for tags, line in tagged:
        both = [tag for tag in tags if tag in drawn]
        if len(both) > 1:
            report(
                f"the question on line {line} has two drawn tags "
                f"({', '.join(both)}); a question can be drawn by one rule only",
                "draw",
            )
    return tuple(rules)


class QuizDumper(yaml.SafeDumper):
    """YAML writer for quiz headers: one line per key, numbers as editors write them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Indent block lists under their key (`draw:` then `  - tag: ...`)."""
        super().increase_indent(flow, False)


def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Write multi-line text double-quoted with escapes: a header must not span blank lines."""
    style = '"' if "\n" in value or "\r" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    """Write whole numbers without ``.0`` (``points: 2``), other floats as PyYAML does."""
    if value.is_integer() and abs(value) < 1e15:
        return dumper.represent_int(int(value))
    return dumper.represent_float(value)


def represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    """Write lists of plain values on one line (`tags: [koha, lainaus]`), others as blocks."""
    is_flat = all(not isinstance(item, (list, dict)) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=is_flat)


QuizDumper.add_representer(str, represent_str)
QuizDumper.add_representer(float, represent_float)
QuizDumper.add_representer(list, represent_list)


def dump_yaml(values: Mapping[str, object]) -> str:
    """Write ``values`` as YAML block lines, each key on one line, without a trailing newline."""
    text = yaml.dump(
        dict(values),
        Dumper=QuizDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=2**30,
    )
    return text.rstrip("\n")


def quote(text: str, prefix: str = "") -> list[str]:
    """Write text as blockquote lines."""
    return [f"{prefix}> {line}" if line else f"{prefix}>" for line in text.split("\n")]


def serialise_quiz(quiz: QuizSource) -> str:
    """Write a quiz in the file format, so that ``parse_quiz(path, text) == quiz``.

    Every setting is written, defaults included, so the file shows all its rules.
    Question headers leave out keys at their defaults (``points: 1``, no tags).
    """
    settings = quiz.settings
    front: dict[str, object] = {
        "id": quiz.id,
        "title": quiz.title,
        "pass_mark": settings.pass_mark,
        "attempts": settings.attempts,
    }
    if settings.time_limit is not None:
        front["time_limit"] = settings.time_limit
    front |= {
        "shuffle_questions": settings.shuffle_questions,
        "shuffle_options": settings.shuffle_options,
        "feedback": settings.feedback,
        "review": settings.review,
        "layout": settings.layout,
    }
    if settings.draw:
        front["draw"] = [{"tag": rule.tag, "count": rule.count} for rule in settings.draw]
    out = ["---", dump_yaml(front), "---", ""]
    if quiz.intro:
        out += [quiz.intro, ""]
    for question in quiz.questions:
        question_type = QUESTION_TYPES[question.type]
        written = question_type.serialise(question.data)
        header: dict[str, object] = {"type": question.type}
        if question_type.is_graded and question.points != 1:
            header["points"] = question.points
        if question.tags:
            header["tags"] = list(question.tags)
        header |= written.header
        out += [f"## {question.id}", dump_yaml(header), "", question.prompt, ""]
        if written.lines:
            out += [*written.lines, ""]
        if question.feedback:
            out += [*quote(question.feedback), ""]
    return "\n".join(out).rstrip("\n") + "\n"
