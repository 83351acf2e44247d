"""Many coroutines at once, handlers that send, handlers that raise, and the sync wrapper."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import ifmesh
from conftest import LOOPBACK, unique


async def start(name: str, url: str, **kw) -> ifmesh.Agent:
    return await ifmesh.Agent.start(id=name, signaling_url=url, local_addresses=LOOPBACK, **kw)


async def test_thousand_concurrent_sends_all_acknowledged(signal_url):
    a = await start(unique("a"), signal_url)
    b = await start(unique("b"), signal_url)
    async with a, b:
        n = 1000
        sequences = await asyncio.wait_for(
            asyncio.gather(*(a.send(b.id, {"i": i}) for i in range(n))), 30)
        assert sorted(sequences) == list(range(1, n + 1))
        got = [await b.recv(10) for _ in range(n)]
        assert [m.payload["i"] for m in got] == list(range(n))  # exactly once, in order
        assert [m.sequence for m in got] == list(range(1, n + 1))
        assert a.unacknowledged(b.id) == 0
        assert b.stats()["queued_messages"] == 0


async def test_handler_sends_and_raising_handler_does_not_stop_the_agent(signal_url, caplog):
    a = await start(unique("a"), signal_url)
    b = await start(unique("b"), signal_url)
    async with a, b:
        calls = 0

        @b.on_message
        def explode(msg: ifmesh.Message) -> None:
            nonlocal calls
            calls += 1
            raise RuntimeError("handler failure for the test")

        @b.on_message
        async def reply(msg: ifmesh.Message) -> None:
            # Sending from inside a handler, and awaiting the acknowledgement there.
            await b.send(msg.source, {"re": msg.payload["n"]})

        @b.on_message
        def reply_sync(msg: ifmesh.Message) -> None:
            b.send_nowait(msg.source, {"sync_re": msg.payload["n"]}, ack=False)

        for n in range(5):
            await a.send(b.id, {"n": n}, ack=False)
        replies = [await a.recv(10) for _ in range(10)]
        assert sorted(r.payload.get("re", -1) for r in replies)[-5:] == [0, 1, 2, 3, 4]
        assert sorted(r.payload.get("sync_re", -1) for r in replies)[-5:] == [0, 1, 2, 3, 4]
        assert calls == 5
        assert "handler failure for the test" in caplog.text
        assert b.peers() == [a.id]


async def test_messages_iterator_ends_on_close(signal_url):
    a = await start(unique("a"), signal_url)
    b = await start(unique("b"), signal_url)
    got: list[int] = []

    async def consume() -> None:
        async for msg in b.messages():
            got.append(msg.payload)

    task = asyncio.ensure_future(consume())
    async with a:
        for i in range(3):
            await a.send(b.id, i, ack=False)
        while len(got) < 3:
            await asyncio.sleep(0.01)
        await b.close()
    await asyncio.wait_for(task, 5)
    assert got == [0, 1, 2]


def test_sync_agent(signal_url):
    with ifmesh.SyncAgent.start(id=unique("sa"), signaling_url=signal_url,
                                local_addresses=LOOPBACK) as a, \
            ifmesh.SyncAgent.start(id=unique("sb"), signaling_url=signal_url,
                                   local_addresses=LOOPBACK) as b:
        seen_threads = set()

        def echo(msg: ifmesh.Message) -> None:
            seen_threads.add(threading.current_thread().name)
            b.send(msg.source, {"echo": msg.payload})  # on the loop thread: does not wait

        b.on_message(echo)
        assert a.send(b.id, {"hello": "sync"}, timeout=10) == 1
        assert a.recv(10).payload == {"echo": {"hello": "sync"}}
        assert b.id in a.peers()
        assert seen_threads == {"ifmesh-loop"}


def test_sync_agent_iterators(signal_url):
    a = ifmesh.SyncAgent.start(id=unique("sa"), signaling_url=signal_url, local_addresses=LOOPBACK)
    with ifmesh.SyncAgent.start(id=unique("sb"), signaling_url=signal_url,
                                local_addresses=LOOPBACK) as b:
        events: list[ifmesh.WitnessEvent] = []
        done = threading.Event()

        def audit() -> None:
            for ev in a.witness_events(timeout=20):
                events.append(ev)
            done.set()  # the iterator ended with the agent

        reader = threading.Thread(target=audit)
        reader.start()
        while not a._witness_queues:  # registered once the generator runs
            time.sleep(0.01)
        for i in range(3):
            a.send(b.id, {"i": i}, timeout=10)
        got = []
        for msg in b.messages(timeout=10):
            got.append(msg.payload["i"])
            if len(got) == 3:
                break
        assert got == [0, 1, 2]
        with pytest.raises(TimeoutError):
            next(b.messages(timeout=0.2))
        a.close()
        assert done.wait(10)
        reader.join()
        sent = [e for e in events if e.event == "ifmessage_sent"]
        assert len(sent) == 3 and all(e.agent_id == a.id for e in events)
