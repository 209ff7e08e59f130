"""A small course repository for the browser tests: one course, one quiz of every type.

Written into the test's temporary folder and imported with the same services as
``flask content import`` and ``flask quiz import``; assertions use the ids below.
"""

from __future__ import annotations

import base64
from pathlib import Path

from sqlalchemy.orm import Session

from liboppi.content.loader import load_tree
from liboppi.services import content_import, quiz_import

COURSE_ID = "selainkurssi"
MODULE_IDS = ["selainkurssi-jarjestelma", "selainkurssi-lainaus", "selainkurssi-kuvat"]
QUIZ_ID = "selainkurssi-testi"
ONE_PAGE_QUIZ_ID = "selainkurssi-yhdella-sivulla"

#: A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

COURSE_YAML = f"""\
id: {COURSE_ID}
language: fi
title:
  fi: Selainkurssi kirjastotyöhön
  sv: Webbläsarkurs för biblioteksarbete
description:
  fi: Kurssi selaintestejä varten.
audience: [learner]
tags: [koha, perehdytys]
prerequisites: []
completion: all_modules
modules:
  - 01-jarjestelma.md
  - 02-lainaus.md
  - 03-kuvat.md
"""

MODULE_1 = f"""\
---
id: {MODULE_IDS[0]}
title: Kirjastojärjestelmä tutuksi
estimated_minutes: 10
objectives:
  - Tunnet kirjastojärjestelmän perusnäkymät.
tags: [koha]
quiz: {QUIZ_ID}
---

Tässä moduulissa tutustutaan kirjastojärjestelmään ja sen asiakasnäkymiin.

## Kirjautuminen

Kirjaudu sisään omilla tunnuksillasi.

## Perusnäkymät

| Näkymä | Käyttö |
|:-------|-------:|
| Lainaus | päivittäin |
| Varaukset | viikoittain |

::: tip
Kysy kollegalta, jos et löydä jotain.
:::

::: warning
Älä jaa tunnuksiasi.
:::

## Lisätietoa

Katso myös [lainaus](02-lainaus.md) ja [Koha-yhteisö](https://koha-community.org).

Termi
: Selitys termille.
"""

MODULE_2 = f"""\
---
id: {MODULE_IDS[1]}
title: Lainaus ja palautus
estimated_minutes: 5
objectives:
  - Osaat lainata.
---

Lainaus tehdään asiakkaan kirjastokortilla. Verkkokirjasto näyttää lainat.

## Palautus

Palautus tehdään palautusautomaatilla.
"""

MODULE_3 = f"""\
---
id: {MODULE_IDS[2]}
title: Kuvat ja kartat
estimated_minutes: 3
objectives:
  - Tunnistat kirjaston kartalta.
---

![Kirjaston pohjapiirros](kuvat/kartta.png)

Kartta näyttää hyllyt.
"""

#: The questions in their order; ``answer`` is what a learner types or picks to be right.
QUESTIONS = [
    ("valinta", "single"),
    ("monivalinta", "multiple"),
    ("tosi", "truefalse"),
    ("lyhyt", "short"),
    ("luku", "numeric"),
    ("pari", "matching"),
    ("jarjestys", "ordering"),
    ("asteikko", "likert"),
]

QUIZ_BODY = """\
Tämä testi on selaintestejä varten.

## valinta
type: single

Mikä vaihtoehdoista on oikein?

- [x] Ensimmäinen vaihtoehto
  > Oikein, ensimmäinen.
- [ ] Toinen vaihtoehto
  > Ei toinen.
- [ ] Kolmas vaihtoehto

> Yleinen palaute valinnasta.

## monivalinta
type: multiple
points: 2

Mitkä ovat oikein?

- [x] Alfa
- [ ] Beeta
- [x] Gamma

## tosi
type: truefalse
answer: true

Väite: kirjastokortti on henkilökohtainen.

## lyhyt
type: short
accept: ["kirjastokortti"]

Millä asiakas lainaa?

## luku
type: numeric
answer: 14
tolerance: 0.5

Montako päivää laina-aika on?

## pari
type: matching

Yhdistä palvelu ja tarkoitus.

- Koha -> kirjastojärjestelmä
- Finna -> hakupalvelu

## jarjestys
type: ordering

Järjestä lainauksen vaiheet.

1. Tunnistus
2. Lainaus
3. Eräpäivä

## asteikko
type: likert

Kuinka hyvin osaat lainata?

- En lainkaan
- Jonkin verran
- Hyvin
"""


def quiz_file(quiz_id: str, **settings: str) -> str:
    front = {
        "id": quiz_id,
        "title": "Selaintesti" if quiz_id == QUIZ_ID else "Selaintesti yhdellä sivulla",
        "pass_mark": "0.7",
        "attempts": "0",
        "shuffle_questions": "false",
        "shuffle_options": "false",
        "feedback": "after_submit",
        "review": "after_submit",
        "layout": "one_per_page",
    } | settings
    header = "\n".join(f"{key}: {value}" for key, value in front.items())
    return f"---\n{header}\n---\n\n{QUIZ_BODY}"


REPOSITORY: dict[str, str | bytes] = {
    f"courses/{COURSE_ID}/course.yaml": COURSE_YAML,
    f"courses/{COURSE_ID}/01-jarjestelma.md": MODULE_1,
    f"courses/{COURSE_ID}/02-lainaus.md": MODULE_2,
    f"courses/{COURSE_ID}/03-kuvat.md": MODULE_3,
    f"courses/{COURSE_ID}/kuvat/kartta.png": PNG,
    f"quizzes/{COURSE_ID}/{QUIZ_ID}.md": quiz_file(QUIZ_ID),
    f"quizzes/{COURSE_ID}/{ONE_PAGE_QUIZ_ID}.md": quiz_file(
        ONE_PAGE_QUIZ_ID, layout="all_on_one_page", feedback="immediately", time_limit="30"
    ),
}


def write_repository(root: Path) -> Path:
    """Write the repository under ``root`` and return it."""
    for relative, content in REPOSITORY.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def import_repository(session: Session, root: Path) -> None:
    """Import the quizzes and the course as the ``flask`` commands do, and commit."""
    scanned, problems = quiz_import.scan_quiz_root(root / "quizzes")
    assert not problems, [problem for problem in problems]
    quiz_import.import_quizzes(session, scanned, archive_missing=True)
    content_import.import_tree(session, load_tree(root), site_host="liboppi.test")
    session.commit()
