"""Item analysis numbers on a small data set worked out by hand."""

from __future__ import annotations

import csv
import io
import statistics
from datetime import timedelta

import pytest
from sqlalchemy import select

from liboppi import clock
from liboppi.models import Attempt, Role
from liboppi.services import attempts, item_analysis
from liboppi.services.authz import SYSTEM, Principal, load_principal
from tests.quiz_engine.conftest import RECORDER, START, quiz_text

QUIZ = "analyysi"
OPTION = {"E": "Ensimmäinen vaihtoehto", "T": "Toinen vaihtoehto", "K": "Kolmas vaihtoehto"}
# Per learner: (true/false answer, single choice, multiple choice); None = not answered.
ANSWERS = [
    ("true", "E", ["Alfa", "Gamma"]),  # 1 + 1 + 2 = 4 of 4
    ("true", "E", ["Alfa"]),  # 1 + 1 + 1 = 3
    ("true", "T", ["Alfa", "Beeta"]),  # 1 + 0 + 0 = 1
    ("false", "E", ["Alfa", "Gamma"]),  # 0 + 1 + 2 = 3
    ("false", "K", None),  # 0
    ("true", None, ["Gamma"]),  # 1 + 0 + 1 = 2
]
# Question scores (0–1) per learner, and points of each question.
X = {
    "tosi": [1, 1, 1, 0, 0, 1],
    "valinta": [1, 1, 0, 1, 0, 0],
    "monivalinta": [1, 0.5, 0, 1, 0, 0.5],
}
POINTS = {"tosi": 1, "valinta": 1, "monivalinta": 2}


def take(db_session, user, number: int, answers) -> None:
    """One learner's attempt: answers saved one by one at known times, then submitted."""
    clock.set_now(START)
    attempt = attempts.start_attempt(db_session, user.id, QUIZ, RECORDER)
    view = attempts.get_attempt(db_session, user.id, attempt.id, RECORDER)
    options = {
        q.id: {o.get("text"): o["id"] for o in q.view.get("options", [])} for q in view.questions
    }
    truefalse, single, multiple = answers
    clock.advance(timedelta(seconds=10 * number))
    attempts.save_answers(db_session, user.id, attempt.id, {"tosi": truefalse}, RECORDER)
    clock.advance(timedelta(seconds=20 + number))
    if single is not None:
        chosen = options["valinta"][OPTION[single]]
        attempts.save_answers(db_session, user.id, attempt.id, {"valinta": chosen}, RECORDER)
    clock.advance(timedelta(seconds=5 * number))
    if multiple is not None:
        chosen = [options["monivalinta"][text] for text in multiple]
        attempts.save_answers(db_session, user.id, attempt.id, {"monivalinta": chosen}, RECORDER)
    attempts.submit_attempt(db_session, user.id, attempt.id, RECORDER)
    db_session.commit()


@pytest.fixture
def data_set(db_session, install_quiz, create_user):
    install_quiz(quiz_text(QUIZ, types=("truefalse", "single", "multiple"), pass_mark=0.5))
    learners = [create_user(Role.LEARNER) for _ in ANSWERS]
    for number, (user, answers) in enumerate(zip(learners, ANSWERS, strict=True), 1):
        take(db_session, user, number, answers)
    # Neither an unfinished attempt nor a practice counts.
    other = create_user(Role.LEARNER)
    attempts.start_attempt(db_session, other.id, QUIZ, RECORDER)
    third = db_session.scalars(select(Attempt).where(Attempt.user_id == learners[2].id)).one()
    practice = attempts.start_practice(db_session, learners[2].id, third.id)
    attempts.answer_practice(db_session, learners[2].id, practice.id, "valinta", "nonsense")
    db_session.commit()
    clock.set_now(None)
    return learners


def editor_principal(db_session, create_user) -> Principal:
    return load_principal(db_session, create_user(Role.EDITOR).id)


def test_facility_discrimination_and_median_time(db_session, data_set, create_user):
    result = item_analysis.analyse(db_session, editor_principal(db_session, create_user), QUIZ)
    assert (result.attempts, result.people, result.is_suppressed) == (6, 6, False)
    stats = {q.id: q for q in result.questions}
    raw = [sum(X[q][i] * POINTS[q] for q in X) for i in range(6)]
    for question_id, scores in X.items():
        rest = [raw[i] - scores[i] * POINTS[question_id] for i in range(6)]
        assert stats[question_id].attempts == 6
        assert stats[question_id].facility == pytest.approx(statistics.fmean(scores))
        assert stats[question_id].discrimination == pytest.approx(
            statistics.correlation(scores, rest)
        )
    assert stats["tosi"].median_seconds == pytest.approx(35.0)  # 10, 20, ... 60
    assert stats["valinta"].median_seconds == pytest.approx(23.0)  # 21 ... 25
    # 5, 10, 15, 20 and 56 (learner 6 skipped the single choice: 26 + 30 s since the last save)
    assert stats["monivalinta"].median_seconds == pytest.approx(15.0)
    assert (stats["valinta"].answered, stats["monivalinta"].answered) == (5, 5)


