"""A tiny course with a quiz, imported through the content and quiz services, and how to take it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from liboppi.content.loader import load_tree
from liboppi.services import content_import, quiz_import
from liboppi.services.attempts import Recorder

RECORDER = Recorder("http://liboppi.test", "fi")
COURSE_ID = "xapi-kurssi"
MODULES = ("xapi-kurssi-alku", "xapi-kurssi-testi")
QUIZ_ID = "xapi-kurssi-tarkistus"

FILES = {
    "courses/xapi-kurssi/course.yaml": """\
id: xapi-kurssi
language: fi
title:
  fi: Oppimistapahtumat
  sv: Lärandehändelser
description:
  fi: Kurssi, jonka tapahtumat lähtevät oppimisrekisteriin.
audience: [learner]
tags: [testi]
prerequisites: []
completion: all_modules_and_quizzes
modules:
  - 01-alku.md
  - 02-testi.md
""",
    "courses/xapi-kurssi/01-alku.md": """\
---
id: xapi-kurssi-alku
title: Alku
estimated_minutes: 2
objectives:
  - Tiedät, mitä oppimisrekisteri tallentaa.
---

Oppimisrekisteri tallentaa oppimistapahtumat kirjastoittain.
""",
    "courses/xapi-kurssi/02-testi.md": """\
---
id: xapi-kurssi-testi
title: Testi
estimated_minutes: 3
objectives:
  - Osaat vastata kysymyksiin.
quiz: xapi-kurssi-tarkistus
---

Lopuksi pieni testi.
""",
    "quizzes/xapi-kurssi/xapi-kurssi-tarkistus.md": """\
---
id: xapi-kurssi-tarkistus
title: Tarkistus
pass_mark: 0.6
attempts: 0
shuffle_options: true
feedback: after_submit
review: after_submit
---

Kolme kysymystä.

## valinta
type: single

Mikä on oikein?

- [x] Oikea
- [ ] Väärä

## tosi
type: truefalse
answer: true

Kirjastokortti on henkilökohtainen.

## moni
type: multiple

Mitkä ovat oikein?

- [x] Alfa
- [ ] Beeta
- [x] Gamma
""",
}


def write_repository(root: Path) -> Path:
    """Write the course and quiz files under ``root``."""
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def import_repository(session: Session, root: Path) -> None:
    """Import the course and its quiz with the services ``flask content/quiz import`` use."""
    content_import.import_tree(session, load_tree(root), site_host="liboppi.test")
    scanned, problems = quiz_import.scan_quiz_root(root / "quizzes")
    assert not problems, problems
    quiz_import.import_quizzes(session, scanned, archive_missing=False)


def responses(view_questions: Any, *, correct: bool) -> dict[str, Any]:
    """Form values answering every question of an attempt view right (or all wrong)."""
    answers: dict[str, Any] = {}
    for question in view_questions:
        options = {o.get("text"): o["id"] for o in question.view.get("options", [])}
        if question.type == "single":
            answers[question.id] = options["Oikea" if correct else "Väärä"]
        elif question.type == "truefalse":
            answers[question.id] = "true" if correct else "false"
        elif question.type == "multiple":
            chosen = ("Alfa", "Gamma") if correct else ("Beeta",)
            answers[question.id] = [options[text] for text in chosen]
    return answers
