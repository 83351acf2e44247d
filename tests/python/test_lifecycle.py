"""Agents come and go: repeated create/close keeps memory flat, and Ctrl-C or interpreter exit
closes an agent cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import ifmesh
from conftest import LOOPBACK, rss_mib, unique


@pytest.mark.skipif(os.environ.get("IFMESH_SANITIZED") == "1",
                    reason="ASan's quarantine holds freed memory on purpose")
async def test_thousand_create_close_cycles_keep_rss_flat(signal_url):
    async def cycle(i: int) -> None:
        agent = await ifmesh.Agent.start(id=f"cycle-{i}", signaling_url=signal_url,
                                         local_addresses=LOOPBACK)
        assert agent.is_registered()
        await agent.close()

    for i in range(100):  # warm-up: allocator arenas, thread stacks, the executor's threads
        await cycle(i)
    before = rss_mib()
    for i in range(100, 1100):
        await cycle(i)
    after = rss_mib()
    assert abs(after - before) <= 10, f"RSS {before:.1f} MiB -> {after:.1f} MiB"


async def test_sigint_closes_a_python_agent_process(signal_url, spawn, python_agent_cmd):
    name = unique("py-int")
    proc = spawn(python_agent_cmd + ["agent", "--id", name, "--signal", signal_url,
                                     "--local-address", "127.0.0.1", "--quiet"])
    proc.wait_for_line("registered")
    async with await ifmesh.Agent.start(id=unique("watch"), signaling_url=signal_url,
                                        local_addresses=LOOPBACK) as watcher:
        states: list[str] = []
        watcher.on_peer_state(lambda peer, state: states.append(state))
        await watcher.send(name, {"hi": 1}, ack=False)
        loop = asyncio.get_running_loop()
        while "connected" not in states:
            await asyncio.sleep(0.01)
        proc.proc.send_signal(signal.SIGINT)
        rc = await loop.run_in_executor(None, proc.proc.wait, 10)
        assert rc == 0
        deadline = loop.time() + 10
        while "disconnected" not in states and "reconnecting" not in states:
            assert loop.time() < deadline, f"the peer never saw the agent leave: {states}"
            await asyncio.sleep(0.01)


def test_interpreter_exit_with_open_agents(signal_url):
    """A script that never closes its agents (nor its loop) still exits promptly with 0."""
    script = textwrap.dedent(f"""
        import asyncio, ifmesh
        agents = []
        async def main():
            for i in range(3):
                agents.append(await ifmesh.Agent.start(
                    id="exit-{os.getpid()}-%d" % i, signaling_url="{signal_url}",
                    local_addresses=["127.0.0.1"]))
            await agents[0].send(agents[1].id, {{"x": 1}}, ack=False)
            await agents[1].recv(10)
            print("ready", flush=True)
        loop = asyncio.new_event_loop()
        loop.run_until_complete(main())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert "ready" in done.stdout
