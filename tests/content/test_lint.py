"""`flask content check`: every mistake in the repository as `path:line:col: message`."""

from __future__ import annotations

from pathlib import Path

from liboppi.content.lint import check_text, check_tree

COURSE = "courses/perehdytys/course.yaml"
MODULE = "courses/perehdytys/01-a.md"


def check(root: Path, **kwargs) -> list[str]:
    """Run the checker as the CLI does and return its report lines."""
    kwargs.setdefault("known_quiz_ids", None)
    return [str(problem) for problem in check_tree(root, **kwargs)]


def test_a_valid_course_has_no_problems(write_tree, valid_course) -> None:
    root = write_tree(valid_course())

    assert check(root, known_quiz_ids=set(), previous_ids={MODULE: "perehdytys-a"}) == []


def test_yaml_syntax_error_in_course_yaml_is_reported_at_its_line(write_tree, module_text) -> None:
    root = write_tree(
        {
            COURSE: "id: perehdytys\nlanguage: fi\ntitle: {fi: Perehdytys\nmodules: [01-a.md]\n",
            MODULE: module_text(),
        }
    )

    assert check(root) == [
        f"{COURSE}:4:8: YAML syntax error: while parsing a flow mapping, "
        "expected ',' or '}', but got ':'",
    ]


def test_yaml_syntax_error_in_a_module_is_offset_by_the_opening_fence(
    write_tree, course_yaml
) -> None:
    root = write_tree(
        {COURSE: course_yaml(), MODULE: "---\nid: perehdytys-a\ntitle: [A\n---\n## Osio\n"}
    )

    assert check(root) == [
        f"{MODULE}:4:1: YAML syntax error: while parsing a flow sequence, "
        "expected ',' or ']', but got '<stream end>'"
    ]


def test_missing_module_id_is_an_error(write_tree, course_yaml) -> None:
    root = write_tree(
        {
            COURSE: course_yaml(),
            MODULE: "---\ntitle: A\nestimated_minutes: 5\nobjectives: [x]\n---\n## Osio\n",
        }
    )

    assert check(root) == [f"{MODULE}:1:1: missing required key `id`"]


def test_missing_course_id_is_an_error(write_tree, module_text) -> None:
    root = write_tree(
        {COURSE: "language: fi\ntitle: {fi: P}\nmodules: [01-a.md]\n", MODULE: module_text()}
    )

    assert check(root) == [f"{COURSE}:1:1: missing required key `id`"]


def test_duplicate_module_ids_across_courses_are_reported_on_the_second(
    write_tree, valid_course
) -> None:
    root = write_tree(
        {
            **valid_course("a-perehdytys", course_id="perehdytys"),
            **valid_course("b-digituki", course_id="digituki", module_id="perehdytys-a"),
        }
    )

    assert check(root) == [
        "courses/b-digituki/01-a.md:2:1: duplicate module id `perehdytys-a`: "
        "also used in `courses/a-perehdytys/01-a.md`"
    ]


def test_duplicate_module_ids_within_a_course_are_reported(
    write_tree, course_yaml, module_text
) -> None:
    root = write_tree(
        {
            COURSE: course_yaml(modules=("01-a.md", "02-b.md")),
            MODULE: module_text("sama"),
            "courses/perehdytys/02-b.md": module_text("sama"),
        }
    )

    assert check(root) == [
        f"courses/perehdytys/02-b.md:2:1: duplicate module id `sama`: also used in `{MODULE}`"
    ]


def test_duplicate_course_ids_are_reported(write_tree, valid_course) -> None:
    root = write_tree(
        {
            **valid_course("a", course_id="sama", module_id="a-1"),
            **valid_course("b", course_id="sama", module_id="b-1"),
        }
    )

    assert check(root) == [
        "courses/b/course.yaml:1:1: duplicate course id `sama`: "
        "also used in `courses/a/course.yaml`"
    ]


def test_a_changed_module_id_is_refused(write_tree, valid_course) -> None:
    root = write_tree(valid_course(module_id="uusi-nimi"))

    assert check(root, previous_ids={MODULE: "perehdytys-a"}) == [
        f"{MODULE}:2:1: id changed from `perehdytys-a` to `uusi-nimi`: ids are permanent "
        "(progress and statements refer to them); restore `perehdytys-a`"
    ]


def test_a_changed_course_id_is_refused(write_tree, valid_course) -> None:
    root = write_tree(valid_course(course_id="perehdytys-2"))

    assert check(root, previous_ids={COURSE: "perehdytys"}) == [
        f"{COURSE}:1:1: id changed from `perehdytys` to `perehdytys-2`: ids are permanent "
        "(progress and statements refer to them); restore `perehdytys`"
    ]


