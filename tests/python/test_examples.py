"""The Python package's examples (python/examples/) run against a real `ifmesh signal`."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_tool_calls_example(signal_url):
    r = subprocess.run([sys.executable, str(REPO / "python" / "examples" / "tool_calls.py"),
                        signal_url], capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == [
        "c1 {'result': 5}",
        "c2 {'result': 'MESH'}",
        "c3 {'error': \"KeyError: 'divide'\"}",
    ], r.stdout + r.stderr