def test_option_distribution(db_session, data_set, create_user):
    result = item_analysis.analyse(db_session, editor_principal(db_session, create_user), QUIZ)
    stats = {q.id: q for q in result.questions}
    single = {o.text: (o.count, o.is_correct) for o in stats["valinta"].options}
    assert single == {
        "Ensimmäinen vaihtoehto": (3, True),
        "Toinen vaihtoehto": (1, False),
        "Kolmas vaihtoehto": (1, False),
    }
    multiple = {o.text: o.count for o in stats["monivalinta"].options}
    assert multiple == {"Alfa": 4, "Beeta": 1, "Gamma": 3, "Delta": 0}
    truefalse = {o.id: (o.count, o.share) for o in stats["tosi"].options}
    assert truefalse == {"true": (4, pytest.approx(4 / 6)), "false": (2, pytest.approx(2 / 6))}


def test_score_distribution_mean_and_pass_rate(db_session, data_set, create_user):
    result = item_analysis.analyse(db_session, editor_principal(db_session, create_user), QUIZ)
    # Scaled scores 1.0, 0.75, 0.25, 0.75, 0, 0.5.
    assert [band.count for band in result.bands] == [1, 0, 1, 0, 0, 1, 0, 2, 0, 1]
    assert result.mean_scaled == pytest.approx(3.25 / 6)
    assert result.pass_rate == pytest.approx(4 / 6)


def test_one_version_only(db_session, data_set, install_quiz, create_user):
    install_quiz(quiz_text(QUIZ, types=("truefalse", "single", "multiple"), pass_mark=0.6))
    principal = editor_principal(db_session, create_user)
    assert item_analysis.analyse(db_session, principal, QUIZ, version=1).attempts == 6
    assert item_analysis.analyse(db_session, principal, QUIZ, version=2).attempts == 0
    assert item_analysis.analyse(db_session, principal, QUIZ).attempts == 6


def test_fewer_than_five_people_are_shown_to_admins_only(db_session, install_quiz, create_user):
    install_quiz(quiz_text(QUIZ, types=("truefalse", "single", "multiple")))
    for number, answers in enumerate(ANSWERS[:4], 1):
        take(db_session, create_user(Role.LEARNER), number, answers)
    editor = item_analysis.analyse(db_session, editor_principal(db_session, create_user), QUIZ)
    assert editor.is_suppressed
    assert editor.attempts == 0 and all(q.facility is None for q in editor.questions)
    admin = item_analysis.analyse(db_session, SYSTEM, QUIZ)
    assert not admin.is_suppressed and admin.attempts == 4


def test_the_page_and_the_csv_show_the_same_numbers(client, logged_in, db_session, data_set):
    logged_in(Role.LIBRARY_COORDINATOR)
    page = client.get(f"/quizzes/{QUIZ}/item-analysis").get_data(as_text=True)
    assert 'data-attempts="6" data-people="6"' in page
    assert 'data-question-id="tosi" data-attempts="6" data-facility="0.6667"' in page
    assert 'data-band="7" data-count="2"' in page
    assert '<title id="chart-title">' in page
    rows = list(csv.DictReader(io.StringIO(client.get(f"/quizzes/{QUIZ}/item-analysis.csv").text)))
    assert [row["question_id"] for row in rows] == ["tosi", "valinta", "monivalinta"]
    assert rows[0]["facility"] == "0.667"
    assert rows[0]["median_seconds"] == "35.000"


def test_the_command_prints_the_analysis_and_writes_csv(runner, data_set, tmp_path):
    result = runner.invoke(args=["quiz", "item-analysis", QUIZ])
    assert result.exit_code == 0, result.output
    assert "6 attempts by 6 people" in result.stdout
    assert "Score bands: 1 0 1 0 0 1 0 2 0 1" in result.stdout
    target = tmp_path / "analyysi.csv"
    result = runner.invoke(args=["quiz", "item-analysis", QUIZ, "--csv", str(target)])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[1]["question_id"] == "valinta" and rows[1]["facility"] == "0.500"
    missing = runner.invoke(args=["quiz", "item-analysis", "ei-ole"])
    assert missing.exit_code == 2


def test_rebuilding_the_counters_gives_the_same_analysis(db_session, data_set, runner):
    before = item_analysis.analyse(db_session, SYSTEM, QUIZ)
    result = runner.invoke(args=["quiz", "item-analysis", QUIZ, "--rebuild"])
    assert result.exit_code == 0, result.output
    assert "Recounted 6 attempt(s)." in result.stderr
    db_session.expire_all()
    after = item_analysis.analyse(db_session, SYSTEM, QUIZ)
    assert after == before