def test_a_renamed_file_keeping_its_id_is_fine(write_tree, valid_course) -> None:
    root = write_tree(valid_course())

    assert check(root, previous_ids={"courses/perehdytys/01-vanha.md": "perehdytys-a"}) == []


def test_a_listed_module_that_does_not_exist_is_reported_at_its_list_item(
    write_tree, course_yaml, module_text
) -> None:
    root = write_tree({COURSE: course_yaml(modules=("01-a.md", "02-b.md")), MODULE: module_text()})

    assert check(root) == [
        f"{COURSE}:7:5: module file `02-b.md` is listed but does not exist in `courses/perehdytys`"
    ]


def test_a_module_listed_twice_is_reported(write_tree, course_yaml, module_text) -> None:
    root = write_tree({COURSE: course_yaml(modules=("01-a.md", "01-a.md")), MODULE: module_text()})

    assert check(root) == [f"{COURSE}:7:5: module file `01-a.md` is listed twice"]


def test_an_unlisted_markdown_file_is_reported_and_still_checked(write_tree, valid_course) -> None:
    root = write_tree(
        {**valid_course(), "courses/perehdytys/02-luonnos.md": "---\nid: Luonnos\n---\n"}
    )

    assert check(root) == [
        "courses/perehdytys/02-luonnos.md:1:1: missing required key `title`",
        f"courses/perehdytys/02-luonnos.md:1:1: module file is not listed in `{COURSE}` `modules`",
        "courses/perehdytys/02-luonnos.md:2:1: `id` `Luonnos` is not a valid id: use lower-case "
        "letters a-z, digits and hyphens, starting with a letter or digit",
        "courses/perehdytys/02-luonnos.md:3:1: the module has no text after the front matter",
    ]


def test_a_course_folder_without_course_yaml_is_reported(write_tree, valid_course) -> None:
    root = write_tree({**valid_course(), "courses/keskeneräinen/01-a.md": "x"})

    assert check(root) == ["courses/keskeneräinen:1:1: course folder has no `course.yaml`"]


def test_an_unknown_quiz_id_is_reported_at_the_quiz_line(write_tree, course_yaml) -> None:
    module = (
        "---\nid: perehdytys-a\ntitle: A\nestimated_minutes: 5\nobjectives: [x]\n"
        "quiz: puuttuu\n---\n## Osio\n"
    )
    root = write_tree({COURSE: course_yaml(), MODULE: module})

    assert check(root, known_quiz_ids={"toinen-quiz"}) == [
        f"{MODULE}:6:1: unknown quiz `puuttuu`: no quiz file has this id"
    ]
    assert check(root, known_quiz_ids={"puuttuu"}) == []
    assert check(root, known_quiz_ids=None) == []


def test_broken_relative_link_is_reported_at_its_target(
    write_tree, course_yaml, module_text
) -> None:
    body = "## Osio\n\nLue ensin\n[lainaus](02-lainaus.md) ja [haku](https://finna.fi).\n"
    root = write_tree({COURSE: course_yaml(), MODULE: module_text(body=body)})

    assert check(root) == [
        f"{MODULE}:11:11: broken link `02-lainaus.md`: "
        "file `courses/perehdytys/02-lainaus.md` does not exist"
    ]


def test_links_to_existing_files_and_anchors_are_fine(write_tree, course_yaml, module_text) -> None:
    body = "## Osio\n\n[Toinen](02-b.md#alku), [ylös](#osio), [ohje](../yhteiset/ohje%20pdf.pdf)\n"
    root = write_tree(
        {
            COURSE: course_yaml(modules=("01-a.md", "02-b.md")),
            MODULE: module_text(body=body),
            "courses/perehdytys/02-b.md": module_text("perehdytys-b"),
            "courses/yhteiset/ohje pdf.pdf": b"%PDF",
        }
    )

    assert [p for p in check(root) if MODULE in p] == []


def test_a_link_whose_letter_case_differs_from_the_file_is_broken(
    write_tree, course_yaml, module_text
) -> None:
    body = "## Osio\n\n![Kirjaston kartta](Kartta.png)\n"
    root = write_tree(
        {
            COURSE: course_yaml(),
            MODULE: module_text(body=body),
            "courses/perehdytys/kartta.png": b"",
        }
    )

    assert check(root) == [
        f"{MODULE}:10:21: broken image `Kartta.png`: file `courses/perehdytys/Kartta.png` "
        "does not exist"
    ]


