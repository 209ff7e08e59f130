"""The test LRS tooling itself: the loopback preload catches every form of listen()."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.lrs.server import PRELOAD

pytestmark = pytest.mark.lrs

# Every call form of net.Server.listen for TCP; each server prints the address it got.
SCRIPT = r"""
const net = require('net');
const http = require('http');
const forms = [
  (s, cb) => s.listen(0, cb),
  (s, cb) => s.listen(0, '0.0.0.0', cb),
  (s, cb) => s.listen('0', '::', 511, cb),
  (s, cb) => s.listen(0, undefined, cb),
  (s, cb) => s.listen({ port: 0 }, cb),
  (s, cb) => s.listen({ port: 0, host: '0.0.0.0', backlog: 10 }, cb),
  (s, cb) => s.listen(cb),
  (s, cb) => { s.once('listening', cb); s.listen(); },
];
const servers = forms.map(() => net.createServer()).concat([http.createServer()]);
const calls = forms.concat([(s, cb) => s.listen(0, cb)]);
const seen = [];
servers.forEach((server, index) => calls[index](server, () => {
  seen.push(server.address().address);
  server.close();
  if (seen.length === servers.length) console.log(JSON.stringify(seen));
}));
"""


def test_preload_binds_every_listen_form_to_loopback() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    completed = subprocess.run(
        [node, "-r", str(PRELOAD), "-e", SCRIPT],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    addresses = json.loads(completed.stdout)
    assert addresses == ["127.0.0.1"] * 9
