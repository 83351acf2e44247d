"""Fixtures for the Python package's tests: a real `ifmesh signal` server and real agent
processes, all on loopback. IFMESH_CLI names the C++ command (ctest sets it); PYTHONPATH must
reach the built package (ctest sets it to the build folder's python/)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
LOOPBACK = ["127.0.0.1"]


def cli_path() -> str:
    path = os.environ.get("IFMESH_CLI", str(REPO / "build" / "ifmesh"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"the ifmesh command is not at {path} (set IFMESH_CLI)")
    return path


class Process:
    """A child process that is always reaped: killed by its PID at teardown if still running."""

    def __init__(self, args: list[str], env: Optional[dict] = None) -> None:
        self.args = args
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env)
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def wait_for_line(self, pattern: str, timeout: float = 20.0) -> re.Match:
        """The first line from now on (stdout and stderr) that matches ``pattern``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.0, left))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"{self.args[:3]} printed no line matching {pattern!r}; "
                                     f"got {self.seen[-20:]}")
            self.seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> Optional[int]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for p in started:
        p.stop()


@pytest.fixture
def spawn(processes: list[Process]):
    def run(args: list[str], env: Optional[dict] = None) -> Process:
        p = Process(args, env)
        processes.append(p)
        return p

    return run


@pytest.fixture
def signal_url(spawn) -> str:
    """A fresh `ifmesh signal` on a free loopback port."""
    server = spawn([cli_path(), "signal", "--address", "127.0.0.1", "--port", "0"])
    return server.wait_for_line(r"(ws://127\.0\.0\.1:\d+)").group(1)


@pytest.fixture
def python_agent_cmd() -> list[str]:
    """`python -m ifmesh` with the interpreter and PYTHONPATH of this test run."""
    return [sys.executable, "-m", "ifmesh"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def rss_mib() -> float:
    """This process's resident memory in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")