def test_broken_image_and_missing_alt_text_are_both_reported(
    write_tree, course_yaml, module_text
) -> None:
    body = "## Osio\n\n| Kuva |\n|---|\n| ![](puuttuu.png) |\n"
    root = write_tree({COURSE: course_yaml(), MODULE: module_text(body=body)})

    assert check(root) == [
        f"{MODULE}:12:7: broken image `puuttuu.png`: "
        "file `courses/perehdytys/puuttuu.png` does not exist",
        f"{MODULE}:12:7: image `puuttuu.png` has no alt text: describe it inside the brackets, "
        "`![description](puuttuu.png)`",
    ]


def test_an_image_outside_the_repository_is_refused(write_tree, course_yaml, module_text) -> None:
    body = "## Osio\n\n![Salasanat](../../../etc/passwd)\n"
    root = write_tree({COURSE: course_yaml(), MODULE: module_text(body=body)})

    assert check(root) == [
        f"{MODULE}:10:14: image `../../../etc/passwd` points outside the repository"
    ]


def test_images_beside_the_module_with_alt_text_are_fine(
    write_tree, course_yaml, module_text
) -> None:
    body = "## Osio\n\n![Lapin kirjastot kartalla](kuvat/kartta.png)\n"
    root = write_tree(
        {
            COURSE: course_yaml(),
            MODULE: module_text(body=body),
            "courses/perehdytys/kuvat/kartta.png": b"\x89PNG",
        }
    )

    assert check(root) == []


def test_a_heading_that_skips_a_level_is_an_error(write_tree, course_yaml, module_text) -> None:
    body = "## Osio\n\nTeksti.\n\n#### Liian syvä\n"
    root = write_tree({COURSE: course_yaml(), MODULE: module_text(body=body)})

    assert check(root) == [f"{MODULE}:12:1: heading level skips from ## to ####: use ### here"]


def test_the_first_heading_must_be_level_two(write_tree, course_yaml, module_text) -> None:
    body = "Johdanto.\n\n### Alaotsikko\n"
    root = write_tree({COURSE: course_yaml(), MODULE: module_text(body=body)})

    assert check(root) == [
        f"{MODULE}:10:1: heading level skips from the page title (#) to ###: use ## here"
    ]


def test_a_level_one_heading_in_the_body_is_a_warning(write_tree, course_yaml, module_text) -> None:
    body = "# Otsikko uudestaan\n\n## Osio\n"
    root = write_tree({COURSE: course_yaml(), MODULE: module_text(body=body)})

    assert check(root) == [
        f"{MODULE}:8:1: warning: a `#` heading in the body: the page already shows the title "
        "from the front matter; start headings at `##`"
    ]


def test_an_empty_module_body_is_an_error_at_the_closing_fence(write_tree, course_yaml) -> None:
    module = "---\nid: perehdytys-a\ntitle: A\nestimated_minutes: 5\nobjectives: [x]\n---\n\n  \n"
    root = write_tree({COURSE: course_yaml(), MODULE: module})

    assert check(root) == [f"{MODULE}:6:1: the module has no text after the front matter"]


def test_missing_minutes_and_objectives_are_warnings(write_tree, course_yaml) -> None:
    root = write_tree({COURSE: course_yaml(), MODULE: "---\nid: perehdytys-a\ntitle: A\n---\nx\n"})

    assert check(root) == [
        f"{MODULE}:1:1: warning: no `estimated_minutes`: learners plan their time with it",
        f"{MODULE}:1:1: warning: no `objectives`: list what the learner will be able to do",
    ]


def test_problems_in_many_files_are_all_reported_in_path_order(
    write_tree, course_yaml, module_text
) -> None:
    root = write_tree(
        {
            COURSE: course_yaml(modules=("01-a.md", "02-b.md")),
            MODULE: module_text(body="#### Syvä\n"),
            "courses/perehdytys/02-b.md": "---\nid: B\ntitle: B\n---\n## x\n",
        }
    )

    errors = [p for p in check(root) if ": warning: " not in p]

    assert [p.split(": ")[0] for p in errors] == [
        f"{MODULE}:8:1",
        "courses/perehdytys/02-b.md:2:1",
    ]


def test_course_yaml_fields_are_validated_with_their_lines(write_tree, module_text) -> None:
    root = write_tree(
        {
            COURSE: (
                "id: perehdytys\n"
                "language: se\n"
                "title:\n"
                "  de: Einführung\n"
                "audience: [learner, johtaja]\n"
                "completion: kaikki\n"
                "modules: [01-a.md, ../muu/01-b.md]\n"
            ),
            MODULE: module_text(),
        }
    )

    assert check(root) == [
        f"{COURSE}:2:1: `language` must be one of fi, sv, en, not `se`",
        f"{COURSE}:3:1: `title` has language `de`; use fi, sv, en",
        f"{COURSE}:5:21: `audience` item 2 must be one of learner, editor, library_coordinator, "
        "regional_coordinator, admin, not `johtaja`",
        f"{COURSE}:6:1: `completion` must be one of all_modules, all_modules_and_quizzes, "
        "not `kaikki`",
        f"{COURSE}:7:20: `modules` item 2 `../muu/01-b.md` must be a `.md` file name "
        "in this folder",
    ]


