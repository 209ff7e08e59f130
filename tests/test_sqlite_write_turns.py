"""SQLite connections of one process take turns to write (liboppi.database)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from liboppi import database


@pytest.fixture
def engine(tmp_path):
    engine = database.make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER UNIQUE)"))
    yield engine
    engine.dispose()


def _turn(engine):
    with engine.connect() as connection:
        return connection.connection.dbapi_connection._turn


def test_concurrent_writers_of_one_process_all_commit(engine):
    errors: list[BaseException] = []

    def writer(start: int) -> None:
        try:
            for n in range(start, start + 200):
                with engine.begin() as connection:
                    connection.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(k * 1000,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1200
    assert not _turn(engine).locked()


def test_reads_do_not_take_the_turn_and_writes_hold_it_until_the_end(engine):
    turn = _turn(engine)
    with engine.connect() as connection:
        connection.execute(text("SELECT count(*) FROM t")).scalar()
        assert not turn.locked()
        connection.execute(text("INSERT INTO t (n) VALUES (1)"))
        assert turn.locked()  # until the transaction ends
        connection.commit()
        assert not turn.locked()
        connection.execute(text("INSERT INTO t (n) VALUES (2)"))
        connection.rollback()
        assert not turn.locked()


def test_a_failed_write_gives_the_turn_back_on_rollback(engine):
    turn = _turn(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t (n) VALUES (7)"))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("INSERT INTO t (n) VALUES (7)"))
    assert not turn.locked()


def test_a_writer_that_cannot_get_the_turn_goes_on_without_it(engine, monkeypatch):
    monkeypatch.setattr(database, "WRITE_TURN_TIMEOUT", 0.05)
    turn = _turn(engine)
    assert turn.acquire()  # someone else's turn that does not end
    try:
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            raw.take_write_turn()
            assert raw._has_turn is False
            connection.execute(text("INSERT INTO t (n) VALUES (9)"))  # SQLite itself allows it
            connection.commit()
    finally:
        turn.release()
