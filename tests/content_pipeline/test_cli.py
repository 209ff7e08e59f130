"""``flask content check | import | export | stats``: output, exit codes, round trips."""

from __future__ import annotations

import gc
import math
import re

from sqlalchemy import func, select

from liboppi import PROJECT_ROOT
from liboppi.models import Course, Module, ModuleVersion
from liboppi.services import content_import

from .conftest import MODULE_1, MODULE_2, QUIZ, write_files

PROBLEM_LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+)$")


def _files(root) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted((root / "courses").rglob("*"))
        if path.is_file()
    }


def _versions(session) -> int:
    return session.scalar(select(func.count()).select_from(ModuleVersion))


def test_the_shipped_courses_and_quizzes_pass_the_check(runner):
    result = runner.invoke(args=["content", "check", str(PROJECT_ROOT)])
    assert result.exit_code == 0, result.output
    assert not [line for line in result.output.splitlines() if PROBLEM_LINE.match(line)]


def test_the_shipped_content_imports_and_reimports_as_a_no_op(runner, db_session):
    first = runner.invoke(args=["content", "import", str(PROJECT_ROOT)])
    assert first.exit_code == 0, first.output
    counts = db_session.scalar(select(func.count()).select_from(Module))
    assert counts >= 29
    assert re.search(rf"added {counts}, changed 0, unchanged 0, archived 0", first.output)
    second = runner.invoke(args=["content", "import", str(PROJECT_ROOT)])
    assert f"added 0, changed 0, unchanged {counts}, archived 0" in second.output
    assert {c.stable_id for c in db_session.scalars(select(Course))} >= {
        "perehdytys",
        "introduktion",
        "kirjastojarjestelma",
        "verkkokirjasto",
        "digituki",
    }


def test_check_prints_every_error_as_path_line_col_and_exits_1(runner, repo):
    write_files(
        repo,
        {
            "courses/testikurssi/02-lainaus.md": MODULE_2.replace(
                "## Palautus", "#### Palautus"
            ).replace("Verkkokirjasto näyttää lainat.", "![](puuttuu.png)"),
            "courses/toinen/01-finna.md": "---\nid: toinen-finna\ntitle: [rikki\n---\n\nTeksti.\n",
            "courses/testikurssi/99-listaamaton.md": MODULE_1.replace(
                "testikurssi-kirjastojarjestelma", "testikurssi-listaamaton"
            ),
        },
    )

    result = runner.invoke(args=["content", "check", str(repo)])

    assert result.exit_code == 1
    problems = [PROBLEM_LINE.match(line) for line in result.output.splitlines()]
    found = {(m["path"], int(m["line"]), int(m["col"])) for m in problems if m}
    assert ("courses/testikurssi/02-lainaus.md", 9, 49) in found  # the image without alt text
    assert ("courses/testikurssi/02-lainaus.md", 11, 1) in found  # ## then ####
    assert ("courses/toinen/01-finna.md", 4, 1) in found  # the unclosed [ of line 3
    assert ("courses/testikurssi/99-listaamaton.md", 1, 1) in found
    messages = "\n".join(m["message"] for m in problems if m)
    assert "no alt text" in messages and "heading level skips" in messages
    assert "broken image `puuttuu.png`" in messages


def test_check_exits_0_when_there_are_only_warnings(runner, repo):
    write_files(
        repo,
        {"courses/testikurssi/02-lainaus.md": MODULE_2.replace("estimated_minutes: 5\n", "")},
    )
    result = runner.invoke(args=["content", "check", str(repo)])
    assert result.exit_code == 0, result.output
    assert "courses/testikurssi/02-lainaus.md:1:1: warning: no `estimated_minutes`" in result.output


def test_check_reports_an_unknown_quiz_and_a_broken_quiz_file(runner, repo):
    write_files(
        repo,
        {
            "courses/testikurssi/02-lainaus.md": MODULE_2.replace(
                "estimated_minutes: 5\n", "estimated_minutes: 5\nquiz: ei-ole-olemassa\n"
            ),
            "quizzes/toinen/toinen-quiz.md": QUIZ.replace("pass_mark: 0.5", "pass_mark: 7"),
        },
    )
    result = runner.invoke(args=["content", "check", str(repo)])
    assert result.exit_code == 1
    assert "courses/testikurssi/02-lainaus.md:5:1: unknown quiz `ei-ole-olemassa`" in result.output
    assert re.search(r"quizzes/toinen/toinen-quiz\.md:4:\d+: ", result.output)
    # The quiz file has a problem but its id is still known: no "unknown quiz" for toinen.
    assert "unknown quiz `toinen-quiz`" not in result.output


