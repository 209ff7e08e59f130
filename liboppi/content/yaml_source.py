"""YAML mappings read with the file position of every key, and field checks that point at them.

Both ``course.yaml`` and a module's front matter are YAML mappings whose mistakes must be
reported at the line an editor sees, so parsing keeps PyYAML's composed nodes (which carry
marks) next to the constructed values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import yaml

from liboppi.content.problems import ContentError, Problem, Severity

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANGUAGES: tuple[str, ...] = ("fi", "sv", "en")

# PyYAML raises ValueError and friends (not YAMLError) for some well-formed but impossible
# scalars, e.g. ``2024-13-45`` resolves as a timestamp and then fails in ``datetime.date``.
_CONSTRUCTION_ERRORS = (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError)


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A 1-based line and column in a source file."""

    line: int
    col: int


@dataclass(frozen=True)
class YamlMapping:
    """A YAML mapping read from a file, with the position of each top-level key and list item."""

    path: str
    data: dict[str, Any]
    start: Position
    key_positions: dict[str, Position] = field(default_factory=dict)
    item_positions: dict[str, tuple[Position, ...]] = field(default_factory=dict)

    def position_of(self, key: str, item: int | None = None) -> Position:
        """Return where ``key`` (or its list item ``item``) is written, or the mapping's start."""
        if item is not None:
            items = self.item_positions.get(key, ())
            if item < len(items):
                return items[item]
        return self.key_positions.get(key, self.start)

    def problem(
        self,
        key: str | None,
        message: str,
        *,
        item: int | None = None,
        severity: Severity = "error",
    ) -> Problem:
        """Build a problem located at ``key`` (or the mapping's start when ``key`` is None)."""
        at = self.start if key is None else self.position_of(key, item)
        return Problem(self.path, at.line, at.col, message, severity)


def parse_yaml_mapping(text: str, path: str, first_line: int = 1) -> YamlMapping:
    """Parse ``text`` as one YAML mapping; raise ContentError located in the real file.

    ``first_line`` is the file line on which ``text`` starts, so that PyYAML's 0-based marks
    are offset into the file an editor has open. Parsing uses ``yaml.SafeLoader`` (what
    ``yaml.safe_load`` uses; on libyaml where it reads the text alike, see
    ``_load_with_libyaml``) but keeps the composed node, whose marks give key positions.
    """
    node: yaml.Node | None = None
    try:
        fast = _load_with_libyaml(text)
        if fast is not None:
            node, data = fast
        else:
            loader = yaml.SafeLoader(text)
            try:
                node = loader.get_single_node()
                data = loader.construct_document(node) if node is not None else None
            finally:
                loader.dispose()
    except _CONSTRUCTION_ERRORS as exc:
        if node is not None and not isinstance(exc, yaml.YAMLError):
            exc = _locate_construction_error(node, exc)
        raise ContentError([_yaml_error_problem(exc, text, path, first_line)]) from None

    start = Position(first_line, 1)
    if node is None or data is None:
        raise ContentError([Problem(path, start.line, start.col, "the YAML is empty")])
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        at = _position(node.start_mark, first_line)
        raise ContentError(
            [
                Problem(
                    path,
                    at.line,
                    at.col,
                    f"expected a mapping of `key: value` lines, found {_describe(data)}",
                )
            ]
        )

    key_positions: dict[str, Position] = {}
    item_positions: dict[str, tuple[Position, ...]] = {}
    problems: list[Problem] = []
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = key_node.value
        at = _position(key_node.start_mark, first_line)
        if key in key_positions:
            problems.append(Problem(path, at.line, at.col, f"duplicate key `{key}`"))
            continue
        key_positions[key] = at
        if isinstance(value_node, yaml.SequenceNode):
            item_positions[key] = tuple(
                _position(item.start_mark, first_line) for item in value_node.value
            )
    if problems:
        raise ContentError(problems)

    # Non-text keys (``1: x``, ``null: x``) are kept as text so they are reported as unknown.
    mapping = {str(key): value for key, value in data.items()}
    return YamlMapping(path, mapping, start, key_positions, item_positions)


