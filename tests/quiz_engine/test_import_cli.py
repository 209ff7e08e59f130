"""``flask quiz import``: idempotent by content hash, versions, archiving, all or nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from liboppi import PROJECT_ROOT
from liboppi.models import Quiz, QuizVersion
from liboppi.services.quiz_import import quiz_files
from tests.quiz_engine.conftest import quiz_text

REAL_QUIZZES = PROJECT_ROOT / "quizzes"
PROBLEM_LINE = re.compile(r"^(?P<path>[^:\n]+\.md):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


@pytest.fixture
def quiz_root(app_config, tmp_path) -> Path:
    """An empty quiz folder, configured as the app's quiz root."""
    root = tmp_path / "quizzes"
    root.mkdir()
    app_config["LIBOPPI_QUIZ_ROOT"] = str(root)
    return root


@pytest.fixture
def cli(quiz_root, runner):
    """Run ``flask quiz ...`` against the configured quiz root."""

    def invoke(*args: str):
        return runner.invoke(args=["quiz", *args])

    return invoke


def write(root: Path, course: str, text: str, name: str | None = None) -> Path:
    quiz_id = re.search(r"^id: \"?([a-z0-9-]+)", text, re.MULTILINE).group(1)
    path = root / course / f"{name or quiz_id}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def versions(db_session, quiz_id: str) -> list[int]:
    return list(
        db_session.scalars(
            select(QuizVersion.number)
            .join(Quiz, Quiz.id == QuizVersion.quiz_id)
            .where(Quiz.stable_id == quiz_id)
            .order_by(QuizVersion.number)
        )
    )


def test_importing_the_real_quizzes_twice_adds_them_once(cli, db_session):
    count = len(quiz_files(REAL_QUIZZES))
    assert count >= 25
    first = cli("import", str(REAL_QUIZZES))
    assert first.exit_code == 0, first.output
    assert f"added {count}, changed 0, unchanged 0, archived 0" in first.stdout
    second = cli("import", str(REAL_QUIZZES))
    assert second.exit_code == 0, second.output
    assert f"added 0, changed 0, unchanged {count}, archived 0" in second.stdout
    assert len(db_session.scalars(select(QuizVersion)).all()) == count


def test_the_default_path_is_the_configured_quiz_root(cli, quiz_root, db_session):
    write(quiz_root, "kurssi", quiz_text("oletus"))
    result = cli("import")
    assert result.exit_code == 0, result.output
    assert "added 1" in result.stdout
    assert db_session.scalars(select(Quiz)).one().course_id == "kurssi"


def test_a_changed_file_becomes_a_new_version_and_a_removed_one_is_archived(
    cli, quiz_root, db_session
):
    first = write(quiz_root, "kurssi", quiz_text("eka"))
    write(quiz_root, "kurssi", quiz_text("toka"))
    assert "added 2" in cli("import").stdout
    first.write_text(quiz_text("eka", pass_mark=0.9), encoding="utf-8")
    (quiz_root / "kurssi" / "toka.md").unlink()
    result = cli("import")
    assert "added 0, changed 1, unchanged 0, archived 1" in result.stdout
    assert versions(db_session, "eka") == [1, 2]
    quizzes = {q.stable_id: q for q in db_session.scalars(select(Quiz))}
    assert quizzes["eka"].current_version == 2
    assert quizzes["toka"].is_archived
    write(quiz_root, "kurssi", quiz_text("toka"))
    result = cli("import")
    assert "added 0, changed 1, unchanged 1, archived 0" in result.stdout
    db_session.expire_all()
    assert not db_session.scalars(select(Quiz).where(Quiz.stable_id == "toka")).one().is_archived
    assert versions(db_session, "toka") == [1]


def test_one_broken_file_imports_nothing_and_reports_path_line_and_column(
    cli, quiz_root, db_session
):
    good = write(quiz_root, "kurssi", quiz_text("hyva"))
    assert cli("import").exit_code == 0
    good.write_text(quiz_text("hyva", pass_mark=0.8), encoding="utf-8")
    write(quiz_root, "kurssi", quiz_text("uusi"))
    broken = quiz_text("rikki", pass_mark=1.5).replace("type: truefalse", "type: essay")
    write(quiz_root, "kurssi", broken)
    result = cli("import")
    assert result.exit_code == 1
    problems = [PROBLEM_LINE.match(line) for line in result.stderr.splitlines()]
    found = [(m["path"], int(m["line"]), m["message"]) for m in problems if m]
    assert {path for path, _line, _message in found} == {"kurssi/rikki.md"}
    assert any(line == 4 and "pass_mark" in message for _p, line, message in found)
    assert any("essay" in message for _p, _line, message in found)
    assert "Traceback" not in result.output
    # Nothing of this run was written: no new quiz, no new version of the changed one.
    assert [q.stable_id for q in db_session.scalars(select(Quiz))] == ["hyva"]
    assert versions(db_session, "hyva") == [1]


def test_a_quiz_id_used_in_two_courses_is_an_error(cli, quiz_root, db_session):
    write(quiz_root, "eka-kurssi", quiz_text("sama"))
    write(quiz_root, "toka-kurssi", quiz_text("sama"))
    result = cli("import")
    assert result.exit_code == 1
    assert "toka-kurssi/sama.md:1:1: the quiz id 'sama' is already used by eka-kurssi/sama.md" in (
        result.stderr
    )
    assert db_session.scalars(select(Quiz)).all() == []


def test_a_file_name_that_differs_from_the_quiz_id_is_an_error(cli, quiz_root, db_session):
    write(quiz_root, "kurssi", quiz_text("oikea-id"), name="vaara-nimi")
    result = cli("import")
    assert result.exit_code == 1
    assert re.search(r"kurssi/vaara-nimi\.md:2:5: the quiz id 'oikea-id' must match", result.stderr)


def test_a_moved_quiz_changes_course_without_a_new_version(cli, quiz_root, db_session):
    path = write(quiz_root, "vanha", quiz_text("siirtyva"))
    cli("import")
    target = quiz_root / "uusi" / "siirtyva.md"
    target.parent.mkdir()
    path.rename(target)
    result = cli("import")
    assert "changed 1" in result.stdout
    quiz = db_session.scalars(select(Quiz)).one()
    assert (quiz.course_id, quiz.current_version) == ("uusi", 1)