def test_check_refuses_an_id_changed_on_an_imported_file(runner, repo, imported):
    write_files(
        repo,
        {
            "courses/testikurssi/02-lainaus.md": MODULE_2.replace(
                "id: testikurssi-lainaus", "id: testikurssi-lainaaminen"
            )
        },
    )
    result = runner.invoke(args=["content", "check", str(repo)])
    assert result.exit_code == 1
    assert (
        "courses/testikurssi/02-lainaus.md:2:1: id changed from `testikurssi-lainaus` "
        "to `testikurssi-lainaaminen`"
    ) in result.output


def test_import_with_any_error_changes_nothing_and_lists_every_error(
    runner, repo, imported, db_session
):
    versions = _versions(db_session)
    write_files(
        repo,
        {
            "courses/testikurssi/02-lainaus.md": MODULE_2 + "\nMuutos, jota ei tuoda.\n",
            "courses/testikurssi/03-kuvat.md": "---\nid: testikurssi-kuvat\ntitle: X\n---\n",
            "courses/toinen/01-finna.md": "---\ntitle: ilman id:tä\n---\n\nTeksti.\n",
        },
    )

    result = runner.invoke(args=["content", "import", str(repo)])

    assert result.exit_code == 1
    paths = {m["path"] for m in map(PROBLEM_LINE.match, result.output.splitlines()) if m}
    assert paths == {"courses/testikurssi/03-kuvat.md", "courses/toinen/01-finna.md"}
    assert _versions(db_session) == versions
    db_session.expire_all()
    lainaus = db_session.scalar(select(Module).filter_by(stable_id="testikurssi-lainaus"))
    assert lainaus.current_version.raw_text == MODULE_2


def test_import_prints_a_summary_line_and_is_idempotent(runner, repo, db_session):
    first = runner.invoke(args=["content", "import", str(repo)])
    assert first.exit_code == 0, first.output
    assert "added 4, changed 0, unchanged 0, archived 0" in first.output
    write_files(repo, {"courses/testikurssi/02-lainaus.md": MODULE_2 + "\nLisäys.\n"})
    second = runner.invoke(args=["content", "import", str(repo)])
    assert "added 0, changed 1, unchanged 3, archived 0" in second.output
    third = runner.invoke(args=["content", "import", str(repo)])
    assert "added 0, changed 0, unchanged 4, archived 0" in third.output


def test_import_pauses_the_garbage_collector_and_restarts_it_even_after_errors(
    runner, repo, monkeypatch
):
    seen: list[bool] = []
    real = content_import.import_tree
    monkeypatch.setattr(
        content_import,
        "import_tree",
        lambda *args, **kwargs: seen.append(gc.isenabled()) or real(*args, **kwargs),
    )

    imported = runner.invoke(args=["content", "import", str(repo)])
    enabled_after_import = gc.isenabled()
    write_files(repo, {"courses/toinen/01-finna.md": "---\ntitle: ilman id:tä\n---\n"})
    refused = runner.invoke(args=["content", "import", str(repo)])

    assert imported.exit_code == 0, imported.output
    assert refused.exit_code == 1
    assert seen == [False]
    assert enabled_after_import and gc.isenabled()


def test_import_uses_the_configured_folders_without_a_path(runner, repo):
    result = runner.invoke(args=["content", "import"])
    assert result.exit_code == 0, result.output
    assert "added 4, changed 0, unchanged 0, archived 0" in result.output


def test_export_writes_every_file_byte_for_byte_and_reimport_changes_nothing(
    runner, repo, db_session, tmp_path
):
    crlf = MODULE_2.replace("\n", "\r\n")
    write_files(repo, {"courses/testikurssi/02-lainaus.md": "\ufeff" + crlf})
    assert runner.invoke(args=["content", "import", str(repo)]).exit_code == 0
    target = tmp_path / "export"

    result = runner.invoke(args=["content", "export", str(target)])

    assert result.exit_code == 0, result.output
    assert _files(target) == _files(repo)
    again = runner.invoke(args=["content", "import", str(target)])
    assert "added 0, changed 0, unchanged 4, archived 0" in again.output
    # Exporting again over the same folder touches nothing.
    twice = runner.invoke(args=["content", "export", str(target)])
    assert "wrote 0" in twice.output


def test_stats_prints_words_reading_time_and_quiz_questions(runner, imported, db_session):
    result = runner.invoke(args=["content", "stats"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line.split() for line in result.output.splitlines()[1:-1]}
    version = db_session.scalar(
        select(ModuleVersion)
        .join(Module, Module.current_version_id == ModuleVersion.id)
        .where(Module.stable_id == "testikurssi-kirjastojarjestelma")
    )
    words = version.word_count
    assert rows["testikurssi-kirjastojarjestelma"][2:] == [
        str(words),
        str(math.ceil(words / 200)),
        "0",
    ]
    assert rows["toinen-finna"][4] == "1"  # the quiz has one question
    total = result.output.splitlines()[-1].split()
    assert total[0] == "total" and total[1] == "4" and total[-1] == "1"
