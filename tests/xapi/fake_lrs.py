"""A scriptable fake LRS on 127.0.0.1 for failure cases the real LRS cannot show."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """A scripted answer; ``hold`` keeps the answer back until the event is set."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hold: threading.Event | None = None
    close: bool = False


@dataclass
class Received:
    """One request as the fake LRS saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeLrs:
    """Answers the scripted replies in order, then behaves like a well LRS that stores.

    ``stored`` counts how often each statement id was stored: "exactly once" is a count of 1.
    """

    def __init__(self, replies: list[Reply] | None = None, *, port: int = 0) -> None:
        self.replies = list(replies or [])
        self.received: list[Received] = []
        self.stored: Counter[str] = Counter()
        self.statements: dict[str, Any] = {}
        self.close_after_each = False
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._holds: list[threading.Event] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def endpoint(self) -> str:
        """Return the xAPI endpoint URL, like the real LRS's."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/xAPI/"

    def __enter__(self) -> FakeLrs:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for hold in self._holds:
            hold.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        """Wait until ``count`` requests have arrived, in whatever order their connections gave.

        Requests on different connections are read by different server threads, so one sent
        earlier on a dropped connection can be recorded after one sent later on a new one.
        """
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)

    def _answer(self, request: Received) -> Reply:
        with self._lock:
            self.received.append(request)
            self._arrived.notify_all()
            if self.replies:
                reply = self.replies.pop(0)
                if reply.hold is not None:
                    self._holds.append(reply.hold)
                return reply
            return self._store(request)

    def _store(self, request: Received) -> Reply:
        if request.method == "POST":
            statements = json.loads(request.body)
            for statement in statements:
                self.stored[statement["id"]] += 1
                self.statements[statement["id"]] = statement
            ids = [statement["id"] for statement in statements]
            return Reply(200, json.dumps(ids).encode(), {"Content-Type": "application/json"})
        if request.method == "PUT":
            statement = json.loads(request.body)
            self.stored[statement["id"]] += 1
            self.statements[statement["id"]] = statement
            return Reply(204)
        return Reply(200, b'{"version":["1.0.3"]}', {"Content-Type": "application/json"})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Keep the test output quiet."""

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Received(
                    self.command,
                    self.path,
                    {name.lower(): value for name, value in self.headers.items()},
                    body,
                )
                reply = fake._answer(request)
                if reply.hold is not None:
                    reply.hold.wait(timeout=10)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
                if reply.close or fake.close_after_each:
                    # Close without "Connection: close", as an LRS's idle timeout does.
                    self.close_connection = True

            do_GET = do_POST = do_PUT = _serve

        return Handler
