"""The remembered session identifier is Flask-Login's own, for any client address and browser."""

from __future__ import annotations

from flask_login.utils import _create_identifier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liboppi.web import login

header = st.none() | st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\x7f"), max_size=40
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(forwarded=header, address=st.none() | st.ip_addresses().map(str), agent=header)
def test_it_equals_flask_logins_identifier(app, forwarded, address, agent):
    headers = {}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    if agent is not None:
        headers["User-Agent"] = agent
    environ = {"REMOTE_ADDR": address} if address is not None else {}
    login._identifiers.clear()
    with app.test_request_context("/", headers=headers, environ_base=environ):
        expected = _create_identifier()
        assert login.session_identifier() == expected
        assert login.session_identifier() == expected  # now remembered
    other = {**headers, "User-Agent": f"{agent or ''} other"}
    with app.test_request_context("/", headers=other, environ_base=environ):
        assert login.session_identifier() == _create_identifier() != expected


def test_flask_login_uses_it_for_session_protection(app):
    manager = app.login_manager
    assert manager._session_identifier_generator is login.session_identifier