def test_course_title_needs_the_course_language(write_tree, module_text) -> None:
    root = write_tree(
        {
            COURSE: "id: perehdytys\nlanguage: sv\ntitle: {fi: Perehdytys}\nmodules: [01-a.md]\n",
            MODULE: module_text(),
        }
    )

    assert check(root) == [f"{COURSE}:3:1: `title` needs a `sv:` text"]


def test_unknown_prerequisite_and_translation_are_reported(write_tree, module_text) -> None:
    root = write_tree(
        {
            COURSE: (
                "id: perehdytys\nlanguage: fi\ntitle: {fi: P}\n"
                "prerequisites: [koha-perusteet]\ntranslation_of: introduktion\n"
                "modules: [01-a.md]\n"
            ),
            MODULE: module_text(),
        }
    )

    assert check(root) == [
        f"{COURSE}:4:1: unknown prerequisite course `koha-perusteet`",
        f"{COURSE}:5:1: `translation_of` names unknown course `introduktion`",
    ]


def test_a_file_that_is_not_utf8_is_located(write_tree, course_yaml) -> None:
    text = "---\nid: perehdytys-a\ntitle: Kirjastolaki\n---\nKäyttäjä\n".encode("latin-1")
    root = write_tree({COURSE: course_yaml(), MODULE: text})

    assert check(root) == [f"{MODULE}:5:2: the file is not UTF-8 text; save it as UTF-8"]


def test_check_text_reports_the_editor_buffer_problems() -> None:
    text = (
        "---\n"
        "id: perehdytys-uusi\n"
        "title: Uusi\n"
        "estimated_minutes: 5\n"
        "objectives: [x]\n"
        "quiz: tuntematon\n"
        "---\n"
        "## Osio\n"
        "\n"
        "[Seuraava](02-b.md) ja [puuttuva](03-c.md) ja ![](kuva.png)\n"
    )

    problems = check_text(
        MODULE,
        text,
        known_quiz_ids={"muu"},
        known_module_files={"courses/perehdytys/02-b.md", "courses/perehdytys/kuva.png"},
        previous_id="perehdytys-a",
    )

    assert [str(p) for p in problems] == [
        f"{MODULE}:2:1: id changed from `perehdytys-a` to `perehdytys-uusi`: ids are permanent "
        "(progress and statements refer to them); restore `perehdytys-a`",
        f"{MODULE}:6:1: unknown quiz `tuntematon`: no quiz file has this id",
        f"{MODULE}:10:35: broken link `03-c.md`: file `courses/perehdytys/03-c.md` does not exist",
        f"{MODULE}:10:51: image `kuva.png` has no alt text: describe it inside the brackets, "
        "`![description](kuva.png)`",
    ]


def test_check_text_can_look_up_files_on_disk(write_tree, module_text) -> None:
    root = write_tree({"courses/perehdytys/kuva.png": b""})
    text = module_text(body="## Osio\n\n![Kartta](kuva.png)\n")

    assert check_text(MODULE, text, known_quiz_ids=None, known_module_files=(), root=root) == []
    assert [
        p.message for p in check_text(MODULE, text, known_quiz_ids=None, known_module_files=())
    ] == ["broken image `kuva.png`: file `courses/perehdytys/kuva.png` does not exist"]


def test_check_text_reports_a_missing_front_matter() -> None:
    problems = check_text(MODULE, "## Osio\n", known_quiz_ids=None, known_module_files=())

    assert [str(p) for p in problems] == [
        f"{MODULE}:1:1: the file must start with a `---` line opening the front matter"
    ]


def test_the_examples_in_the_editors_readme_pass_the_checker(write_tree) -> None:
    readme = (Path(__file__).parents[2] / "courses" / "README.md").read_text("utf-8")
    course = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    module = readme.split("```markdown\n---\n", 1)[1].split("\n```", 1)[0]
    root = write_tree(
        {
            "courses/perehdytys/course.yaml": course,
            "courses/perehdytys/01-kirjaston-tehtavat.md": f"---\n{module}\n",
            "courses/perehdytys/02-lapin-kirjastoverkko.md": f"---\n{module}\n".replace(
                "id: perehdytys-kirjaston-tehtavat\n", "id: perehdytys-lapin-kirjastoverkko\n"
            ),
        }
    )

    assert check(root, known_quiz_ids={"perehdytys-kirjaston-tehtavat-quiz"}) == []
