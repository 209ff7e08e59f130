"""Builders for quiz tests: quiz file text around question sections, and parsed questions."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import pytest

from liboppi.quiz.format import parse_quiz
from liboppi.quiz.source import Question

FRONT_MATTER = "---\nid: test-quiz\ntitle: Test quiz\n---\n"


def build_quiz_text(*sections: str, front: str = FRONT_MATTER) -> str:
    """Return a quiz file: front matter, then the dedented sections separated by blank lines."""
    body = "\n\n".join(textwrap.dedent(section).strip("\n") for section in sections)
    return f"{front}\n{body}\n"


@pytest.fixture
def quiz_text() -> Callable[..., str]:
    """Build quiz file text from question sections (and optionally other front matter)."""
    return build_quiz_text


@pytest.fixture
def question_from() -> Callable[[str], Question]:
    """Parse one question section (in a minimal quiz) into its Question."""

    def parse(section: str) -> Question:
        return parse_quiz("quiz.md", build_quiz_text(section)).questions[0]

    return parse