#: PyYAML's loader on libyaml (its C parser with the same SafeConstructor and Resolver as
#: ``yaml.SafeLoader``), when PyYAML was built with it.
_LIBYAML_LOADER: type | None = getattr(yaml, "CSafeLoader", None)
#: Characters on which libyaml and PyYAML's own reader part ways, so a text holding one is
#: read by the pure-Python loader: what that reader refuses (``NON_PRINTABLE``: it says
#: which character and where), tabs, a byte order mark after the start, and the line
#: breaks other than CR and LF; also a bare ``!`` (the non-specific tag), which libyaml
#: reads as an empty string where PyYAML reads null when no value follows (``? !``).
_PYTHON_ONLY = re.compile(
    f"[\t\ufeff\x85\u2028\u2029]|{yaml.reader.Reader.NON_PRINTABLE.pattern}"
    r"|(?:^|(?<=[\s\[\]{},]))!(?=[\s\[\]{},]|$)"
)


def _load_with_libyaml(text: str) -> tuple[yaml.Node | None, Any] | None:
    """The composed node and value of ``text`` read by libyaml; None to read it in Python.

    The pure-Python loader took about a millisecond for a module's front matter, most of
    an import's own reading of the files; libyaml composes the same nodes (with the same
    marks) about ten times faster, and the values are constructed by the same Python
    constructor. Only a mapping read cleanly is taken; any other text (one libyaml refuses,
    one with a character on which the two disagree, see ``_PYTHON_ONLY``, or one that is
    not a mapping) is read by the pure-Python loader, so that every problem is still
    reported with its messages and positions, as before.
    """
    if _LIBYAML_LOADER is None or _PYTHON_ONLY.search(text):
        return None
    try:
        loader = _LIBYAML_LOADER(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except _CONSTRUCTION_ERRORS:
        return None
    if not isinstance(node, yaml.MappingNode) or not isinstance(data, dict):
        return None
    return node, data


def _locate_construction_error(root: yaml.Node, error: Exception) -> Exception:
    """Find the scalar whose value failed to construct (e.g. the date ``2024-13-45``)."""
    stack = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(node)
            except _CONSTRUCTION_ERRORS as exc:
                return yaml.MarkedYAMLError(problem=str(exc), problem_mark=node.start_mark)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in reversed(node.value):
                stack.extend((value_node, key_node))
    return error


def _position(mark: yaml.Mark, first_line: int) -> Position:
    return Position(first_line + mark.line, mark.column + 1)


def _yaml_error_problem(exc: Exception, text: str, path: str, first_line: int) -> Problem:
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position)
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        # PyYAML stores the offending character as its code point.
        message = f"YAML does not allow the character U+{exc.character:04X} here"
        return Problem(path, first_line + line, col, message)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        at = _position(mark, first_line) if mark is not None else Position(first_line, 1)
        parts = [part for part in (exc.context, exc.problem) if part]
        syntax_errors = (
            yaml.scanner.ScannerError,
            yaml.parser.ParserError,
            yaml.composer.ComposerError,
        )
        kind = "YAML syntax error" if isinstance(exc, syntax_errors) else "YAML value error"
        message = f"{kind}: {', '.join(parts)}" if parts else kind
        return Problem(path, at.line, at.col, message)
    if isinstance(exc, RecursionError):
        return Problem(path, first_line, 1, "the YAML is nested too deeply")
    return Problem(path, first_line, 1, f"YAML value cannot be read: {exc}")


