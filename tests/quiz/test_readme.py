"""The editors' guide quizzes/README.md: its examples are valid quizzes and it covers everything."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from liboppi.quiz.format import SETTING_KEYS, parse_quiz
from liboppi.quiz.registry import QUESTION_TYPES

README = Path(__file__).resolve().parents[2] / "quizzes" / "README.md"
TEXT = README.read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```markdown\n(.*?)```", TEXT, re.DOTALL)
FINNISH, _, ENGLISH = TEXT.partition("## In English")


def test_the_guide_has_complete_examples_in_both_languages() -> None:
    assert len(EXAMPLES) == 4
    assert sum(example in FINNISH for example in EXAMPLES) == 2


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.split("\n")[1])
def test_every_example_in_the_guide_is_a_valid_quiz(example: str) -> None:
    assert parse_quiz("README.md", example).questions


@pytest.mark.parametrize("section", [FINNISH, ENGLISH], ids=["finnish", "english"])
def test_each_language_has_an_example_of_every_question_type(section: str) -> None:
    examples = [example for example in EXAMPLES if example in section]
    types = {
        question.type
        for example in examples
        for question in parse_quiz("README.md", example).questions
    }
    assert types == set(QUESTION_TYPES)


@pytest.mark.parametrize("section", [FINNISH, ENGLISH], ids=["finnish", "english"])
def test_each_language_documents_every_setting_and_the_gift_commands(section: str) -> None:
    for key in SETTING_KEYS:
        assert f"| `{key}` |" in section
    assert "flask quiz import-gift" in section and "--skip-unsupported" in section
    assert "flask quiz export-gift" in section
