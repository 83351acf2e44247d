"""A Python agent process (`python -m ifmesh agent --journal`) is killed with SIGKILL while an
in-test agent streams to it, then restarted with the same id and key. As for the C++ agent
(tests/mesh/process_kill_test.cpp): every message the sender accepted is acknowledged (none is
reported undeliverable), the killed and the restarted process each got every message at most
once, the restarted one in order, and the two journals together hold every message. Messages
the killed process journaled but had not acknowledged reach the new process again (it cannot
know it had them), so only the union is complete."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import ifmesh
from conftest import LOOPBACK, unique


def journal(path: Path) -> list[int]:
    out = []
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue  # a line cut short by the kill
        if isinstance(m, dict) and isinstance(m.get("payload"), dict) and "i" in m["payload"]:
            out.append(m["payload"]["i"])
    return out


async def wait_until(pred, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if pred():
            return True
        await asyncio.sleep(0.02)
    return pred()


async def test_exactly_once_across_killed_and_restarted_python_agent(
        signal_url, spawn, python_agent_cmd, tmp_path):
    receiver = unique("py-recv")
    key = tmp_path / "receiver.pem"
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"

    def run_receiver(journal_path: Path):
        p = spawn(python_agent_cmd + ["agent", "--id", receiver, "--signal", signal_url,
                                      "--local-address", "127.0.0.1", "--key-file", str(key),
                                      "--journal", str(journal_path), "--quiet"])
        p.wait_for_line("registered")
        return p

    first = run_receiver(old)
    total = 1500
    async with await ifmesh.Agent.start(id=unique("py-send"), signaling_url=signal_url,
                                        local_addresses=LOOPBACK) as sender:
        futures: list[asyncio.Future] = []

        outstanding = 0

        def settled(_: asyncio.Future) -> None:
            nonlocal outstanding
            outstanding -= 1

        async def stream() -> None:
            # At most 200 messages unacknowledged: the stream goes on only as fast as the
            # receiver takes it, so the kill lands in its middle.
            nonlocal outstanding
            for i in range(total):
                while outstanding >= 200:
                    await asyncio.sleep(0.005)
                outstanding += 1
                fut = sender.send_nowait(receiver, {"i": i})
                fut.add_done_callback(settled)
                futures.append(fut)

        streaming = asyncio.ensure_future(stream())
        assert await wait_until(lambda: len(journal(old)) >= 300, 20), "nothing reached the receiver"
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
        killed_at = len(futures)
        second = run_receiver(new)
        await asyncio.wait_for(streaming, 30)
        results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), 60)
        failed = [r for r in results if isinstance(r, BaseException)]
        assert not failed, f"{len(failed)} sends failed, first: {failed[0]!r}"
        assert killed_at < total, "the stream ended before the kill"

        old_seen, new_seen = journal(old), journal(new)
        assert len(old_seen) == len(set(old_seen)), "the killed process got a message twice"
        assert len(new_seen) == len(set(new_seen)), "the restarted process got a message twice"
        assert new_seen == sorted(new_seen), "out of order after the restart"
        missing = set(range(total)) - set(old_seen) - set(new_seen)
        assert not missing, f"{len(missing)} acknowledged messages lost, first {min(missing)}"
        assert len(new_seen) > 0
        second.stop()
