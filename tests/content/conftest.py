"""Factories for small content repositories written into ``tmp_path``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

WriteTree = Callable[[Mapping[str, str | bytes]], Path]


@pytest.fixture
def write_tree(tmp_path: Path) -> WriteTree:
    """Factory: write ``{relative path: text or bytes}`` under a fresh repository root."""

    def write(files: Mapping[str, str | bytes]) -> Path:
        for relative, content in files.items():
            path = tmp_path / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                # newline="" so that tests control the exact bytes, CRLF included.
                with path.open("w", encoding="utf-8", newline="") as handle:
                    handle.write(content)
        return tmp_path

    return write


def _course_yaml(course_id: str = "perehdytys", modules: tuple[str, ...] = ("01-a.md",)) -> str:
    """The text of a valid ``course.yaml`` listing ``modules``."""
    listed = "".join(f"  - {name}\n" for name in modules)
    return (
        f"id: {course_id}\n"
        "language: fi\n"
        "title:\n"
        "  fi: Perehdytys kirjastotyöhön\n"
        f"modules:\n{listed}"
    )


def _module_text(module_id: str = "perehdytys-a", body: str = "## Osio\n\nTeksti.\n") -> str:
    """The text of a valid module file: seven front matter lines, then ``body`` on line 8."""
    return (
        "---\n"
        f"id: {module_id}\n"
        "title: Yleisen kirjaston tehtävät\n"
        "estimated_minutes: 15\n"
        "objectives:\n"
        "  - Osaat kertoa kirjastolain tavoitteet.\n"
        "---\n"
        f"{body}"
    )


@pytest.fixture
def course_yaml() -> Callable[..., str]:
    """Factory: the text of a valid ``course.yaml`` (id on line 1, module items from line 6)."""
    return _course_yaml


@pytest.fixture
def module_text() -> Callable[..., str]:
    """Factory: the text of a valid module (id on line 2, body from line 8)."""
    return _module_text


@pytest.fixture
def valid_course() -> Callable[..., dict[str, str | bytes]]:
    """Factory: the files of one valid course folder, ready for ``write_tree``."""

    def make(
        folder: str = "perehdytys", course_id: str = "perehdytys", module_id: str = "perehdytys-a"
    ) -> dict[str, str | bytes]:
        return {
            f"courses/{folder}/course.yaml": _course_yaml(course_id),
            f"courses/{folder}/01-a.md": _module_text(module_id),
        }

    return make
