"""How a changed answer and its statement are written: both or neither, and never stale."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Engine, insert, select, update

from liboppi import clock
from liboppi.models import Answer, Membership, OutboxStatement, Role
from liboppi.services import attempts
from liboppi.xapi import vocabulary as v
from tests.quiz_engine.conftest import RECORDER, quiz_text, statements


def move(engine: Engine, user, library) -> None:
    """Move ``user`` to ``library`` through ``engine``: this process's cached origin goes stale."""
    now = clock.now()
    with engine.begin() as conn:
        conn.execute(update(Membership).where(Membership.user_id == user.id).values(left_at=now))
        conn.execute(
            insert(Membership).values(
                user_id=user.id, library_id=library.id, role=Role.LEARNER, joined_at=now
            )
        )


def answered_rows(db_session) -> list[OutboxStatement]:
    """The outbox rows of "answered" statements, oldest first."""
    return db_session.scalars(
        select(OutboxStatement)
        .where(OutboxStatement.verb == v.ANSWERED.iri)
        .order_by(OutboxStatement.id)
    ).all()


def answered_once(db_session, learner, response: str = "false") -> int:
    """Start the true/false quiz for ``learner``, answer it once and commit; the attempt id."""
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.save_answers(db_session, learner.id, attempt.id, {"tosi": response}, RECORDER)
    db_session.commit()
    return attempt.id


def saved(db_session, attempt_id: int) -> dict[str, object]:
    db_session.expire_all()
    rows = db_session.scalars(select(Answer).where(Answer.attempt_id == attempt_id)).all()
    return {row.question_id: row.response for row in rows}


def test_a_changed_answer_and_its_statement_are_one_write_on_postgresql(
    db_session, install_quiz, create_user, frozen_clock, statements_run
):
    install_quiz(quiz_text(types=("truefalse",)))
    learner = create_user("learner")
    attempt_id = answered_once(db_session, learner)
    clock.advance(timedelta(seconds=40))
    statements_run.clear()
    outcome = attempts.save_answers(db_session, learner.id, attempt_id, {"tosi": "true"}, RECORDER)
    db_session.commit()
    assert outcome.saved == ("tosi",)
    writes = [word for word in statements_run if word not in ("SELECT",)]
    if db_session.get_bind().dialect.name == "postgresql":
        assert writes == ["WITH"]  # the UPDATE and the outbox INSERT in one statement
    else:
        assert writes == ["UPDATE", "INSERT"]
    assert saved(db_session, attempt_id) == {"tosi": "true"}
    first, second = statements(db_session, "answered")
    assert (first["result"]["response"], second["result"]["response"]) == ("false", "true")
    # The time to answer is the first save's, in both statements.
    assert first["result"]["duration"] == second["result"]["duration"] == "PT0S"
    assert second["result"]["success"] is True


def test_a_changed_answer_of_a_user_moved_meanwhile_is_recorded_for_the_new_library(
    db_session, install_quiz, create_user, create_library, frozen_clock, other_process
):
    install_quiz(quiz_text(types=("truefalse",)))
    home, new_home = create_library("Kittilän kirjasto"), create_library("Sallan kirjasto")
    learner = create_user("learner", library=home)
    attempt_id = answered_once(db_session, learner)
    move(other_process, learner, new_home)
    outcome = attempts.save_answers(db_session, learner.id, attempt_id, {"tosi": "true"}, RECORDER)
    db_session.commit()
    assert outcome.saved == ("tosi",)
    assert saved(db_session, attempt_id) == {"tosi": "true"}
    rows = answered_rows(db_session)
    assert [row.library_id for row in rows] == [home.id, new_home.id]
    extension = f"{RECORDER.base_url}/xapi/extensions/{v.LIBRARY_ID_EXTENSION}"
    libraries = [json.loads(row.payload)["context"]["extensions"][extension] for row in rows]
    assert libraries == [home.code, new_home.code]


def test_a_changed_answer_made_final_meanwhile_is_neither_written_nor_recorded(
    app, db_session, install_quiz, create_user, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse",)))
    learner = create_user("learner")
    attempt_id = answered_once(db_session, learner)
    other_tab = app.extensions["liboppi.sessions"]()
    try:
        stale = attempts.load(other_tab, learner.id, attempt_id)
        other_tab.commit()
        # Made final behind the stale copy's back (as a submit does): only the answer's own
        # condition keeps the save out.
        db_session.execute(
            update(Answer).where(Answer.attempt_id == attempt_id).values(is_final=True)
        )
        db_session.commit()
        outcome = attempts.save_answers(
            other_tab, learner.id, attempt_id, {"tosi": "true"}, RECORDER, loaded=stale
        )
        other_tab.commit()
    finally:
        other_tab.close()
    assert (outcome.status, outcome.saved, outcome.locked) == ("saved", (), ("tosi",))
    assert saved(db_session, attempt_id) == {"tosi": "false"}
    assert len(statements(db_session, "answered")) == 1


def test_each_version_of_a_question_is_described_as_it_was_in_the_statements(
    db_session, install_quiz, create_user, frozen_clock
):
    install_quiz(quiz_text(types=("truefalse", "single")))
    first, second = create_user("learner"), create_user("learner")
    started_before = attempts.start_attempt(db_session, first.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    install_quiz(
        quiz_text(types=("truefalse", "single")).replace(
            "kirjastokortti on henkilökohtainen", "lainaajatunnus on salainen"
        )
    )
    started_after = attempts.start_attempt(db_session, second.id, "kaikki-tyypit", RECORDER)
    db_session.commit()
    for learner, attempt in ((first, started_before), (second, started_after), (first, None)):
        attempt_id = started_before.id if attempt is None else attempt.id
        response = "false" if attempt is None else "true"  # the first learner changes theirs
        attempts.save_answers(db_session, learner.id, attempt_id, {"tosi": response}, RECORDER)
        db_session.commit()
    described = [
        statement["object"]["definition"]["description"]
        for statement in statements(db_session, "answered")
    ]
    # "und": the quiz's course is not imported, so its language is not known.
    assert described == [
        {"und": "Väite: kirjastokortti on henkilökohtainen."},
        {"und": "Väite: lainaajatunnus on salainen."},
        {"und": "Väite: kirjastokortti on henkilökohtainen."},
    ]


def test_an_answer_made_final_by_its_save_is_recorded_for_a_user_moved_meanwhile(
    db_session, install_quiz, create_user, create_library, frozen_clock, other_process
):
    # With immediate feedback a valid answer is final once saved; an invalid one is not.
    install_quiz(quiz_text(types=("numeric",), feedback="immediately"))
    home, new_home = create_library(), create_library()
    learner = create_user("learner", library=home)
    attempt = attempts.start_attempt(db_session, learner.id, "kaikki-tyypit", RECORDER)
    attempts.save_answers(db_session, learner.id, attempt.id, {"luku": "neljätuhatta"}, RECORDER)
    db_session.commit()
    move(other_process, learner, new_home)
    outcome = attempts.save_answers(db_session, learner.id, attempt.id, {"luku": "4217"}, RECORDER)
    db_session.commit()
    assert (outcome.saved, outcome.locked) == (("luku",), ())
    row = db_session.scalars(select(Answer)).one()
    db_session.refresh(row)
    assert (row.response, row.is_final, row.is_correct) == ("4217", True, True)
    assert [row.library_id for row in answered_rows(db_session)] == [new_home.id]
