"""Reading the local test LRS directly, as an LRS client would (not through the app)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

#: The credentials the tests give the app and use themselves (the test LRS accepts any).
AUTH = "Basic " + base64.b64encode(b"liboppi:test").decode()


def lrs_get(endpoint: str, **params: str) -> tuple[int, Any]:
    """GET ``statements`` from the LRS with query parameters; return status and parsed body."""
    url = f"{endpoint}statements?{urlencode(params)}"
    request = Request(url, headers={"X-Experience-API-Version": "1.0.3", "Authorization": AUTH})
    try:
        with urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except HTTPError as error:
        with error:
            return error.code, error.read()
