"""Flask-Limiter's per-request hooks, run only for requests that met a limit.

Our limits are all per route (``@limiter.limit``). Flask-Limiter's before-request hook is
for default and blueprint limits, which we do not have, so it is removed; its after-request
hook (deductions made only for some responses, and the ``X-RateLimit-*`` headers) and its
teardown (resetting what the request noted) read the state a limit check leaves on the
request context, and on every other request they would only create and clear an empty one.
Here they run when that state exists, which changes nothing they do and saves every other
request their cost. ``tests/web/test_security.py`` shows the sign-in limit, its deductions and
headers still working.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask
from flask.globals import request_ctx
from flask_limiter import Limiter

#: Where Flask-Limiter keeps a request's limit state (``Limiter.context``).
_STATE = "_limiter_request_context"


def _met_a_limit() -> bool:
    return hasattr(request_ctx._get_current_object(), _STATE)


def _after(hook: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def after_request(response: Any) -> Any:
        return hook(response) if _met_a_limit() else response

    return after_request


def _teardown(hook: Callable[[BaseException | None], None]) -> Callable[..., None]:
    def teardown_request(exc: BaseException | None = None) -> None:
        if _met_a_limit():
            hook(exc)

    return teardown_request


def init_app(app: Flask, limiter: Limiter) -> None:
    """Attach ``limiter`` to ``app`` with its request hooks as described above."""
    limiter.init_app(app)
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    after, teardown = app.after_request_funcs[None], app.teardown_request_funcs[None]
    inject = next(
        (
            i
            for i, hook in enumerate(after)
            if isinstance(hook, partial) and hook.args == (limiter,)
        ),
        None,
    )
    release = next(
        (i for i, hook in enumerate(teardown) if hook == limiter._Limiter__release_context),
        None,
    )
    if inject is None or release is None:
        raise RuntimeError("Flask-Limiter's request hooks are not where this version put them")
    after[inject] = _after(after[inject])
    teardown[release] = _teardown(teardown[release])
