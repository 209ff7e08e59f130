"""Run Learning Locker's xapi-statements LRS on loopback for tests and benchmarks.

Usage::

    from tests.lrs.server import running_lrs

    with running_lrs() as endpoint:  # "http://127.0.0.1:<port>/xAPI/"
        ...

The LRS keeps everything in memory and accepts any credentials (``AUTH_REPO=test``). Node
packages come from ``package-lock.json`` (``npm ci`` runs when ``node_modules`` is missing),
and ``bind-loopback.js`` makes it listen on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LRS_DIR = Path(__file__).resolve().parent
ENTRY_POINT = LRS_DIR / "node_modules" / "xapi-statements" / "dist" / "index.js"
PRELOAD = LRS_DIR / "bind-loopback.js"
HOST = "127.0.0.1"


class LrsStartError(RuntimeError):
    """The LRS could not be installed or did not come up."""


def ensure_installed() -> None:
    """Install the LRS's node packages from the lock file if they are not there yet."""
    if ENTRY_POINT.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise LrsStartError("npm is needed to install the test LRS (tests/lrs)")
    completed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=LRS_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0 or not ENTRY_POINT.exists():
        raise LrsStartError(f"npm ci failed in {LRS_DIR}:\n{completed.stderr[-4000:]}")


def free_port() -> int:
    """Return a TCP port on loopback that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _is_up(url: str) -> bool:
    request = urllib.request.Request(url, headers={"X-Experience-API-Version": "1.0.3"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _log_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-4000:]
    except OSError:
        return ""


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def running_lrs(*, startup_timeout: float = 60.0, attempts: int = 3) -> Iterator[str]:
    """Start the LRS on a free loopback port; yield its endpoint; stop it on exit."""
    ensure_installed()
    node = shutil.which("node")
    if node is None:
        raise LrsStartError("node is needed to run the test LRS (tests/lrs)")
    with tempfile.TemporaryDirectory(prefix="liboppi-lrs-") as tmp:
        workdir = Path(tmp)
        for attempt in range(1, attempts + 1):
            port = free_port()
            log_path = workdir / f"lrs-{attempt}.log"
            env = {
                **os.environ,
                "EXPRESS_PORT": str(port),
                "AUTH_REPO": "test",
                "EVENTS_REPO": "test",
                "MODELS_REPO": "memory",
                "STORAGE_REPO": "local",
                "FS_LOCAL_STORAGE_DIR": str(workdir / "storage"),
                "EXPRESS_MORGAN_DIRECTORY": str(workdir / "logs"),
            }
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [node, "-r", str(PRELOAD), str(ENTRY_POINT)],
                    cwd=workdir,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            endpoint = f"http://{HOST}:{port}/xAPI/"
            deadline = time.monotonic() + startup_timeout
            while process.poll() is None and time.monotonic() < deadline:
                if _is_up(endpoint + "about"):
                    break
                time.sleep(0.1)
            else:
                _stop(process)
                if attempt == attempts:
                    raise LrsStartError(
                        f"LRS did not answer on {endpoint}about:\n{_log_tail(log_path)}"
                    )
                continue  # most likely the port was taken meanwhile: try another
            try:
                yield endpoint
            finally:
                _stop(process)
            return
