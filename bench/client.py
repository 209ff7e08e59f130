"""A tiny HTTP client for setting up benchmarks: keep-alive, cookies by hand, CSRF tokens.

The app marks cookies ``Secure`` in production; a cookie jar would then refuse to send them
back over plain HTTP on loopback, so cookies are kept by name here and always sent.
"""

from __future__ import annotations

import html
import http.client
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
HOST = "127.0.0.1"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


@dataclass
class Browser:
    """One visitor on one loopback server: a kept-alive connection and its cookies."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        self._connection: http.client.HTTPConnection | None = None

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self._connection.request(method, path, body=body, headers=headers)
                raw = self._connection.getresponse()
                data = raw.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if raw.will_close:
                self.close()
            break
        response_headers: dict[str, str] = {}
        for name, value in raw.getheaders():
            if name.lower() == "set-cookie":
                self._store_cookie(value)
            response_headers[name.lower()] = value
        return Response(raw.status, response_headers, data)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, path: str, data: dict[str, str] | list[tuple[str, str]]) -> Response:
        body = urlencode(data).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}
        )

    def csrf_token(self, path: str) -> str:
        """The CSRF token of the form on the page at ``path``."""
        page = self.get(path)
        match = CSRF_RE.search(page.text)
        if match is None:
            raise RuntimeError(f"no CSRF token on {path} (HTTP {page.status})")
        return html.unescape(match.group(1))

    def login(self, email: str, password: str) -> None:
        token = self.csrf_token("/login")
        answer = self.post_form(
            "/login", {"csrf_token": token, "email": email, "password": password}
        )
        if answer.status != 302:
            raise RuntimeError(f"sign-in as {email} failed: HTTP {answer.status}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _store_cookie(self, header: str) -> None:
        pair = header.split(";", 1)[0]
        name, _, value = pair.partition("=")
        name = name.strip()
        if not name:
            return
        expired = "max-age=0" in header.lower() or "expires=thu, 01 jan 1970" in header.lower()
        if expired or value == "":
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value.strip()
