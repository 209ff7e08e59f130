"""Deterministic inputs for statement tests: ids, clock, a library, and one example per event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from liboppi.xapi import statements as s

BASE_URL = "https://oppi.lapinkirjastot.example"
EVENT_TIME = datetime(2026, 11, 26, 9, 30, 0, 123456, tzinfo=UTC)
REGISTRATION = uuid.UUID("6a1f0d52-3c4e-4b8a-9f21-0c7d5e9b1a42")
INARI = s.Library(
    id="inari-main",
    name={"fi": "Inarin kunnankirjasto", "se": "Anára gielddagirjerájus"},
    municipality="Inari",
    region="Lappi",
)


class FakeClock:
    """A settable clock: returns ``now`` until advanced."""

    def __init__(self, now: datetime = EVENT_TIME) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(seconds=seconds)


def sequential_ids(start: int = 1) -> Callable[[], uuid.UUID]:
    """Return an id factory giving version-4 UUIDs 1, 2, 3, ... (deterministic)."""
    counter = iter(range(start, 1 << 60))
    return lambda: uuid.UUID(int=next(counter), version=4)


def learner(user_id: str = "u-7f3a9c", *, library: s.Library = INARI) -> s.Origin:
    """Return an Origin for a learner of the example library."""
    return s.Origin(BASE_URL, user_id, library, language="fi")


COURSE = s.Content("digituki-perusteet", {"fi": "Digituen perusteet", "sv": "Grunderna i digistöd"})
MODULE = s.Content(
    "digituki-01",
    {"fi": "Asiakkaan kohtaaminen", "en": "Meeting the customer"},
    description={"fi": "Miten autat asiakasta verkkopalvelussa."},
)
QUIZ = s.Content("digituki-tentti", {"fi": "Digituen tentti"})
PLAN = s.PlanLink("perehdytys-2026", {"fi": "Perehdytys 2026"}, serves_item=True)
CHOICE_QUESTION = s.Question(
    "q-tunnistautuminen",
    {"fi": "Millä asiakas voi tunnistautua Suomi.fi-palveluun?"},
    {
        "interactionType": "choice",
        "correctResponsesPattern": ["pankki[,]mobiili"],
        "choices": [
            {"id": "pankki", "description": {"fi": "Pankkitunnukset"}},
            {"id": "mobiili", "description": {"fi": "Mobiilivarmenne"}},
            {"id": "kirjastokortti", "description": {"fi": "Kirjastokortti"}},
        ],
    },
)
MATCHING_QUESTION = s.Question(
    "q-palvelut",
    "Yhdistä palvelu ja sen käyttötarkoitus.",
    {
        "interactionType": "matching",
        "correctResponsesPattern": ["omakanta[.]resepti[,]vero[.]verokortti"],
        "source": [
            {"id": "omakanta", "description": "OmaKanta"},
            {"id": "vero", "description": "OmaVero"},
        ],
        "target": [
            {"id": "resepti", "description": "Reseptin uusiminen"},
            {"id": "verokortti", "description": "Verokortin muutos"},
        ],
    },
)
SURVEY = s.Content("osaamiskartoitus-2026", {"fi": "Osaamiskartoitus 2026"})
LIKERT_ITEM = s.Question(
    "e-asiointi",
    {"fi": "Osaan neuvoa asiakasta sähköisessä asioinnissa."},
    {
        "interactionType": "likert",
        "scale": [
            {"id": "1", "description": {"fi": "Täysin eri mieltä"}},
            {"id": "2", "description": {"fi": "Jokseenkin eri mieltä"}},
            {"id": "3", "description": {"fi": "Jokseenkin samaa mieltä"}},
            {"id": "4", "description": {"fi": "Täysin samaa mieltä"}},
        ],
    },
)
EVENT = s.Content("lapin-kirjastopaivat-2026", {"fi": "Lapin kirjastopäivät 2026"})
OBSERVATION = s.Content("havainto-0042", {"fi": "Asiakas ei löytänyt e-kirjoja"})
PLAN_CONTENT = s.Content("perehdytys-2026", {"fi": "Perehdytys 2026"})
VOIDED_ID = "0d6f9d4e-8a55-4c7b-b3a2-5f1e2d3c4b5a"


def build_examples(
    origin: s.Origin | None = None,
    *,
    id_factory: Callable[[], uuid.UUID] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> dict[str, s.Statement]:
    """Build one statement of every kind, keyed by the golden file's name."""
    who = origin or learner()
    ids = id_factory or sequential_ids()
    when = clock or FakeClock()
    kw = {"id_factory": ids, "clock": when}
    return {
        "module_experienced": s.module_experienced(who, COURSE, MODULE, **kw),
        "module_experienced_for_plan": s.module_experienced(who, COURSE, MODULE, plan=PLAN, **kw),
        "module_completed": s.module_completed(
            who, COURSE, MODULE, duration=timedelta(minutes=7, seconds=12.5), **kw
        ),
        "course_completed": s.course_completed(who, COURSE, duration=5400, **kw),
        "quiz_attempted": s.quiz_attempted(
            who, QUIZ, registration=REGISTRATION, course=COURSE, **kw
        ),
        "question_answered_choice": s.question_answered(
            who,
            QUIZ,
            CHOICE_QUESTION,
            "pankki[,]mobiili",
            registration=REGISTRATION,
            success=True,
            score=s.Score(raw=1, max=1),
            duration=12.5,
            course=COURSE,
            **kw,
        ),
        "question_answered_matching": s.question_answered(
            who,
            QUIZ,
            MATCHING_QUESTION,
            "omakanta[.]verokortti[,]vero[.]resepti",
            registration=REGISTRATION,
            success=False,
            score=s.Score(raw=0, max=2),
            duration=31.04,
            **kw,
        ),
        "quiz_passed": s.quiz_passed(
            who,
            QUIZ,
            s.Score(raw=7, max=9),
            registration=REGISTRATION,
            duration=timedelta(minutes=4, seconds=3.2),
            course=COURSE,
            plan=PLAN,
            **kw,
        ),
        "quiz_failed": s.quiz_failed(
            who,
            QUIZ,
            s.Score(raw=3.5, max=9),
            registration=REGISTRATION,
            duration=388,
            **kw,
        ),
        "survey_responded": s.survey_responded(
            who, SURVEY, LIKERT_ITEM, "3", registration=REGISTRATION, **kw
        ),
        "plan_assigned": s.plan_assigned(
            learner("coordinator-5b2e"), PLAN_CONTENT, "u-7f3a9c", **kw
        ),
        "event_attended": s.event_attended(who, EVENT, duration=6 * 3600, plan=PLAN, **kw),
        "observation_shared": s.observation_shared(who, OBSERVATION, **kw),
        "statement_voided": s.statement_voided(BASE_URL, "liboppi-service", VOIDED_ID, **kw),
    }