def _describe(value: object) -> str:
    """Name a YAML value's type the way an editor would recognise it in a message."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, dt.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, bytes):
        return "binary data"
    return type(value).__name__


def _quote_hint(value: object) -> str:
    # YAML turns `yes`, `no`, `1.0` and dates into non-text; quoting is the fix editors need.
    if isinstance(value, bool | int | float | dt.date):
        return "; put it in quotes"
    return ""


class FieldChecker:
    """Read typed fields out of a YamlMapping, collecting precise problems instead of raising."""

    def __init__(self, mapping: YamlMapping, known_keys: Collection[str]) -> None:
        self.mapping = mapping
        self.problems: list[Problem] = []
        self._known_keys = known_keys

    def error(self, key: str | None, message: str, *, item: int | None = None) -> None:
        """Record an error located at ``key``."""
        self.problems.append(self.mapping.problem(key, message, item=item))

    def warning(self, key: str | None, message: str) -> None:
        """Record a warning located at ``key``."""
        self.problems.append(self.mapping.problem(key, message, severity="warning"))

    def has(self, key: str) -> bool:
        """Tell whether ``key`` is written with a non-empty value."""
        return self.mapping.data.get(key) is not None

    def warn_unknown_keys(self) -> None:
        """Warn about keys the format does not define, which are usually typos."""
        known = ", ".join(sorted(self._known_keys))
        for key in self.mapping.data:
            if key not in self._known_keys:
                self.warning(key, f"unknown key `{key}` is ignored (known keys: {known})")

    def text(self, key: str, *, required: bool) -> str | None:
        """Read a non-empty text value."""
        value = self.mapping.data.get(key)
        if value is None:
            if required:
                self.error(None, f"missing required key `{key}`")
            return None
        if not isinstance(value, str):
            self.error(key, f"`{key}` must be text, not {_describe(value)}{_quote_hint(value)}")
            return None
        if not value.strip():
            self.error(key, f"`{key}` must not be empty")
            return None
        return value.strip()

    def identifier(self, key: str, *, required: bool) -> str | None:
        """Read a stable id (lower-case letters, digits and hyphens)."""
        value = self.text(key, required=required)
        if value is not None and not ID_PATTERN.match(value):
            self.error(key, f"`{key}` {_id_rule(value)}")
            return None
        return value

    def choice(
        self, key: str, choices: Collection[str], *, required: bool, default: str | None = None
    ) -> str | None:
        """Read a value that must be one of ``choices``; ``default`` when it is not written."""
        value = self.mapping.data.get(key)
        if value is None:
            if required:
                self.error(None, f"missing required key `{key}` (one of {', '.join(choices)})")
            return default
        if not isinstance(value, str) or value not in choices:
            shown = f"`{value}`" if isinstance(value, str) else _describe(value)
            self.error(key, f"`{key}` must be one of {', '.join(choices)}, not {shown}")
            return default
        return value

    def whole_number(self, key: str, *, minimum: int, maximum: int) -> int | None:
        """Read an optional whole number within ``minimum``..``maximum``."""
        value = self.mapping.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"`{key}` must be a whole number, not {_describe(value)}")
            return None
        if not minimum <= value <= maximum:
            self.error(key, f"`{key}` must be between {minimum} and {maximum}, not {value}")
            return None
        return value

    def text_list(
        self,
        key: str,
        *,
        ids: bool = False,
        choices: Collection[str] | None = None,
    ) -> tuple[str, ...]:
        """Read an optional list of text items; ``ids`` and ``choices`` restrict the items."""
        value = self.mapping.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error(
                key, f"`{key}` must be a list (`[a, b]` or `- a` lines), not {_describe(value)}"
            )
            return ()
        items: list[str] = []
        for index, item in enumerate(value):
            where = f"`{key}` item {index + 1}"
            if not isinstance(item, str) or not item.strip():
                shown = "empty text" if isinstance(item, str) else _describe(item)
                self.error(key, f"{where} must be text, not {shown}", item=index)
            elif ids and not ID_PATTERN.match(item):
                self.error(key, f"{where} {_id_rule(item)}", item=index)
            elif choices is not None and item not in choices:
                self.error(
                    key, f"{where} must be one of {', '.join(choices)}, not `{item}`", item=index
                )
            else:
                items.append(item.strip())
        return tuple(items)

    def language_map(self, key: str, *, required_language: str | None) -> dict[str, str]:
        """Read a mapping of language code to text, e.g. a course title in fi/sv/en."""
        value = self.mapping.data.get(key)
        if value is None:
            if required_language is not None:
                self.error(None, f"missing required key `{key}` (with `{required_language}:` text)")
            return {}
        if not isinstance(value, dict):
            self.error(
                key,
                f"`{key}` must map languages to text (`fi: ...`), not {_describe(value)}",
            )
            return {}
        texts: dict[str, str] = {}
        for language, text in value.items():
            if language not in LANGUAGES:
                self.error(key, f"`{key}` has language `{language}`; use {', '.join(LANGUAGES)}")
            elif not isinstance(text, str) or not text.strip():
                shown = "empty text" if isinstance(text, str) else _describe(text)
                self.error(key, f"`{key}.{language}` must be text, not {shown}")
            else:
                texts[language] = text.strip()
        if required_language is not None and required_language not in value:
            self.error(key, f"`{key}` needs a `{required_language}:` text")
        return texts


def _id_rule(value: str) -> str:
    return (
        f"`{value}` is not a valid id: use lower-case letters a-z, digits and hyphens, "
        "starting with a letter or digit"
    )
