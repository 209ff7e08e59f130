"""A small content repository (two courses, a quiz, an image) and ways to import it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from liboppi.content.loader import load_tree
from liboppi.models import OutboxStatement
from liboppi.services import content_import

#: A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

COURSE_YAML = """\
id: testikurssi
language: fi
title:
  fi: Testikurssi kirjastotyöhön
  en: Test course for library work
description:
  fi: Kurssi testejä varten.
audience: [learner]
tags: [koha, perehdytys]
prerequisites: []
completion: all_modules
# Järjestys on tärkeä.
modules:
  - 01-kirjastojarjestelma.md
  - 02-lainaus.md
  - 03-kuvat.md
"""

MODULE_1 = """\
---
id: testikurssi-kirjastojarjestelma
title: Kirjastojärjestelmä tutuksi
estimated_minutes: 10
objectives:
  - Tunnet kirjastojärjestelmän perusnäkymät.
tags: [koha]
---

Tässä moduulissa tutustutaan kirjastojärjestelmä Kohaan ja sen asiakasnäkymiin.

## Kirjautuminen

Kirjaudu sisään omilla tunnuksillasi.

## Perusnäkymät

| Näkymä | Käyttö |
|:-------|-------:|
| Lainaus | päivittäin |

::: tip
Kysy kollegalta, jos et löydä jotain.
:::

## Lisätietoa

Katso myös [lainaus](02-lainaus.md) ja [Koha-yhteisö](https://koha-community.org).
"""

MODULE_2 = """\
---
id: testikurssi-lainaus
title: Lainaus ja palautus
estimated_minutes: 5
objectives:
  - Osaat lainata.
---

Lainaus tehdään asiakkaan kirjastokortilla. Verkkokirjasto näyttää lainat.

## Palautus

Palautus tehdään palautusautomaatilla.
"""

MODULE_3 = """\
---
id: testikurssi-kuvat
title: Kuvat ja kartat
estimated_minutes: 3
objectives:
  - Tunnistat kirjaston kartalta.
---

![Kirjaston pohjapiirros](kuvat/kartta.png)

Kartta näyttää hyllyt.
"""

SECOND_COURSE_YAML = """\
id: toinen
language: fi
title:
  fi: Toinen kurssi
description:
  fi: Kurssi, jossa on testi.
audience: [editor]
tags: [finna]
prerequisites: [testikurssi]
completion: all_modules_and_quizzes
modules:
  - 01-finna.md
"""

SECOND_MODULE = """\
---
id: toinen-finna
title: Finna-haku
estimated_minutes: 5
objectives:
  - Osaat hakea Finnasta.
quiz: toinen-quiz
---

Finnasta haetaan aineistoa monesta kirjastosta.
"""

QUIZ = """\
---
id: toinen-quiz
title: Tarkistus
pass_mark: 0.5
---

## kysymys-1
type: single

Mikä on oikein?

- [x] Tämä
- [ ] Tuo
"""

REPOSITORY: dict[str, str | bytes] = {
    "courses/testikurssi/course.yaml": COURSE_YAML,
    "courses/testikurssi/01-kirjastojarjestelma.md": MODULE_1,
    "courses/testikurssi/02-lainaus.md": MODULE_2,
    "courses/testikurssi/03-kuvat.md": MODULE_3,
    "courses/testikurssi/kuvat/kartta.png": PNG,
    "courses/toinen/course.yaml": SECOND_COURSE_YAML,
    "courses/toinen/01-finna.md": SECOND_MODULE,
    "quizzes/toinen/toinen-quiz.md": QUIZ,
}


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: text or bytes}`` under ``root``, bytes exactly as given."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh copy of the small content repository."""
    return write_files(tmp_path / "repo", REPOSITORY)


@pytest.fixture
def app_config(app_config, repo):
    """The app reads its content and quizzes from the test repository."""
    return {
        **app_config,
        "LIBOPPI_CONTENT_ROOT": str(repo / "courses"),
        "LIBOPPI_QUIZ_ROOT": str(repo / "quizzes"),
    }


@pytest.fixture(autouse=True)
def _empty_sqlite_search_index(app):
    """The SQLite FTS5 index is not a model table, so the suite's cleanup does not empty it."""
    yield
    engine = app.extensions["liboppi.engine"]
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS module_search"))


@pytest.fixture
def import_repo(db_session: Session) -> Callable[..., content_import.ImportSummary]:
    """Import a repository with the service (as ``flask content import`` does) and commit."""

    def run(root: Path) -> content_import.ImportSummary:
        summary = content_import.import_tree(db_session, load_tree(root), site_host="liboppi.test")
        db_session.commit()
        return summary

    return run


@pytest.fixture
def imported(repo, import_repo) -> Path:
    """The test repository, imported."""
    import_repo(repo)
    return repo


def statements(session: Session) -> list[dict]:
    """Every statement in the outbox, oldest first, as JSON."""
    session.expire_all()
    rows = session.scalars(select(OutboxStatement).order_by(OutboxStatement.id))
    return [json.loads(row.payload) for row in rows]
