"""Module files: splitting the YAML front matter from the Markdown body, and its metadata."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from liboppi.content.problems import ContentError, Problem
from liboppi.content.yaml_source import (
    LANGUAGES,
    FieldChecker,
    Position,
    parse_yaml_mapping,
)

FENCE = "---"
_CLOSING_FENCES = ("---", "...")
# markdown-it and PyYAML both treat a lone CR as a line break, so line numbers must too.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")

MODULE_KEYS = ("id", "title", "estimated_minutes", "objectives", "tags", "quiz", "lang")


@dataclass(frozen=True, slots=True)
class SplitModule:
    """A module file cut into its front matter text and Markdown body, with their file lines."""

    front_matter: str
    front_matter_line: int
    closing_line: int
    body: str
    body_line: int


def split_lines(text: str) -> list[str]:
    """Split text into lines, keeping their endings, counting lines as markdown-it does."""
    if "\r" in text:
        return _LINE.findall(text)
    # Only LF endings: the same lines as the pattern gives, three times faster (an import
    # splits every new module file, and checks every body's headings by line).
    lines = text.split("\n")
    last = lines.pop()
    found = [line + "\n" for line in lines]
    if last:
        found.append(last)
    return found


def split_front_matter(text: str, path: str) -> SplitModule:
    """Split a module file into front matter and body; raise ContentError if the fences are wrong.

    The file must start with a ``---`` line and the front matter ends at the next ``---`` (or
    ``...``) line. ``body_line`` is the 1-based file line where the body starts, used to offset
    markdown-it's 0-based token lines.
    """
    text = text.removeprefix("\ufeff")
    lines = split_lines(text)
    if not lines or lines[0].rstrip() != FENCE:
        raise ContentError(
            [Problem(path, 1, 1, "the file must start with a `---` line opening the front matter")]
        )
    offset = len(lines[0])
    for index in range(1, len(lines)):
        offset += len(lines[index])
        if lines[index].rstrip() in _CLOSING_FENCES:
            return SplitModule(
                front_matter="".join(lines[1:index]),
                front_matter_line=2,
                closing_line=index + 1,
                # The lines cover the text end to end: the body is the rest of it.
                body=text[offset:],
                body_line=index + 2,
            )
    raise ContentError(
        [Problem(path, 1, 1, "the front matter opened here is never closed with a `---` line")]
    )


@dataclass(frozen=True)
class ModuleMeta:
    """A module's front matter: its stable id, title and learning metadata."""

    id: str
    title: str
    estimated_minutes: int | None = None
    objectives: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    quiz: str | None = None
    lang: str | None = None
    # Where each key is written, so later checks (quiz ids, changed ids) can point at it.
    positions: dict[str, Position] = field(default_factory=dict, compare=False, repr=False)

    def position_of(self, key: str) -> Position:
        """Return the file position of ``key``, or of the front matter's start if absent."""
        return self.positions.get(key, Position(1, 1))


def parse_module_meta(split: SplitModule, path: str) -> tuple[ModuleMeta, list[Problem]]:
    """Validate a module's front matter; return the metadata and its warnings.

    Raises ContentError carrying every error in the front matter at once.
    """
    if not split.front_matter.strip():
        raise ContentError(
            [Problem(path, 1, 1, "the front matter is empty: write at least `id` and `title`")]
        )
    mapping = parse_yaml_mapping(split.front_matter, path, split.front_matter_line)
    # A missing key is reported at the opening `---`, the line that starts the front matter.
    mapping = replace(mapping, start=Position(1, 1))
    fields = FieldChecker(mapping, MODULE_KEYS)
    module_id = fields.identifier("id", required=True)
    title = fields.text("title", required=True)
    minutes = fields.whole_number("estimated_minutes", minimum=1, maximum=600)
    objectives = fields.text_list("objectives")
    tags = fields.text_list("tags", ids=True)
    quiz = fields.identifier("quiz", required=False)
    lang = fields.choice("lang", LANGUAGES, required=False)

    if not fields.has("estimated_minutes"):
        fields.warning(None, "no `estimated_minutes`: learners plan their time with it")
    if not fields.has("objectives"):
        fields.warning(None, "no `objectives`: list what the learner will be able to do")
    elif mapping.data["objectives"] == []:
        fields.warning(
            "objectives", "`objectives` is empty: list what the learner will be able to do"
        )
    fields.warn_unknown_keys()

    errors = [p for p in fields.problems if p.severity == "error"]
    if errors or module_id is None or title is None:
        raise ContentError(errors)
    meta = ModuleMeta(
        id=module_id,
        title=title,
        estimated_minutes=minutes,
        objectives=objectives,
        tags=tags,
        quiz=quiz,
        lang=lang,
        positions=dict(mapping.key_positions),
    )
    return meta, [p for p in fields.problems if p.severity == "warning"]
