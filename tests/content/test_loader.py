"""Loading the course tree for import: the whole tree, or every problem at once."""

from __future__ import annotations

import hashlib

import pytest

from liboppi.content.loader import load_course, load_tree
from liboppi.content.problems import ContentError

COURSE_YAML = """\
id: perehdytys
language: fi
title:
  fi: Perehdytys kirjastotyöhön Lapissa
  en: Onboarding to library work in Lapland
description:
  fi: Ensimmäiset viikot kirjastossa.
audience: [learner, editor]
job_roles: [asiakaspalvelu]
tags: [perehdytys, kirjastolaki]
completion: all_modules_and_quizzes
modules:
  - 02-verkko.md
  - 01-tehtavat.md
"""

TEHTAVAT = (
    "---\r\n"
    "id: perehdytys-kirjaston-tehtavat\r\n"
    "title: Yleisen kirjaston tehtävät\r\n"
    "estimated_minutes: 15\r\n"
    "objectives: [Osaat kertoa kirjastolain tavoitteet.]\r\n"
    "lang: sv\r\n"
    "---\r\n"
    "## Kirjastolaki\r\n"
    "\r\n"
    "![Lapin kartta](kuvat/kartta.png) ja ![Sama kartta](kuvat/kartta.png)\r\n"
)

VERKKO = """\
---
id: perehdytys-lapin-kirjastoverkko
title: Lapin kirjastoverkko
---

## Lapin kirjastot
"""


@pytest.fixture
def repository(write_tree):
    return write_tree(
        {
            "courses/perehdytys/course.yaml": COURSE_YAML,
            "courses/perehdytys/01-tehtavat.md": TEHTAVAT,
            "courses/perehdytys/02-verkko.md": VERKKO,
            "courses/perehdytys/kuvat/kartta.png": b"\x89PNG",
        }
    )


def test_load_tree_reads_course_metadata(repository) -> None:
    tree = load_tree(repository)

    [course] = tree.courses
    assert course.id == "perehdytys"
    assert course.language == "fi"
    assert course.title == {
        "fi": "Perehdytys kirjastotyöhön Lapissa",
        "en": "Onboarding to library work in Lapland",
    }
    assert course.description == {"fi": "Ensimmäiset viikot kirjastossa."}
    assert course.audience == ("learner", "editor")
    assert course.job_roles == ("asiakaspalvelu",)
    assert course.tags == ("perehdytys", "kirjastolaki")
    assert course.prerequisites == ()
    assert course.completion == "all_modules_and_quizzes"
    assert course.translation_of is None
    assert course.folder == repository / "courses" / "perehdytys"
    assert course.path == "courses/perehdytys"
    assert course.content_hash == hashlib.sha256(COURSE_YAML.encode()).hexdigest()


def test_modules_come_in_the_order_course_yaml_lists_them(repository) -> None:
    [course] = load_tree(repository).courses

    assert [(m.position, m.path) for m in course.modules] == [
        (1, "courses/perehdytys/02-verkko.md"),
        (2, "courses/perehdytys/01-tehtavat.md"),
    ]


def test_a_module_keeps_its_exact_bytes_hash_and_body_line(repository) -> None:
    [course] = load_tree(repository).courses
    module = course.modules[1]

    assert module.raw_text == TEHTAVAT
    assert module.content_hash == hashlib.sha256(TEHTAVAT.encode("utf-8")).hexdigest()
    assert module.body_line == 8
    assert module.body.startswith("## Kirjastolaki\r\n")
    assert module.meta.id == "perehdytys-kirjaston-tehtavat"
    assert module.meta.estimated_minutes == 15


def test_a_module_lists_each_local_image_once(repository) -> None:
    [course] = load_tree(repository).courses

    assert course.modules[1].images == ("courses/perehdytys/kuvat/kartta.png",)
    assert course.modules[0].images == ()


def test_module_language_defaults_to_the_course_language(repository) -> None:
    [course] = load_tree(repository).courses

    assert [m.language for m in course.modules] == ["fi", "sv"]


def test_warnings_are_returned_on_the_tree_without_stopping_the_load(repository) -> None:
    tree = load_tree(repository)

    assert [str(w) for w in tree.warnings] == [
        "courses/perehdytys/02-verkko.md:1:1: warning: no `estimated_minutes`: "
        "learners plan their time with it",
        "courses/perehdytys/02-verkko.md:1:1: warning: no `objectives`: "
        "list what the learner will be able to do",
    ]


def test_tree_finds_a_course_and_walks_all_modules(repository) -> None:
    tree = load_tree(repository)

    assert tree.get_course("perehdytys").title["fi"].startswith("Perehdytys")
    assert [module.meta.id for _, module in tree.iter_modules()] == [
        "perehdytys-lapin-kirjastoverkko",
        "perehdytys-kirjaston-tehtavat",
    ]
    with pytest.raises(KeyError):
        tree.get_course("ei-ole")


def test_load_tree_raises_once_with_the_problems_of_every_file(repository) -> None:
    (repository / "courses/perehdytys/02-verkko.md").write_text("---\nid: X\n---\n", "utf-8")
    (repository / "courses/perehdytys/kuvat/kartta.png").unlink()

    with pytest.raises(ContentError) as raised:
        load_tree(repository)

    assert [str(p) for p in raised.value.errors] == [
        "courses/perehdytys/01-tehtavat.md:10:17: broken image `kuvat/kartta.png`: "
        "file `courses/perehdytys/kuvat/kartta.png` does not exist",
        "courses/perehdytys/01-tehtavat.md:10:53: broken image `kuvat/kartta.png`: "
        "file `courses/perehdytys/kuvat/kartta.png` does not exist",
        "courses/perehdytys/02-verkko.md:1:1: missing required key `title`",
        "courses/perehdytys/02-verkko.md:2:1: `id` `X` is not a valid id: use lower-case "
        "letters a-z, digits and hyphens, starting with a letter or digit",
        "courses/perehdytys/02-verkko.md:3:1: the module has no text after the front matter",
    ]


def test_load_tree_refuses_cross_course_duplicates(write_tree, valid_course) -> None:
    root = write_tree({**valid_course("a", course_id="a"), **valid_course("b", course_id="b")})

    with pytest.raises(ContentError) as raised:
        load_tree(root)

    assert [p.message for p in raised.value.problems] == [
        "duplicate module id `perehdytys-a`: also used in `courses/a/01-a.md`"
    ]


def test_load_tree_without_a_courses_folder_is_an_error(tmp_path) -> None:
    with pytest.raises(ContentError, match="courses:1:1: the `courses` folder does not exist"):
        load_tree(tmp_path)


def test_load_course_reads_one_folder(repository) -> None:
    course = load_course(repository / "courses" / "perehdytys", repository)

    assert course.id == "perehdytys"
    assert len(course.modules) == 2


def test_load_course_raises_with_its_problems(write_tree, module_text) -> None:
    root = write_tree(
        {
            "courses/p/course.yaml": "id: p\nlanguage: fi\ntitle: {fi: P}\nmodules: [01-a.md]\n",
            "courses/p/01-a.md": module_text(body="#### Syvä\n"),
        }
    )

    with pytest.raises(ContentError) as raised:
        load_course(root / "courses" / "p", root)

    assert str(raised.value) == (
        "courses/p/01-a.md:8:1: heading level skips from the page title (#) to ####: use ## here"
    )
