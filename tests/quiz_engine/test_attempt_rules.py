"""Attempt rules on the server, with the settable clock: limits, resume, deadlines, grading."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from liboppi import clock
from liboppi.models import Answer, Attempt, AttemptStatus, QuizVersion
from liboppi.services import attempts, progress, quiz_import
from liboppi.services.errors import Conflict, NotFound
from tests.quiz_engine.conftest import (
    RECORDER,
    START,
    TYPES,
    correct_response,
    quiz_text,
    statements,
    wrong_response,
)


@pytest.fixture
def learner(create_user):
    return create_user("learner")


def answer_all(db_session, user, attempt_id, chooser=correct_response) -> None:
    """Answer every question of an attempt with ``chooser`` and commit."""
    view = attempts.get_attempt(db_session, user.id, attempt_id, RECORDER)
    responses = {q.id: chooser(q.type, dict(q.view)) for q in view.questions}
    outcome = attempts.save_answers(db_session, user.id, attempt_id, responses, RECORDER)
    assert outcome.status == "saved"
    db_session.commit()


def test_every_type_answered_right_scores_full_marks_and_passes(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text())
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    clock.advance(timedelta(minutes=3))
    answer_all(db_session, learner, attempt.id)
    attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER)
    db_session.commit()
    result = attempts.get_result(db_session, learner.id, attempt.id, RECORDER)
    # Seven graded questions, the multiple-choice one worth 2 points; likert is ungraded.
    assert (result.score_raw, result.score_max, result.score_scaled) == (8.0, 8.0, 1.0)
    assert result.has_passed
    rows = db_session.scalars(select(Answer).where(Answer.attempt_id == attempt.id)).all()
    assert {row.question_id: row.is_correct for row in rows} == {
        "valinta": True,
        "monivalinta": True,
        "tosi": True,
        "lyhyt": True,
        "luku": True,
        "pari": True,
        "jarjestys": True,
        "asteikko": None,
    }


def test_every_type_answered_wrong_scores_zero_and_fails(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text())
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    answer_all(db_session, learner, attempt.id, chooser=wrong_response)
    attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER)
    db_session.commit()
    graded = db_session.get(Attempt, attempt.id)
    assert (graded.score_raw, graded.score_scaled, graded.has_passed) == (0.0, 0.0, False)


def test_an_unfinished_attempt_resumes_with_the_same_order(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(shuffle_questions=True))
    first = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    view = attempts.get_attempt(db_session, learner.id, first.id, RECORDER)
    single = next(q for q in view.questions if q.type == "single")
    attempts.save_answers(
        db_session, learner.id, first.id, {single.id: single.view["options"][0]["id"]}, RECORDER
    )
    db_session.commit()
    db_session.expunge_all()  # as after signing out: nothing kept in memory

    again = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    resumed = attempts.get_attempt(db_session, learner.id, again.id, RECORDER)
    assert again.id == first.id
    assert [q.id for q in resumed.questions] == [q.id for q in view.questions]
    assert [q.view for q in resumed.questions] == [q.view for q in view.questions]
    assert next(q for q in resumed.questions if q.id == single.id).is_answered
    assert db_session.scalar(select(func.count()).select_from(Attempt)) == 1
    assert len(statements(db_session, "attempted")) == 1


def test_the_attempt_limit_is_enforced(db_session, install_quiz, learner, frozen_clock):
    install_quiz(quiz_text(attempts=2))
    for _ in range(2):
        attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
        attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER)
        db_session.commit()
    with pytest.raises(Conflict, match="no_attempts_left"):
        attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    overview = attempts.get_overview(db_session, learner.id, "kaikki-tyypit", RECORDER)
    assert (overview.attempts_used, overview.attempts_left, overview.can_start) == (2, 0, False)


def test_an_answer_after_the_deadline_is_rejected_and_the_attempt_submitted_at_the_deadline(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(time_limit=10))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    assert attempt.deadline_at == START + timedelta(minutes=10)
    view = attempts.get_attempt(db_session, learner.id, attempt.id, RECORDER)
    single, truefalse = view.questions[0], view.questions[2]
    clock.advance(timedelta(minutes=9, seconds=59))
    saved = attempts.save_answers(
        db_session,
        learner.id,
        attempt.id,
        {single.id: correct_response("single", dict(single.view))},
        RECORDER,
    )
    db_session.commit()
    assert saved.status == "saved"

    clock.advance(timedelta(seconds=2))
    late = attempts.save_answers(
        db_session, learner.id, attempt.id, {truefalse.id: "true"}, RECORDER
    )
    db_session.commit()

    assert late.status == "late"
    row = db_session.get(Attempt, attempt.id)
    db_session.refresh(row)
    assert row.status is AttemptStatus.SUBMITTED
    assert row.is_auto_submitted
    assert row.submitted_at == START + timedelta(minutes=10)
    answers = {
        a.question_id: a
        for a in db_session.scalars(select(Answer).where(Answer.attempt_id == row.id))
    }
    assert answers[single.id].is_correct is True
    assert answers[truefalse.id].response is None  # the late answer was not saved
    assert row.score_raw == 1.0


def test_an_expired_attempt_is_submitted_when_the_learner_comes_back(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(time_limit=5))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    clock.advance(timedelta(hours=2))
    overview = attempts.get_overview(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    assert overview.open_attempt_id is None
    row = db_session.get(Attempt, attempt.id)
    assert row.status is AttemptStatus.SUBMITTED
    assert row.submitted_at == START + timedelta(minutes=5)
    assert len(statements(db_session, "failed")) == 1


def test_submitting_twice_from_two_tabs_grades_once(
    app, db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text())
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    answer_all(db_session, learner, attempt.id)
    other_tab = app.extensions["liboppi.sessions"]()
    try:
        # The second tab loaded the attempt while it was still in progress.
        stale = attempts.load(other_tab, learner.id, attempt.id)
        assert stale.attempt.status is AttemptStatus.IN_PROGRESS
        attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER)
        db_session.commit()
        clock.advance(timedelta(minutes=1))
        assert attempts.finish(other_tab, stale, clock.now(), RECORDER, auto=False) is False
        other_tab.commit()
        again = attempts.submit_attempt(other_tab, learner.id, attempt.id, RECORDER)
        other_tab.commit()
    finally:
        other_tab.close()
    assert again.submitted_at == START
    assert len(statements(db_session, "passed")) == 1
    assert len(statements(db_session, "failed")) == 0


def test_a_new_version_mid_attempt_keeps_grading_on_the_started_version(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse", "single")))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "true"}, RECORDER)
    db_session.commit()
    # The editor flips the answer and raises the pass mark while the learner is answering.
    changed = quiz_text(types=("truefalse", "single"), pass_mark=1.0).replace(
        "answer: true", "answer: false"
    )
    quiz = install_quiz(changed)
    assert quiz.current_version == 2
    attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER)
    db_session.commit()
    row = db_session.get(Attempt, attempt.id)
    version = db_session.get(QuizVersion, row.quiz_version_id)
    assert version.number == 1
    assert (row.score_raw, row.score_max, row.pass_mark, row.has_passed) == (1.0, 2.0, 0.5, True)
    fresh = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    assert db_session.get(QuizVersion, fresh.quiz_version_id).number == 2
    assert fresh.pass_mark == 1.0


def test_saving_the_same_answer_again_changes_nothing(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse",)))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    for _ in range(3):
        clock.advance(timedelta(seconds=30))
        attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "false"}, RECORDER)
        db_session.commit()
    rows = db_session.scalars(select(Answer).where(Answer.attempt_id == attempt.id)).all()
    assert len(rows) == 1
    assert rows[0].saved_at == START + timedelta(seconds=30)
    assert rows[0].seconds_spent == 30.0
    assert len(statements(db_session, "answered")) == 1
    attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "true"}, RECORDER)
    db_session.commit()
    assert len(statements(db_session, "answered")) == 2


def test_another_users_attempt_is_not_found(db_session, install_quiz, learner, create_user):
    install_quiz(quiz_text(types=("truefalse",)))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    stranger = create_user("learner")
    with pytest.raises(NotFound):
        attempts.get_attempt(db_session, stranger.id, attempt.id, RECORDER)
    with pytest.raises(NotFound):
        attempts.save_answers(db_session, stranger.id, attempt.id, {"tosi": "true"}, RECORDER)
    with pytest.raises(NotFound):
        attempts.submit_attempt(db_session, stranger.id, attempt.id, RECORDER)


def test_an_invalid_answer_is_kept_as_given_and_scores_zero(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(types=("numeric",)))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    outcome = attempts.save_answers(
        db_session, learner.id, attempt.id, {"luku": "neljätuhatta"}, RECORDER
    )
    db_session.commit()
    assert outcome.invalid == ("luku",)
    row = db_session.scalars(select(Answer)).one()
    assert (row.response, row.canonical, row.is_valid) == ("neljätuhatta", None, False)
    attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER)
    db_session.commit()
    db_session.refresh(row)
    assert (row.score, row.is_correct) == (0.0, False)


def test_immediate_feedback_makes_an_answer_final(db_session, install_quiz, learner, frozen_clock):
    install_quiz(quiz_text(types=("truefalse", "single"), feedback="immediately"))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "false"}, RECORDER)
    db_session.commit()
    view = attempts.get_attempt(db_session, learner.id, attempt.id, RECORDER)
    tosi = view.questions[0]
    assert tosi.is_final
    assert tosi.feedback.is_correct is False
    assert tosi.feedback.option_feedback == ("SALAISUUS-TOSI-F",)
    assert tosi.feedback.correct_summary is None  # the right answer belongs to the review
    assert view.questions[1].feedback is None
    again = attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "true"}, RECORDER)
    db_session.commit()
    assert again.locked == ("tosi",)
    assert db_session.scalars(select(Answer)).one().response == "false"


def test_statements_are_written_at_start_answer_and_submit(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text())
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    clock.advance(timedelta(minutes=4))
    answer_all(db_session, learner, attempt.id)
    attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER)
    db_session.commit()
    attempted = statements(db_session, "attempted")
    answered = statements(db_session, "answered")
    passed = statements(db_session, "passed")
    assert len(attempted) == 1 and len(passed) == 1
    assert len(answered) == len(TYPES)
    registration = attempt.registration
    for statement in attempted + answered + passed:
        assert statement["context"]["registration"] == registration
    kinds = {s["object"]["definition"]["interactionType"] for s in answered}
    assert kinds == {
        "choice",
        "true-false",
        "fill-in",
        "numeric",
        "matching",
        "sequencing",
        "likert",
    }
    matching = next(
        s for s in answered if s["object"]["definition"]["interactionType"] == "matching"
    )
    assert matching["result"]["success"] is True
    assert passed[0]["result"]["score"]["scaled"] == 1.0
    assert passed[0]["result"]["duration"] == "PT4M"


def test_passing_tells_progress(db_session, install_quiz, learner, frozen_clock, monkeypatch):
    calls = []
    monkeypatch.setattr(
        progress,
        "on_quiz_passed",
        lambda session, user_id, quiz_id, **kw: calls.append((user_id, quiz_id, kw)),
    )
    install_quiz(quiz_text(types=("truefalse",)))
    failing = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.save_answers(db_session, learner.id, failing.id, {"tosi": "false"}, RECORDER)
    attempts.submit_attempt(db_session, learner.id, failing.id, RECORDER)
    assert calls == []
    passing = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.save_answers(db_session, learner.id, passing.id, {"tosi": "true"}, RECORDER)
    attempts.submit_attempt(db_session, learner.id, passing.id, RECORDER)
    assert calls == [
        (learner.id, "kaikki-tyypit", {"base_url": "http://liboppi.test", "language": "fi"})
    ]


def test_practice_repeats_only_the_wrong_questions_until_each_is_right(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse", "single", "short")))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    view = attempts.get_attempt(db_session, learner.id, attempt.id, RECORDER)
    single = view.questions[1]
    attempts.save_answers(
        db_session,
        learner.id,
        attempt.id,
        {"tosi": "true", single.id: wrong_response("single", dict(single.view))},
        RECORDER,
    )
    attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER)
    db_session.commit()
    score_before = db_session.get(Attempt, attempt.id).score_raw

    practice = attempts.start_practice(db_session, learner.id, attempt.id)
    db_session.commit()
    assert practice.question_ids == ["valinta", "lyhyt"]
    state = attempts.get_practice(db_session, learner.id, practice.id)
    assert (state.done, state.total, state.current.id) == (0, 2, "valinta")
    # Wrong again: the practice moves on, and comes back to it.
    assert (
        attempts.answer_practice(
            db_session,
            learner.id,
            practice.id,
            "valinta",
            wrong_response("single", dict(single.view)),
        )
        is False
    )
    state = attempts.get_practice(db_session, learner.id, practice.id, last_question_id="valinta")
    assert state.current.id == "lyhyt"
    assert state.last.feedback.is_correct is False
    assert attempts.answer_practice(db_session, learner.id, practice.id, "lyhyt", "lainaajatunnus")
    state = attempts.get_practice(db_session, learner.id, practice.id)
    assert (state.done, state.current.id) == (1, "valinta")
    assert attempts.answer_practice(
        db_session,
        learner.id,
        practice.id,
        "valinta",
        correct_response("single", dict(single.view)),
    )
    db_session.commit()
    state = attempts.get_practice(db_session, learner.id, practice.id)
    assert state.is_finished and state.current is None
    assert db_session.get(Attempt, practice.id).status is AttemptStatus.SUBMITTED
    # Practice is ungraded: the attempt keeps its score and no statements were added.
    assert db_session.get(Attempt, attempt.id).score_raw == score_before
    assert len(statements(db_session, "answered")) == 2


def test_no_practice_when_the_quiz_never_shows_answers(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse",), review="never"))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER)
    with pytest.raises(Conflict, match="nothing_to_practise"):
        attempts.start_practice(db_session, learner.id, attempt.id)


def test_an_archived_quiz_cannot_be_started(db_session, install_quiz, learner):
    quiz = install_quiz(quiz_text(types=("truefalse",)))
    quiz.is_archived = True
    db_session.commit()
    with pytest.raises(NotFound):
        attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)


def test_the_close_expired_command_submits_attempts_past_their_deadline(
    db_session, install_quiz, learner, create_user, frozen_clock, runner
):
    install_quiz(quiz_text(types=("truefalse",), time_limit=5))
    late = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    clock.advance(timedelta(minutes=4))
    on_time = attempts.start_attempt(
        db_session, create_user("learner").id, "kaikki-tyypit", RECORDER
    )
    db_session.commit()
    clock.advance(timedelta(minutes=2))
    result = runner.invoke(args=["quiz", "close-expired"])
    assert result.exit_code == 0, result.output
    assert "Submitted 1 expired attempt(s)." in result.stdout
    db_session.expire_all()
    assert db_session.get(Attempt, late.id).status is AttemptStatus.SUBMITTED
    assert db_session.get(Attempt, on_time.id).status is AttemptStatus.IN_PROGRESS


def test_a_save_read_before_a_submit_writes_nothing_after_it(
    app, db_session, install_quiz, learner, frozen_clock
):
    # SQLite has no row lock to keep the save waiting: its writes are conditional instead.
    install_quiz(quiz_text(types=("truefalse", "single")))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "false"}, RECORDER)
    db_session.commit()
    other_tab = app.extensions["liboppi.sessions"]()
    try:
        stale = attempts.load(other_tab, learner.id, attempt.id)
        other_tab.commit()
        attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER)
        db_session.commit()
        for responses in ({"tosi": "true"}, {"valinta": "a"}):
            outcome = attempts.save_answers(
                other_tab, learner.id, attempt.id, responses, RECORDER, loaded=stale
            )
            other_tab.commit()
            assert outcome.status == "closed"
    finally:
        other_tab.close()
    rows = db_session.scalars(select(Answer).where(Answer.attempt_id == attempt.id)).all()
    db_session.expire_all()
    assert {row.question_id: (row.response, row.is_final) for row in rows} == {
        "tosi": ("false", True),
        "valinta": (None, True),
    }
    assert len(statements(db_session, "answered")) == 1


def test_a_final_answer_is_not_changed_by_a_save_that_read_it_before(
    app, db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse", "single"), feedback="immediately"))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    other_tab = app.extensions["liboppi.sessions"]()
    try:
        stale = attempts.load(other_tab, learner.id, attempt.id)
        other_tab.commit()
        attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "false"}, RECORDER)
        db_session.commit()
        outcome = attempts.save_answers(
            other_tab, learner.id, attempt.id, {"tosi": "true"}, RECORDER, loaded=stale
        )
        other_tab.commit()
    finally:
        other_tab.close()
    assert (outcome.status, outcome.saved, outcome.locked) == ("saved", (), ("tosi",))
    assert db_session.scalars(select(Answer)).one().response == "false"
    assert len(statements(db_session, "answered")) == 1


def test_submit_grades_the_answers_saved_after_it_read_the_attempt(
    app, db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse",)))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    other_tab = app.extensions["liboppi.sessions"]()
    try:
        stale = attempts.load(other_tab, learner.id, attempt.id)
        other_tab.commit()
        attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "true"}, RECORDER)
        db_session.commit()
        assert attempts.finish(other_tab, stale, clock.now(), RECORDER, auto=False) is True
        other_tab.commit()
    finally:
        other_tab.close()
    graded = db_session.get(Attempt, attempt.id)
    db_session.refresh(graded)
    assert (graded.score_raw, graded.has_passed) == (1.0, True)
    assert db_session.scalars(select(Answer)).one().is_correct is True


def test_one_question_of_an_attempt_is_shown_as_in_the_whole_view(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(feedback="immediately"))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "false"}, RECORDER)
    db_session.commit()
    loaded = attempts.load(db_session, learner.id, attempt.id)
    view = attempts.attempt_view(loaded)
    assert [attempts.question_at(loaded, n) for n in range(1, len(view.questions) + 1)] == list(
        view.questions
    )
    assert any(state.feedback is not None for state in view.questions)


def test_a_save_brings_the_answer_the_session_holds_up_to_date(
    db_session, install_quiz, learner, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse",)))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "false"}, RECORDER)
    db_session.commit()
    held = db_session.scalars(select(Answer)).one()
    clock.advance(timedelta(seconds=20))
    attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "true"}, RECORDER)
    db_session.commit()
    # Not read again: the save itself updated the copy the session held.
    assert (held.response, held.canonical, held.saved_at) == (
        "true",
        True,
        START + timedelta(seconds=20),
    )
    assert held.seconds_spent == 0.0


def test_an_attempt_loads_in_a_process_that_has_not_parsed_its_quiz_yet(
    db_session, install_quiz, learner, frozen_clock, monkeypatch
):
    install_quiz(quiz_text(types=("truefalse", "single")))
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": "true"}, RECORDER)
    db_session.commit()
    monkeypatch.setattr(attempts, "_parsed", {})
    monkeypatch.setattr(quiz_import, "_sources", {})
    db_session.expunge_all()
    loaded = attempts.load(db_session, learner.id, attempt.id)
    assert [question.id for question in loaded.questions()] == attempt.question_ids
    assert (loaded.quiz.stable_id, loaded.version.number) == ("kaikki-tyypit", 1)
    assert loaded.answers["tosi"].response == "true"
    assert attempts.submit_attempt(db_session, learner.id, attempt.id, RECORDER).score_raw == 1.0
