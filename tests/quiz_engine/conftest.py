"""Fixtures for the quiz engine: quizzes installed in the database, and taking them."""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from liboppi import clock
from liboppi.models import OutboxStatement, Quiz
from liboppi.quiz.format import parse_quiz
from liboppi.services import attempts, quiz_import
from liboppi.services.attempts import Recorder

RECORDER = Recorder("http://liboppi.test", "fi")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

# Distinct strings that only answers and answer-specific feedback contain: a page that
# shows one of them before the rules allow has leaked.
SECRETS = {
    "single": ["SALAISUUS-YKSI-OIKEA", "SALAISUUS-YKSI-VAARA", "SALAISUUS-YKSI-YLEINEN"],
    "multiple": ["SALAISUUS-MONI-A", "SALAISUUS-MONI-C", "SALAISUUS-MONI-YLEINEN"],
    "truefalse": ["SALAISUUS-TOSI-T", "SALAISUUS-TOSI-F", "SALAISUUS-TOSI-YLEINEN"],
    "short": ["kirjastokorttiavain", "lainaajatunnus", "SALAISUUS-LYHYT-YLEINEN"],
    "numeric": ["4217", "SALAISUUS-LUKU-YLEINEN"],
    "matching": ["SALAISUUS-PARI-YLEINEN"],
    "ordering": ["SALAISUUS-JARJESTYS-YLEINEN"],
    "likert": [],
}

QUESTIONS = {
    "single": """
        ## valinta
        type: single
        tags: [koha]

        Mikä vaihtoehdoista on oikein?

        - [x] Ensimmäinen vaihtoehto
          > SALAISUUS-YKSI-OIKEA
        - [ ] Toinen vaihtoehto
          > SALAISUUS-YKSI-VAARA
        - [ ] Kolmas vaihtoehto

        > SALAISUUS-YKSI-YLEINEN
    """,
    "multiple": """
        ## monivalinta
        type: multiple
        points: 2

        Mitkä ovat oikein?

        - [x] Alfa
          > SALAISUUS-MONI-A
        - [ ] Beeta
        - [x] Gamma
          > SALAISUUS-MONI-C
        - [ ] Delta

        > SALAISUUS-MONI-YLEINEN
    """,
    "truefalse": """
        ## tosi
        type: truefalse
        answer: true
        feedback_true: SALAISUUS-TOSI-T
        feedback_false: SALAISUUS-TOSI-F

        Väite: kirjastokortti on henkilökohtainen.

        > SALAISUUS-TOSI-YLEINEN
    """,
    "short": """
        ## lyhyt
        type: short
        accept: ["kirjastokorttiavain", "lainaajatunnus"]

        Millä sanalla asiakas kirjautuu?

        > SALAISUUS-LYHYT-YLEINEN
    """,
    "numeric": """
        ## luku
        type: numeric
        answer: 4217.5
        tolerance: 0.5

        Kuinka monta?

        > SALAISUUS-LUKU-YLEINEN
    """,
    "matching": """
        ## pari
        type: matching

        Yhdistä.

        - Vasen yksi -> Oikea yksi
        - Vasen kaksi -> Oikea kaksi
        - Vasen kolme -> Oikea kolme

        > SALAISUUS-PARI-YLEINEN
    """,
    "ordering": """
        ## jarjestys
        type: ordering

        Järjestä.

        1. Vaihe yksi
        2. Vaihe kaksi
        3. Vaihe kolme
        4. Vaihe neljä

        > SALAISUUS-JARJESTYS-YLEINEN
    """,
    "likert": """
        ## asteikko
        type: likert

        Kuinka hyvin osaat?

        - En lainkaan
        - Jonkin verran
        - Hyvin
    """,
}

TYPES = tuple(QUESTIONS)


def quiz_text(
    quiz_id: str = "kaikki-tyypit",
    *,
    types: tuple[str, ...] = TYPES,
    title: str = "Kaikki kysymystyypit",
    **settings: object,
) -> str:
    """Return a quiz file with one question of each of ``types`` and the given settings."""
    front = {
        "id": quiz_id,
        "title": title,
        "pass_mark": 0.5,
        "attempts": 0,
        "shuffle_questions": False,
        "shuffle_options": True,
        "feedback": "after_submit",
        "review": "after_submit",
        "layout": "one_per_page",
    } | settings
    lines = ["---", *(f"{key}: {json.dumps(value)}" for key, value in front.items()), "---", ""]
    lines.append("Testin johdanto.")
    body = "\n\n".join(textwrap.dedent(QUESTIONS[kind]).strip("\n") for kind in types)
    return "\n".join(lines) + "\n\n" + body + "\n"


