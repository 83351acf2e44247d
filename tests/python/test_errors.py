"""C++ errors surface as ifmesh.Error subclasses."""

from __future__ import annotations

import asyncio

import pytest

import ifmesh
from conftest import LOOPBACK, cli_path, unique


async def start(name: str, url: str, **kw) -> ifmesh.Agent:
    return await ifmesh.Agent.start(id=name, signaling_url=url, local_addresses=LOOPBACK, **kw)


async def test_queue_full_and_oversize_raise(signal_url):
    a = await start(unique("a"), signal_url,
                    bandwidth={"queue_max_messages": 8, "queue_policy": "fail"})
    b = await start(unique("b"), signal_url)
    async with a, b:
        await a.send(b.id, {"warm": True}, ack=False)
        await b.recv(10)
        futures = [a.send_nowait(b.id, {"i": i}, ack=False) for i in range(100)]
        results = await asyncio.gather(*futures, return_exceptions=True)
        full = [r for r in results if isinstance(r, ifmesh.QueueFull)]
        ok = [r for r in results if isinstance(r, int)]
        assert full and ok, results[:10]
        assert len(full) + len(ok) == 100
        assert all(isinstance(r, ifmesh.Error) and r.code == "QueueFull" for r in full)
        assert a.stats()["rejected_messages"] >= len(full)
        received = [(await b.recv(10)).payload["i"] for _ in ok]
        assert received == sorted(received) and len(received) == len(ok)
        # b's next message carries the acknowledgement that frees a's queue.
        await b.send(a.id, "ack please", ack=False)
        await a.recv(10)
        for _ in range(500):
            if a.unacknowledged(b.id) == 0:
                break
            await asyncio.sleep(0.01)
        assert a.unacknowledged(b.id) == 0

        with pytest.raises(ifmesh.MessageTooLarge):
            await a.send(b.id, {"blob": "x" * (300 * 1024)})
        with pytest.raises(ifmesh.InvalidArgument):
            await a.send(a.id, {"to": "self"})
        with pytest.raises(ifmesh.InvalidArgument):
            await a.send(b.id, {"not json": object()})
        with pytest.raises(ValueError):
            await a.send(b.id, {}, priority="urgent")
        # The agent goes on after every refusal.
        assert await a.send(b.id, {"after": 1}, ack=False) > 0
        assert (await b.recv(10)).payload == {"after": 1}


async def test_block_policy_waits_for_room_instead_of_failing(signal_url):
    queue = {"queue_max_messages": 8, "block_timeout_ms": 10000}
    a = await start(unique("a"), signal_url, bandwidth={**queue, "queue_policy": "block"})
    b = await start(unique("b"), signal_url)
    async with a, b:
        await a.send(b.id, {"warm": True})
        await b.recv(10)
        # 300 sends at once through a queue of 8 (under "fail" most are refused): each waits
        # for room, none is refused.
        results = await asyncio.gather(*[a.send_nowait(b.id, {"i": i}) for i in range(300)],
                                       return_exceptions=True)
        assert all(isinstance(r, int) for r in results), [r for r in results if not
                                                          isinstance(r, int)][:3]
        assert a.stats()["rejected_messages"] == 0
        assert [(await b.recv(10)).payload["i"] for _ in range(300)] == list(range(300))


