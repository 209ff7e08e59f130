"""The floor: a bare Flask app answering with pages of the same byte size as ours.

``gunicorn bench.floor_app:app`` with ``BENCH_FLOOR_SPEC`` pointing at a JSON file::

    {"routes": [{"method": "GET", "path": "/", "status": 200, "body_file": "/tmp/…/index.html",
                 "location": null, "form": false, "argon2_hash": null}]}

Each route answers with the bytes in ``body_file`` (our own page, captured from our server)
and the same status. ``form`` makes the floor parse the posted form, as any POST handler must;
``argon2_hash`` makes it verify the posted ``password`` against that hash, so the deliberate
cost of password hashing is in the floor of the sign-in benchmark too and the ratio measures
only what our code adds. No database, no templates, no session, no extensions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from flask import Flask, Response, request

app = Flask(__name__)
_hasher = PasswordHasher()


def _load_routes() -> dict[tuple[str, str], dict]:
    spec_path = os.environ.get("BENCH_FLOOR_SPEC")
    if not spec_path:
        return {}
    spec = json.loads(Path(spec_path).read_text())
    routes = {}
    for route in spec["routes"]:
        route = dict(route)
        route["body"] = Path(route["body_file"]).read_bytes()
        routes[(route["method"], route["path"])] = route
    return routes


ROUTES = _load_routes()


@app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
@app.route("/<path:path>", methods=["GET", "POST"])
def page(path: str) -> Response:
    route = ROUTES.get((request.method, "/" + path))
    if route is None:
        return Response(b"not found", status=404)
    if route.get("form"):
        form = request.form
        if route.get("argon2_hash"):
            try:
                _hasher.verify(route["argon2_hash"], form.get("password", ""))
            except VerificationError:
                return Response(b"wrong password", status=400)
    response = Response(route["body"], status=route["status"], mimetype="text/html")
    if route.get("location"):
        response.headers["Location"] = route["location"]
    return response
