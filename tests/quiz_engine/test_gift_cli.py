"""``flask quiz import-gift`` and ``export-gift``: files, nothing half-imported, round trip."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from liboppi.models import Quiz, QuizVersion
from liboppi.quiz.format import parse_quiz_file
from liboppi.quiz.gift import gift_questions
from liboppi.services.quiz_import import quiz_files
from tests.quiz_engine.test_import_cli import REAL_QUIZZES

MOODLE_GIFT = """\ufeff// Exported from Moodle
$CATEGORY: $course$/Kirjaston perusteet

// [id:laina-aika] [tag:lainaus]
::Laina-aika::Kuinka monta päivää on tavallinen laina-aika? {#28:2}

::Kortti::[markdown]Onko kirjastokortti **henkilökohtainen**? {T#Väärin.#Oikein.}

::Palvelut::Mitkä ovat kirjaston palveluja?{
~%50%Lainaus#Kyllä.
~%50%Tietopalvelu
~%-100%Myynti
####Kirjasto lainaa ja neuvoo.
}

::Parit::Yhdistä järjestelmä ja käyttötarkoitus.{
=Koha -> Kirjastojärjestelmä
=Finna -> Hakupalvelu
=Celia -> Saavutettava kirjallisuus
}

::Essee::Kerro kokemuksistasi asiakaspalvelussa.{}

::Aukko::Asiakas lainaa kirjan {=kirjastokortilla ~rahalla} tiskillä.
"""


@pytest.fixture
def quiz_root(app_config, tmp_path) -> Path:
    root = tmp_path / "quizzes"
    root.mkdir()
    app_config["LIBOPPI_QUIZ_ROOT"] = str(root)
    return root


@pytest.fixture
def cli(quiz_root, runner):
    def invoke(*args: str):
        return runner.invoke(args=["quiz", *args])

    return invoke


@pytest.fixture
def moodle_file(tmp_path) -> Path:
    path = tmp_path / "Kirjaston perusteet.gift"
    path.write_bytes(MOODLE_GIFT.replace("\n", "\r\n").encode("utf-8"))
    return path


def test_an_unsupported_question_stops_the_import_with_file_and_line(
    cli, quiz_root, moodle_file, db_session
):
    result = cli("import-gift", str(moodle_file), "--course", "perusteet")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if re.match(r"^.+\.gift:\d+: ", line)]
    assert errors, result.output
    assert any(line.startswith(f"{moodle_file}:22: ") for line in errors), errors
    assert list(quiz_root.rglob("*.md")) == []
    assert list(quiz_root.rglob("*.tmp")) == []
    assert db_session.scalars(select(Quiz)).all() == []


def test_skip_unsupported_imports_the_rest_and_lists_what_was_skipped(
    cli, quiz_root, moodle_file, db_session
):
    result = cli("import-gift", str(moodle_file), "--course", "perusteet", "--skip-unsupported")
    assert result.exit_code == 0, result.output
    assert "Skipped 1 unsupported question(s):" in result.stdout
    assert f"{moodle_file}:22: " in result.stdout
    target = quiz_root / "perusteet" / "kirjaston-perusteet.md"
    quiz = parse_quiz_file(target, quiz_root)
    assert [(q.id, q.type) for q in quiz.questions] == [
        ("laina-aika", "numeric"),
        ("kortti", "truefalse"),
        ("palvelut", "multiple"),
        ("parit", "matching"),
        ("aukko", "single"),
    ]
    assert quiz.questions[0].tags == ("lainaus",)
    assert quiz.title == "$course$/Kirjaston perusteet"
    row = db_session.scalars(select(Quiz)).one()
    assert (row.stable_id, row.course_id, row.current_version) == (
        "kirjaston-perusteet",
        "perusteet",
        1,
    )


def test_reimporting_keeps_the_quiz_files_title_and_settings(
    cli, quiz_root, moodle_file, db_session
):
    args = ["import-gift", str(moodle_file), "--course", "perusteet", "--quiz-id", "perus"]
    assert cli(*args, "--skip-unsupported").exit_code == 0
    target = quiz_root / "perusteet" / "perus.md"
    text = target.read_text(encoding="utf-8")
    target.write_text(
        text.replace("pass_mark: 0.7", "pass_mark: 0.9").replace(
            "title: $course$/Kirjaston perusteet", "title: Perusteet"
        ),
        encoding="utf-8",
    )
    smaller = moodle_file.with_name("pienempi.gift")
    smaller.write_text("::Kortti::Onko kortti henkilökohtainen? {TRUE}\n", encoding="utf-8")
    result = cli("import-gift", str(smaller), "--course", "perusteet", "--quiz-id", "perus")
    assert result.exit_code == 0, result.output
    quiz = parse_quiz_file(target, quiz_root)
    assert (quiz.title, quiz.settings.pass_mark) == ("Perusteet", 0.9)
    assert [q.id for q in quiz.questions] == ["kortti"]
    assert db_session.scalars(select(Quiz)).one().current_version == 2


def test_a_quiz_id_of_another_course_is_refused(cli, quiz_root, moodle_file, db_session):
    args = ["import-gift", str(moodle_file), "--quiz-id", "perus", "--skip-unsupported"]
    assert cli(*args, "--course", "eka").exit_code == 0
    result = cli(*args, "--course", "toka")
    assert result.exit_code == 2
    assert "already used" in result.stderr
    assert not (quiz_root / "toka").exists() or list((quiz_root / "toka").iterdir()) == []


def test_export_then_import_gives_the_same_questions(cli, quiz_root, tmp_path, db_session):
    assert cli("import", str(REAL_QUIZZES)).exit_code == 0
    files = quiz_files(REAL_QUIZZES)
    for path in files:
        original = parse_quiz_file(path, REAL_QUIZZES)
        exported = tmp_path / f"{original.id}.gift"
        result = cli("export-gift", original.id, "-o", str(exported))
        assert result.exit_code == 0, result.output
        copy_id = f"{original.id}-kopio"
        result = cli("import-gift", str(exported), "--course", "kopiot", "--quiz-id", copy_id)
        assert result.exit_code == 0, (path, result.output)
        back = parse_quiz_file(quiz_root / "kopiot" / f"{copy_id}.md", quiz_root)
        assert back.questions == tuple(gift_questions(original.questions)), path
        assert back.title == original.title
    copies = db_session.scalars(select(Quiz).where(Quiz.course_id == "kopiot")).all()
    assert len(copies) == len(files)


def test_export_to_standard_output_and_unknown_quiz(cli, quiz_root, moodle_file, db_session):
    cli("import-gift", str(moodle_file), "--course", "perusteet", "--skip-unsupported")
    result = cli("export-gift", "kirjaston-perusteet")
    assert result.exit_code == 0
    assert "::laina-aika::" in result.stdout
    assert "$CATEGORY: " in result.stdout
    missing = cli("export-gift", "ei-ole")
    assert missing.exit_code == 2
    assert "no quiz 'ei-ole'" in missing.stderr


def test_a_file_that_is_not_utf8_is_refused(cli, quiz_root, tmp_path, db_session):
    path = tmp_path / "latin1.gift"
    path.write_bytes("::Q::Äänikirja? {TRUE}\n".encode("latin-1"))
    result = cli("import-gift", str(path), "--course", "perusteet")
    assert result.exit_code == 1
    assert f"{path}:1: the file is not UTF-8 text" in result.stderr
    assert db_session.scalars(select(QuizVersion)).all() == []
