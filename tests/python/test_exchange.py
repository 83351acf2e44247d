"""Two Python agents and C++ agents exchange messages in every direction through a real
`ifmesh signal`, over loopback DataChannels."""

from __future__ import annotations

import asyncio
import json
import subprocess

import ifmesh
from conftest import LOOPBACK, cli_path, unique


async def start(name: str, url: str, **kw) -> ifmesh.Agent:
    return await ifmesh.Agent.start(id=name, signaling_url=url, local_addresses=LOOPBACK, **kw)


async def test_python_python_and_cpp_in_every_direction(signal_url, spawn, tmp_path):
    cpp = unique("cpp")
    echo = spawn([cli_path(), "agent", "--id", cpp, "--signal", signal_url,
                  "--local-address", "127.0.0.1", "--echo"])
    echo.wait_for_line("registered")
    a = await start(unique("py-a"), signal_url)
    b = await start(unique("py-b"), signal_url, key_file=str(tmp_path / "b.pem"))
    async with a, b:
        # Python -> Python, both ways. The first send resolves on b's acknowledgement, which
        # it asks b to send promptly.
        first = asyncio.ensure_future(a.send(b.id, {"n": 1}))
        got = await b.recv(10)
        assert (got.source, got.destination, got.payload, got.sequence) == (a.id, b.id, {"n": 1}, 1)
        assert await b.send(a.id, [1, "two", None], ack=False) == 1
        assert await asyncio.wait_for(first, 3) == 1
        got = await a.recv(10)
        assert (got.source, got.payload) == (b.id, [1, "two", None])
        # Bytes travel as {"$bytes": base64} and come back as bytes.
        await a.send(b.id, b"\x00\xffraw", ack=False)
        assert (await b.recv(10)).payload == b"\x00\xffraw"

        # Python -> C++ and C++ -> Python: the C++ agent echoes each message back.
        for agent in (a, b):
            await agent.send(cpp, {"from": agent.id}, priority="high", trace_id="t-" + agent.id)
            reply = await agent.recv(10)
            assert reply.source == cpp
            assert reply.payload["echo"] == {"from": agent.id}
            assert reply.priority == ifmesh.Priority.HIGH
            assert reply.trace_id == "t-" + agent.id

        # A C++ agent starts the exchange (`ifmesh send`), a Python handler answers it.
        @b.on_message
        async def answer(msg: ifmesh.Message) -> None:
            await b.send(msg.source, {"answer": msg.payload}, ack=False)

        sender = spawn([cli_path(), "send", "--id", unique("cpp-send"), "--signal", signal_url,
                        "--local-address", "127.0.0.1", "--to", b.id,
                        "--payload", '{"q": 42}', "--expect-reply", "--timeout-ms", "15000"])
        line = await asyncio.get_running_loop().run_in_executor(
            None, sender.wait_for_line, r"^\{.*\}$", 20.0)
        reply = json.loads(line.group(0))
        assert reply["payload"] == {"answer": {"q": 42}}
        assert reply["source"] == b.id

        assert cpp in a.peers() and b.id in a.peers()
        assert a.quality_mode(b.id) in ("HIGH", "MEDIUM", "LOW")
        assert a.stats()["rejected_messages"] == 0


async def test_python_agent_process_talks_to_cpp_and_python(signal_url, spawn, python_agent_cmd):
    """`python -m ifmesh agent --echo` in its own process answers a C++ `ifmesh send` and an
    in-process Python agent."""
    remote = unique("py-proc")
    proc = spawn(python_agent_cmd + ["agent", "--id", remote, "--signal", signal_url,
                                     "--local-address", "127.0.0.1", "--echo", "--quiet"])
    proc.wait_for_line("registered")
    sender = spawn([cli_path(), "send", "--id", unique("cpp-send"), "--signal", signal_url,
                    "--local-address", "127.0.0.1", "--to", remote, "--payload", '{"k": "v"}',
                    "--expect-reply", "--timeout-ms", "15000"])
    line = await asyncio.get_running_loop().run_in_executor(
        None, sender.wait_for_line, r"^\{.*\}$", 20.0)
    assert json.loads(line.group(0))["payload"]["echo"] == {"k": "v"}

    async with await start(unique("py-a"), signal_url) as a:
        await a.send(remote, {"x": [1, 2]})
        reply = await a.recv(10)
        assert reply.source == remote and reply.payload["echo"] == {"x": [1, 2]}


async def test_witness_and_peer_state_callbacks(signal_url):
    a = await start(unique("py-a"), signal_url)
    b = await start(unique("py-b"), signal_url)
    events: list[ifmesh.WitnessEvent] = []
    states: list[tuple[str, str]] = []
    a.on_witness(events.append)
    a.on_peer_state(lambda peer, state: states.append((peer, state)))
    async with a, b:
        await a.send(b.id, {"w": 1}, ack=False)
        await b.recv(10)
        for _ in range(500):
            names = {e.event for e in events}
            if {"ifmessage_sent", "peer_connected"} <= names and (b.id, "connected") in states:
                break
            await asyncio.sleep(0.01)
        assert "ifmessage_sent" in names and "peer_connected" in names
        assert all(e.agent_id == a.id for e in events)
        assert (b.id, "connected") in states


async def test_witness_events_iterator(signal_url):
    a = await start(unique("py-a"), signal_url)
    b = await start(unique("py-b"), signal_url)
    seen: list[ifmesh.WitnessEvent] = []

    async def collect() -> None:
        async for ev in a.witness_events():
            seen.append(ev)

    async with b:
        task = asyncio.ensure_future(collect())
        await asyncio.sleep(0)  # the iterator is registered before anything happens
        async with a:
            await a.send(b.id, {"w": 1})
            for _ in range(500):
                if "ifmessage_sent" in {e.event for e in seen}:
                    break
                await asyncio.sleep(0.01)
        await asyncio.wait_for(task, 5)  # ends when the agent closes
    assert "ifmessage_sent" in {e.event for e in seen}
    assert all(e.agent_id == a.id for e in seen)


async def test_witness_file_is_signed_with_the_agents_key(signal_url, tmp_path):
    log, key = tmp_path / "audit.jsonl", tmp_path / "a.pem"
    a = await start(unique("py-a"), signal_url, witness_file=str(log), key_file=str(key))
    b = await start(unique("py-b"), signal_url)
    async with a, b:
        await a.send(b.id, {"w": 1}, ack=False)
        await b.recv(10)
    r = ifmesh.verify_witness_file(str(log))
    assert r["ok"], r["reason"]
    assert r["signatures"] >= 1 and r["unsigned_tail"] == 0 and not r["keys_pinned"]
    assert len(r["keys"]) == 1
    pinned = ifmesh.verify_witness_file(str(log), keys=r["keys"])
    assert pinned["ok"] and pinned["keys_pinned"]
    # The key the log names is the one in the agent's key file.
    verified = subprocess.run([cli_path(), "witness", "verify", str(log), "--key", str(key)],
                              capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert r["keys"][0] in verified.stdout
    other = ifmesh.verify_witness_file(str(log), keys=["A" * 43 + "="])
    assert not other["ok"] and "another key" in other["reason"]
