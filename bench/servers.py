"""Gunicorn servers on free loopback ports, with one configuration for ours and the floor.

Both servers run with the settings production uses (``liboppi/gunicorn_conf.py``: two
single-threaded ``gthread`` workers per core; :data:`GUNICORN`), so a ratio between them
measures the application, not the server. ``BENCH_WORKERS`` and ``BENCH_THREADS`` override
them for both alike.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from liboppi import gunicorn_conf

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class GunicornConfig:
    workers: int = gunicorn_conf.workers
    threads: int = gunicorn_conf.threads
    worker_class: str = gunicorn_conf.worker_class
    keep_alive: int = gunicorn_conf.keepalive
    timeout: int = gunicorn_conf.timeout

    def as_json(self) -> dict[str, object]:
        return {
            "workers": self.workers,
            "threads": self.threads,
            "worker_class": self.worker_class,
            "keep_alive": self.keep_alive,
        }


GUNICORN = GunicornConfig(
    workers=int(os.environ.get("BENCH_WORKERS") or gunicorn_conf.workers),
    threads=int(os.environ.get("BENCH_THREADS") or gunicorn_conf.threads),
)


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class ServerStartError(RuntimeError):
    pass


class Server:
    """A gunicorn master and its workers serving ``app_spec`` on a loopback port."""

    def __init__(
        self,
        name: str,
        app_spec: str,
        env: Mapping[str, str],
        log_dir: Path,
        *,
        config: GunicornConfig = GUNICORN,
        ready_path: str = "/",
    ) -> None:
        self.name = name
        self.app_spec = app_spec
        self.env = dict(env)
        self.config = config
        self.ready_path = ready_path
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, startup_timeout: float = 60.0) -> Server:
        for _attempt in range(3):
            self.port = free_port()
            command = [
                sys.executable,
                "-m",
                "gunicorn",
                # Production's settings file, for what the flags below do not set (its hooks);
                # the flags give the benchmark's own values, production's unless overridden.
                "--config",
                "python:liboppi.gunicorn_conf",
                "--workers",
                str(self.config.workers),
                "--threads",
                str(self.config.threads),
                "--worker-class",
                self.config.worker_class,
                "--keep-alive",
                str(self.config.keep_alive),
                "--timeout",
                str(self.config.timeout),
                "--graceful-timeout",
                "5",
                "--bind",
                f"{HOST}:{self.port}",
                "--chdir",
                str(REPO_ROOT),
                "--log-level",
                "warning",
                "--error-logfile",
                str(self.log_path),
                self.app_spec,
            ]
            environment = {**os.environ, **self.env, "PYTHONPATH": str(REPO_ROOT)}
            with open(os.devnull, "wb") as devnull:
                self.process = subprocess.Popen(
                    command,
                    cwd=REPO_ROOT,
                    env=environment,
                    stdin=subprocess.DEVNULL,
                    stdout=devnull,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if self._wait_ready(startup_timeout):
                return self
            self.stop()
        raise ServerStartError(f"{self.name} did not start; log:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                connection.request("GET", self.ready_path)
                connection.getresponse().read()
                connection.close()
                if len(self.worker_pids()) >= self.config.workers:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the master's child processes."""
        if self.process is None:
            return []
        return child_pids(self.process.pid)

    def worker_rss_mb(self) -> list[float]:
        """Each worker's resident set size (VmRSS), in MiB."""
        return [rss_mb(pid) for pid in self.worker_pids()]

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def child_pids(pid: int) -> list[int]:
    children: list[int] = []
    task_dir = Path(f"/proc/{pid}/task")
    try:
        for task in task_dir.iterdir():
            text = (task / "children").read_text().split()
            children.extend(int(c) for c in text)
        return sorted(set(children))
    except OSError:
        pass
    for entry in Path("/proc").iterdir():  # kernels without /proc/<pid>/task/<tid>/children
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            children.append(int(entry.name))
    return sorted(children)


def rss_mb(pid: int) -> float:
    """A process's VmRSS from /proc/<pid>/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