@pytest.fixture
def install_quiz(db_session) -> Callable[..., Quiz]:
    """Factory: parse quiz text and import it (a new version when it changed); committed."""

    def install(text: str, *, course: str = "testikurssi") -> Quiz:
        source = parse_quiz("quiz.md", text)
        quiz_import.import_quiz(db_session, course, source)
        db_session.commit()
        return db_session.scalars(select(Quiz).where(Quiz.stable_id == source.id)).one()

    return install


@pytest.fixture
def frozen_clock():
    """Freeze the clock at START; tests move it with clock.advance."""
    clock.set_now(START)
    yield clock
    clock.set_now(None)


def statements(db_session, verb_suffix: str | None = None) -> list[dict]:
    """Return the outbox statements (parsed), optionally only those whose verb ends so."""
    rows = db_session.scalars(select(OutboxStatement).order_by(OutboxStatement.id)).all()
    found = [json.loads(row.payload) for row in rows]
    if verb_suffix is not None:
        found = [s for s in found if s["verb"]["id"].endswith(verb_suffix)]
    return found


def correct_response(kind: str, view: dict) -> object:
    """Return the form values that answer the test question of ``kind`` right."""
    if kind == "single":
        return next(o["id"] for o in view["options"] if o["text"] == "Ensimmäinen vaihtoehto")
    if kind == "multiple":
        return [o["id"] for o in view["options"] if o["text"] in ("Alfa", "Gamma")]
    if kind == "truefalse":
        return "true"
    if kind == "short":
        return "  Kirjastokorttiavain "
    if kind == "numeric":
        return "4217,3"
    if kind == "matching":
        targets = {t["text"]: t["id"] for t in view["targets"]}
        return {s["id"]: targets[s["text"].replace("Vasen", "Oikea")] for s in view["sources"]}
    if kind == "ordering":
        order = ["Vaihe yksi", "Vaihe kaksi", "Vaihe kolme", "Vaihe neljä"]
        return {i["id"]: str(order.index(i["text"]) + 1) for i in view["items"]}
    if kind == "likert":
        return "2"
    raise AssertionError(kind)


def wrong_response(kind: str, view: dict) -> object:
    """Return form values that answer the test question of ``kind`` wrong (score 0)."""
    if kind == "single":
        return next(o["id"] for o in view["options"] if o["text"] == "Toinen vaihtoehto")
    if kind == "multiple":
        return [o["id"] for o in view["options"] if o["text"] in ("Beeta", "Delta")]
    if kind == "truefalse":
        return "false"
    if kind == "short":
        return "väärä"
    if kind == "numeric":
        return "12"
    if kind == "matching":
        # Every left gets the next left's right.
        correct = correct_response(kind, view)
        sources = [source["id"] for source in view["sources"]]
        rights = [correct[source] for source in sources]
        return dict(zip(sources, rights[1:] + rights[:1], strict=True))
    if kind == "ordering":
        # Every step one place early, the first one last: no item in its place.
        wrong = ["Vaihe kaksi", "Vaihe kolme", "Vaihe neljä", "Vaihe yksi"]
        return {item["id"]: str(wrong.index(item["text"]) + 1) for item in view["items"]}
    if kind == "likert":
        return "1"
    raise AssertionError(kind)


def form_fields(question_id: str, kind: str, response: object) -> dict:
    """Return the posted form fields that give ``response`` to a question on a page."""
    name = f"q.{question_id}"
    fields: dict = {"shown": question_id}
    if isinstance(response, dict):
        for key, value in response.items():
            fields[f"{name}.{key}"] = value
    else:
        fields[name] = response
    return fields


def page_text_without_chrome(html: str) -> str:
    """Return the <main> element of a page (no header, nav or footer)."""
    match = re.search(r"<main\b.*?</main>", html, re.DOTALL)
    assert match, "no <main> on the page"
    return match.group(0)


@pytest.fixture
def locked_saves(monkeypatch) -> list[int]:
    """The attempt ids of every save made under the attempt's lock (``save_answers``)."""
    made: list[int] = []
    save = attempts.save_answers

    def counted(session, user_id, attempt_id, *args, **kwargs):
        made.append(attempt_id)
        return save(session, user_id, attempt_id, *args, **kwargs)

    monkeypatch.setattr(attempts, "save_answers", counted)
    return made


def elsewhere(app, change: Callable[[Session], None]) -> None:
    """Make ``change`` in a session of its own, as another worker would, and commit it."""
    with Session(app.extensions["liboppi.engine"]) as other:
        change(other)
        other.commit()
