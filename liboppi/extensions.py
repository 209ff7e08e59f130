"""Flask extensions, created unbound and attached to the app in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager

from liboppi.csrf_protect import RememberingCSRFProtect

login_manager = LoginManager()
csrf = RememberingCSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
