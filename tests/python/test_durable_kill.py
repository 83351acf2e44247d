"""Exactly once across SIGKILL with a state directory (docs/durability.md), a Python agent
process in each role, as tests/mesh/durable_kill_test.cpp does it for the C++ agent:

* a Python sender (`python -m ifmesh send --count --state-dir`) streaming to a C++
  `ifmesh agent --record --state-dir` is killed mid-stream and restarted with the same
  directory; it resumes after the last message its earlier run accepted;
* a Python receiver (`python -m ifmesh agent --journal --state-dir`) of a C++
  `ifmesh send --count --state-dir` stream is killed mid-stream and restarted with the same
  directory and journal.

Either way the record (or journal) holds every message 1..N of the sender once, in order, and
the sender exits 0 (every message acknowledged, none reported undeliverable). Each kill lands when
the record reaches a length drawn from a seed printed with the result (5-75 % of the stream;
IFMESH_DURABLE_SEED repeats a run)."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path
from typing import Callable

from conftest import Process, cli_path

MESSAGES = 20000
KILLS = 2


def sequences(path: Path, key: str) -> list[int]:
    """The sequence numbers of messages from "tx" in file order (a line cut short by a kill
    is not counted)."""
    out = []
    if not path.exists():
        return out
    for line in path.read_bytes().split(b"\n")[:-1]:
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if isinstance(m, dict) and m.get("source") == "tx" and isinstance(m.get(key), int):
            out.append(m[key])
    return out


def lines(path: Path) -> int:
    """Complete lines in the file so far."""
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_until(pred: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.002)
    return pred()


def flood(spawn, start_receiver: Callable[[], Process], start_sender: Callable[[], Process],
          record: Path, received: Callable[[], list[int]], kill_receiver: bool) -> None:
    seed = int(os.environ.get("IFMESH_DURABLE_SEED") or random.randrange(1 << 32))
    rng = random.Random(seed)
    targets = sorted(rng.randrange(MESSAGES // 20, MESSAGES * 3 // 4) for _ in range(KILLS))
    print(f"[durable-kill] seed {seed}, kills at {targets} records")
    receiver, sender = start_receiver(), start_sender()
    killed_at = []
    for k, target in enumerate(targets):
        # The restarted process must move the stream on to reach the next target.
        assert wait_until(lambda: lines(record) >= target, 30), (
            f"no progress after restart {k}: {lines(record)} records, waiting for {target} "
            f"(seed {seed})")
        killed_at.append(lines(record))
        print(f"[durable-kill] kill {k + 1} after {killed_at[-1]} records")
        victim = receiver if kill_receiver else sender
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        if kill_receiver:
            receiver = start_receiver()
        else:
            sender = start_sender()
    sender.proc.wait(90)
    sender.wait_for_line(r"delivered \d+ to rx", 5)
    assert sender.proc.returncode == 0, f"the sender failed (seed {seed})"
    seqs = received()
    for i, s in enumerate(seqs):
        assert s == i + 1, f"record {i}: {s}, missing, repeated or out of order (seed {seed})"
    assert len(seqs) == MESSAGES, f"{len(seqs)} records of {MESSAGES} (seed {seed})"
    assert killed_at[0] < MESSAGES, "the stream ended before the first kill"


def test_python_sender_killed_delivers_every_message_once(spawn, signal_url, python_agent_cmd,
                                                          tmp_path):
    record = tmp_path / "record.jsonl"

    def start_receiver() -> Process:
        p = spawn([cli_path(), "agent", "--id", "rx", "--signal", signal_url, "--local-address",
                   "127.0.0.1", "--state-dir", str(tmp_path / "rx"), "--record", str(record)])
        p.wait_for_line("registered")
        return p

    def start_sender() -> Process:
        return spawn(python_agent_cmd + [
            "send", "--id", "tx", "--to", "rx", "--signal", signal_url, "--local-address",
            "127.0.0.1", "--state-dir", str(tmp_path / "tx"), "--count", str(MESSAGES),
            "--timeout-ms", "90000"])

    flood(spawn, start_receiver, start_sender, record, lambda: sequences(record, "seq"),
          kill_receiver=False)


def test_python_receiver_killed_journals_every_message_once(spawn, signal_url,
                                                            python_agent_cmd, tmp_path):
    journal = tmp_path / "journal.jsonl"

    def start_receiver() -> Process:
        p = spawn(python_agent_cmd + [
            "agent", "--id", "rx", "--signal", signal_url, "--local-address", "127.0.0.1",
            "--state-dir", str(tmp_path / "rx"), "--journal", str(journal), "--quiet"])
        p.wait_for_line("registered")
        return p

    def start_sender() -> Process:
        return spawn([cli_path(), "send", "--id", "tx", "--to", "rx", "--signal", signal_url,
                      "--local-address", "127.0.0.1", "--state-dir", str(tmp_path / "tx"),
                      "--count", str(MESSAGES), "--timeout-ms", "90000"])

    flood(spawn, start_receiver, start_sender, journal,
          lambda: sequences(journal, "sequence_num"), kill_receiver=True)