async def test_block_policy_times_out_and_close_ends_the_wait(signal_url):
    bandwidth = {"queue_max_messages": 4, "queue_policy": "block", "block_timeout_ms": 300}
    a = await start(unique("a"), signal_url, bandwidth=bandwidth)
    b = await start(unique("b"), signal_url)
    async with b:
        await a.send(b.id, {"warm": True})
        await b.recv(10)
        # ack=False messages are acknowledged on b's next message back: the queue stays full.
        for i in range(4):
            await a.send(b.id, {"i": i}, ack=False)
        t0 = asyncio.get_running_loop().time()
        with pytest.raises(ifmesh.QueueFull):
            await a.send(b.id, {"i": 4}, ack=False)
        assert asyncio.get_running_loop().time() - t0 >= 0.25  # waited out block_timeout_ms
        # b's message acknowledges the four; the next send finds room.
        await b.send(a.id, "ack please", ack=False)
        await a.recv(10)
        assert await a.send(b.id, {"i": 5}, ack=False) > 0
        assert [(await b.recv(10)).payload["i"] for _ in range(5)] == [0, 1, 2, 3, 5]
        await a.close()

    patient = {"queue_max_messages": 2, "queue_policy": "block", "block_timeout_ms": 30000}
    c = await start(unique("c"), signal_url, bandwidth=patient)
    absent = unique("absent")  # messages wait for it to register, filling the queue
    for i in range(2):
        await c.send(absent, {"i": i}, ack=False)
    held = [c.send_nowait(absent, {"i": i}, ack=False) for i in range(2, 5)]
    await asyncio.sleep(0.3)
    t0 = asyncio.get_running_loop().time()
    await c.close()
    assert asyncio.get_running_loop().time() - t0 < 5  # not the 30 s block timeout
    results = await asyncio.gather(*held, return_exceptions=True)
    assert all(isinstance(r, ifmesh.Closed) for r in results), results


async def test_registration_refusals(spawn, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret-for-the-test\n")
    server = spawn([cli_path(), "signal", "--port", "0", "--secret-file", str(secret)])
    url = server.wait_for_line(r"(ws://127\.0\.0\.1:\d+)").group(1)
    with pytest.raises(ifmesh.Unauthorized) as e:
        await start(unique("a"), url)
    assert isinstance(e.value, ifmesh.RegistrationError) and isinstance(e.value, ifmesh.Error)


async def test_duplicate_id_and_unreachable(signal_url):
    name = unique("dup")
    async with await start(name, signal_url):
        with pytest.raises(ifmesh.DuplicateId):
            await start(name, signal_url)
    with pytest.raises(ifmesh.Unreachable):
        await start(unique("x"), "ws://127.0.0.1:9", register_timeout=5)


async def test_closed_agent_refuses_calls(signal_url):
    a = await start(unique("a"), signal_url)
    await a.close()
    await a.close()
    with pytest.raises(ifmesh.Closed):
        await a.send("anyone", {})
    with pytest.raises(ifmesh.Closed):
        a.peers()
    with pytest.raises(ifmesh.Closed):
        await a.recv(1)


async def test_bad_options():
    with pytest.raises(ifmesh.InvalidArgument):
        await ifmesh.Agent.start(id="a", signaling_url="ws://127.0.0.1:9", topology="ring")
    with pytest.raises(ifmesh.InvalidArgument):
        await ifmesh.Agent.start(id="a", signaling_url="ws://127.0.0.1:9",
                                 bandwidth={"queue_policy": "maybe"})


async def test_dropped_messages_fail_with_undeliverable(signal_url, caplog):
    a = await start(unique("a"), signal_url,
                    bandwidth={"queue_max_messages": 4, "queue_policy": "drop_oldest"})
    b = await start(unique("b"), signal_url)
    async with a, b:
        # Queued while the link still connects; each newer message pushes the oldest out.
        waiting = [a.send_nowait(b.id, {"i": i}, droppable=True) for i in range(10)]
        quiet = [a.send_nowait(b.id, {"q": i}, droppable=True, ack=False) for i in range(10)]
        results = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), 15)
        assert all(isinstance(r, ifmesh.Undeliverable) for r in results), results
        assert all("queue full" in str(r) for r in results)
        await asyncio.gather(*quiet)  # accepted: they resolve without waiting
        got = [(await b.recv(10)).payload for _ in range(4)]
        assert got == [{"q": i} for i in range(6, 10)]
        for _ in range(200):  # the adapter's counters are sampled
            if a.stats()["dropped_messages"] == 16:
                break
            await asyncio.sleep(0.01)
        assert a.stats()["dropped_messages"] == 16
        assert caplog.text.count("message not delivered to " + b.id) == 6
