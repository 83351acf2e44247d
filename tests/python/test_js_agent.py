"""A Python agent and a Node.js agent (clients/js, its own process) exchange signed IFMessages in
both directions through a real `ifmesh signal`, over loopback DataChannels (ICE on 127.0.0.1
only), each message delivered exactly once. Needs node and clients/js/node_modules."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time

import pytest

import ifmesh
from conftest import LOOPBACK, REPO, unique

COUNT = 40
PEER_SCRIPT = REPO / "tests" / "js" / "fixtures" / "python_peer.mjs"


def node_env() -> dict:
    """The environment without the sanitizer runtime that the ASan build preloads into Python:
    Node is not instrumented."""
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}


async def test_python_and_node_exchange_signed_messages_exactly_once(signal_url, spawn):
    node = shutil.which("node")
    if node is None or not (REPO / "clients" / "js" / "node_modules").is_dir():
        pytest.fail("node and clients/js/node_modules are needed "
                    "(bash tests/js/ensure_node_modules.sh clients/js)")
    py_id, js_id = unique("py"), unique("js")
    loop = asyncio.get_running_loop()
    async with await ifmesh.Agent.start(id=py_id, signaling_url=signal_url,
                                        local_addresses=LOOPBACK,
                                        message_signatures="always") as py:
        js = spawn([node, str(PEER_SCRIPT), signal_url, js_id, py_id, str(COUNT)], env=node_env())
        await loop.run_in_executor(None, js.wait_for_line, r"^READY$", 20.0)

        # Python -> Node: each returns when Node's agent acknowledged it (it passed Node's
        # checks, the signature among them, and reached its application). The first one also
        # makes the link, from this side while Node makes it from the other.
        for n in range(1, COUNT + 1):
            assert await asyncio.wait_for(py.send(js_id, {"py": n}), 20) == n

        # Node -> Python: Node's own messages and its echoes of ours, each exactly once.
        own: list[int] = []
        echoes: list[int] = []
        deadline = time.monotonic() + 20
        while len(own) < COUNT or len(echoes) < COUNT:
            m = await py.recv(max(0.1, deadline - time.monotonic()))
            assert (m.source, m.destination) == (js_id, py_id)
            if "node" in m.payload:
                own.append(m.payload["node"])
            else:
                echoes.append(m.payload["echo"]["py"])
        assert own == list(range(1, COUNT + 1))
        assert sorted(echoes) == list(range(1, COUNT + 1))
        # One more message carries our acknowledgement of Node's at once (else within 5 s).
        assert await asyncio.wait_for(py.send(js_id, {"done": True}), 20) == COUNT + 1
        await loop.run_in_executor(None, js.wait_for_line, r"^SENT$", 20.0)
        # Nothing more arrives (no duplicate), and Python refused nothing.
        with pytest.raises(asyncio.TimeoutError):
            extra = await py.recv(0.5)
            raise AssertionError(f"unexpected message {extra}")
        assert py.stats()["rejected_messages"] == 0

        # What Node delivered: ours, once each, in order, nothing refused.
        js.stop()
        lines = js.seen + [line for line in iter(js.lines.get, None)]
        got = [line.split(" ", 3) for line in lines if line.startswith("GOT ")]
        assert [(g[1], int(g[2]), json.loads(g[3])) for g in got] == [
            (py_id, n, {"py": n}) for n in range(1, COUNT + 1)] + [(py_id, COUNT + 1, {"done": True})]
        assert not [line for line in lines if line.startswith(("REJECTED", "FAILED"))], lines


HUB_SCRIPT = REPO / "tests" / "js" / "fixtures" / "hub.mjs"


async def test_node_hub_relays_between_two_python_spokes(signal_url, spawn, tmp_path):
    """The C++ agent (through Python) on both ends of a Node.js hub: each spoke links only to the
    hub, which forwards every message unchanged; the destination checks the source's signature
    and sees one hop."""
    node = shutil.which("node")
    if node is None or not (REPO / "clients" / "js" / "node_modules").is_dir():
        pytest.fail("node and clients/js/node_modules are needed")
    hub_id, a_id, b_id = unique("jshub"), unique("pya"), unique("pyb")
    loop = asyncio.get_running_loop()
    hub = spawn([node, str(HUB_SCRIPT), signal_url, hub_id], env=node_env())
    await loop.run_in_executor(None, hub.wait_for_line, r"^READY$", 20.0)
    witness = tmp_path / "b.witness.jsonl"
    opts = dict(signaling_url=signal_url, local_addresses=LOOPBACK, message_signatures="always",
                topology=f"hub={hub_id}")
    async with await ifmesh.Agent.start(id=b_id, witness_file=str(witness), **opts) as b, \
            await ifmesh.Agent.start(id=a_id, **opts) as a:
        # Once a spoke knows the other (its directory), its route goes through the hub; a send
        # before that would open a direct link, which the C++ agent then keeps using.
        deadline = time.monotonic() + 20
        while not (a.peer_state(hub_id) == b.peer_state(hub_id) == "connected"):
            assert time.monotonic() < deadline, "the spokes did not link to the hub"
            await asyncio.sleep(0.02)
        # Each send returns when the hub acknowledged it (its frame asks for a prompt ack).
        for n in range(1, 11):
            assert await asyncio.wait_for(a.send(b_id, {"n": n}), 20) == n
        got = []
        while len(got) < 10:
            m = await b.recv(20)
            assert (m.source, m.destination) == (a_id, b_id)
            got.append(m.payload["n"])
        assert got == list(range(1, 11))
        # And back the other way.
        assert await asyncio.wait_for(b.send(a_id, {"back": 1}), 20) == 1
        m = await a.recv(20)
        assert (m.source, m.payload) == (b_id, {"back": 1})
        assert a.stats()["rejected_messages"] == 0 and b.stats()["rejected_messages"] == 0
    received = [json.loads(line) for line in witness.read_text().splitlines() if line.strip()]
    received = [w for w in received if w.get("event") == "ifmessage_received"]
    assert len(received) == 10 and all(w["metadata"]["hops"] == 1 for w in received), received
    hub.stop()
    lines = hub.seen + [line for line in iter(hub.lines.get, None)]
    assert len([line for line in lines if line.startswith("FORWARDED ")]) == 11, lines
    assert not [line for line in lines if line.startswith("REJECTED")], lines
