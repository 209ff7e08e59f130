"""axe-core finds no WCAG 2.1 A/AA violation on the foundation's pages, errors shown or not."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from liboppi.models import Role
from liboppi.services import accounts, demo
from tests.browser.axe import axe_check, axe_violations, describe
from tests.browser.signin import sign_in, sign_out
from tests.web_client import PASSWORD

pytestmark = pytest.mark.browser


def submit(page, selector: str = "main form [type=submit]") -> None:
    with page.expect_navigation():
        page.click(selector)


def test_axe_check_fails_on_a_page_with_a_violation(page):
    page.goto("/login")
    page.evaluate(
        "() => { const input = document.createElement('input');"
        " document.querySelector('main').append(input); }"
    )
    violations = axe_violations(page)
    assert "label" in {violation["id"] for violation in violations}
    with pytest.raises(AssertionError, match="label"):
        axe_check(page)
    # From the second page on, axe-core comes with the document; it still finds the problem.
    page.goto("/saavutettavuus")
    axe_check(page)
    page.evaluate(
        "() => { document.querySelector('main').append(document.createElement('select')); }"
    )
    assert "select-name" in {violation["id"] for violation in axe_violations(page)}


def test_login_page_has_no_violations(page):
    page.goto("/login")
    axe_check(page)


def test_login_page_with_field_errors_has_no_violations(page):
    page.goto("/login")
    submit(page)
    assert page.locator(".error-summary").count() == 1
    assert page.get_attribute("#email", "aria-invalid") == "true"
    assert "email-error" in page.get_attribute("#email", "aria-describedby")
    axe_check(page)


def test_login_page_after_wrong_password_has_no_violations(page, create_user):
    user = create_user()
    page.goto("/login")
    page.fill("#email", user.email)
    page.fill("#password", "not the password")
    submit(page)
    assert page.locator(".error-summary li").count() == 1
    assert page.input_value("#email") == user.email
    axe_check(page)


def test_accessibility_statement_has_no_violations_signed_out_and_in(page, create_user):
    page.goto("/saavutettavuus")
    axe_check(page)
    sign_in(page, create_user().email)
    page.goto("/saavutettavuus")
    assert page.locator("nav.main-nav").count() == 1
    axe_check(page)


def test_language_page_has_no_violations(page):
    page.goto("/language")
    axe_check(page)


def test_password_change_page_has_no_violations_with_and_without_errors(page, create_user):
    sign_in(page, create_user().email)
    page.goto("/password")
    axe_check(page)
    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", "uusi salasana 1")
    page.fill("#confirm_password", "eri salasana 2")
    submit(page)
    assert page.get_attribute("#confirm_password", "aria-invalid") == "true"
    axe_check(page)


def test_password_changed_front_page_with_message_has_no_violations(page, create_user):
    sign_in(page, create_user().email)
    page.goto("/password")
    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", "uusi salasana 1")
    page.fill("#confirm_password", "uusi salasana 1")
    submit(page)
    assert page.url.endswith("/")
    assert page.locator(".flash-success").count() == 1
    axe_check(page)


def test_admin_users_list_and_search_have_no_violations(page, create_user, create_library):
    library = create_library("Sallan kirjasto")
    for role in (Role.LEARNER, Role.EDITOR, Role.LIBRARY_COORDINATOR):
        create_user(role, library=library)
    create_user(Role.LEARNER, is_active=False)
    admin = create_user(Role.ADMIN)
    sign_in(page, admin.email)
    page.goto("/admin/users")
    assert page.locator("table.data tbody tr").count() == 5
    axe_check(page)
    page.fill("#user-search", "nobody-matches-this")
    submit(page, "form[role=search] button")
    assert page.locator("table.data tbody tr").count() == 0
    axe_check(page)


def test_admin_user_page_has_no_violations_with_link_and_form_errors(page, create_user):
    person = create_user(Role.LEARNER)
    admin = create_user(Role.ADMIN)
    sign_in(page, admin.email)
    page.goto(f"/admin/users/{person.id}")
    axe_check(page)
    submit(page, f"form[action='/admin/users/{person.id}/link'] button")
    assert "/set-password/" in page.input_value("#set-password-link")
    axe_check(page)
    page.select_option("#role", "learner")
    submit(page, f"form[action='/admin/users/{person.id}/memberships'] [type=submit]")
    assert page.locator(".error-summary").count() == 1
    axe_check(page)


def test_library_coordinator_sees_staff_list_and_user_page_without_violations(
    page, create_user, create_library
):
    library = create_library()
    colleague = create_user(Role.LEARNER, library=library)
    coordinator = create_user(Role.LIBRARY_COORDINATOR, library=library)
    sign_in(page, coordinator.email)
    page.goto("/admin/users")
    axe_check(page)
    page.goto(f"/admin/users/{colleague.id}")
    axe_check(page)


def test_create_user_form_created_page_and_set_password_have_no_violations(
    new_page, create_user, create_library
):
    library = create_library("Ranuan kirjasto")
    admin_page = new_page()
    sign_in(admin_page, create_user(Role.ADMIN).email)
    admin_page.goto("/admin/users/new")
    axe_check(admin_page)

    admin_page.fill("#email", "not an email")
    submit(admin_page)
    assert admin_page.get_attribute("#email", "aria-invalid") == "true"
    assert admin_page.get_attribute("#display_name", "aria-invalid") == "true"
    assert admin_page.input_value("#email") == "not an email"
    axe_check(admin_page)

    admin_page.fill("#display_name", "Uusi Työntekijä")
    admin_page.fill("#email", "uusi.tyontekija@kirjasto.example")
    admin_page.select_option("#role", "learner")
    admin_page.select_option("#library", str(library.id))
    submit(admin_page)
    link = admin_page.input_value("#set-password-link")
    axe_check(admin_page)

    newcomer = new_page()
    newcomer.goto(urlsplit(link).path)
    assert newcomer.locator("#new_password").count() == 1
    axe_check(newcomer)
    newcomer.fill("#new_password", "lyhyt")
    submit(newcomer)
    assert newcomer.get_attribute("#new_password", "aria-invalid") == "true"
    axe_check(newcomer)
    newcomer.fill("#new_password", "oma salasana 123")
    newcomer.fill("#confirm_password", "oma salasana 123")
    submit(newcomer)
    assert newcomer.url.endswith("/login")
    assert newcomer.locator(".flash-success").count() == 1
    axe_check(newcomer)

    # The link works once; the second visit shows the "link not valid" page.
    newcomer.goto(urlsplit(link).path)
    assert newcomer.locator("#new_password").count() == 0
    axe_check(newcomer)


def test_set_password_page_from_a_link_has_no_violations(page, live_server, create_user):
    user = create_user()
    token = accounts.make_set_password_token(live_server.app.config["LIBOPPI"].secret_key, user)
    response = page.goto(f"/set-password/{token}")
    assert response.status == 200
    axe_check(page)


def test_forbidden_page_has_no_violations(page, create_user):
    sign_in(page, create_user(Role.LEARNER).email)
    response = page.goto("/admin/users/new")
    assert response.status == 403
    axe_check(page)


def test_not_found_pages_have_no_violations_signed_out_and_in(page, create_user):
    response = page.goto("/no-such-page")
    assert response.status == 404
    axe_check(page)
    sign_in(page, create_user(Role.ADMIN).email)
    response = page.goto("/admin/users/987654")
    assert response.status == 404
    axe_check(page)


def test_expired_form_page_has_no_violations(page):
    page.goto("/login")
    # As if the session had expired: the token in the form no longer matches the session's.
    page.evaluate(
        "() => { document.querySelector('main form input[name=csrf_token]').value = 'old'; }"
    )
    page.fill("#email", "someone@kirjasto.example")
    page.fill("#password", "whatever password")
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert page.locator("#email").count() == 0
    axe_check(page)


def test_front_page_of_every_demo_role_has_its_cards_and_no_violations(page, demo_logins):
    roles = {login.role for login in demo_logins}
    assert roles == {role.value for role in Role}
    problems = []
    for login in demo_logins:
        sign_in(page, login.email, demo.DEMO_PASSWORD)
        cards = set(
            page.eval_on_selector_all(
                ".card", "els => els.map(el => el.id || el.getAttribute('aria-labelledby'))"
            )
        )
        assert "card-account" in cards, (login.email, cards)
        assert ("card-admin" in cards) == (login.role == "admin"), (login.email, cards)
        assert ("card-staff" in cards) == (login.role == "library_coordinator"), (
            login.email,
            cards,
        )
        violations = axe_violations(page)
        if violations:
            problems.append(f"{login.email} ({login.role}):\n{describe(violations)}")
        sign_out(page)
    assert not problems, "\n".join(problems)
