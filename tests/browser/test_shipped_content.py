"""The courses shipped in courses/ and quizzes/: every course and module page passes axe-core."""

from __future__ import annotations

import pytest

from liboppi import PROJECT_ROOT
from tests.browser.axe import axe_violations, describe
from tests.browser.signin import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def shipped_content(runner) -> None:
    """Import the repository's own quizzes and courses with the ``flask`` commands."""
    quizzes = runner.invoke(args=["quiz", "import", str(PROJECT_ROOT / "quizzes")])
    assert quizzes.exit_code == 0, quizzes.output
    courses = runner.invoke(args=["content", "import", str(PROJECT_ROOT)])
    assert courses.exit_code == 0, courses.output


def test_every_shipped_course_module_and_quiz_page_has_no_violations(
    page, create_user, shipped_content
):
    sign_in(page, create_user().email)
    page.goto("/courses")
    courses = page.eval_on_selector_all(
        "[data-course-id]", "els => els.map(e => e.dataset.courseId)"
    )
    assert len(courses) >= 5, courses
    pages = ["/courses", "/quizzes/"]
    for course_id in courses:
        page.goto(f"/courses/{course_id}")
        pages.append(f"/courses/{course_id}")
        pages += page.eval_on_selector_all(
            "li[data-module-id] a", "els => els.map(e => e.getAttribute('href'))"
        )
    # Quiz intro pages differ only by their Markdown introduction: two are enough here.
    page.goto("/quizzes/")
    pages += page.eval_on_selector_all(
        "tr[data-quiz-id] a", "els => els.map(e => e.getAttribute('href'))"
    )[:2]
    problems = []
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        violations = axe_violations(page)
        if violations:
            problems.append(f"{path}\n{describe(violations)}")
    assert not problems, f"{len(problems)} of {len(pages)} pages:\n" + "\n".join(problems)
