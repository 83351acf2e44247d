"""ifmesh.PeerConnection and ifmesh.DataChannel: two real connections in one process (and one
across two processes) over loopback UDP, with trickled candidates."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

import ifmesh
from conftest import LOOPBACK, REPO, rss_mib

SANITIZED = os.environ.get("IFMESH_SANITIZED") == "1"


def trickle(a: ifmesh.PeerConnection, b: ifmesh.PeerConnection) -> None:
    """Each side's candidates go to the other as they are found."""
    a.on("icecandidate", lambda c: b.closed or b.add_ice_candidate(c))
    b.on("icecandidate", lambda c: a.closed or a.add_ice_candidate(c))


async def negotiate(a: ifmesh.PeerConnection, b: ifmesh.PeerConnection) -> None:
    offer = await a.create_offer()
    assert offer.type == "offer" and "m=application" in offer.sdp
    await b.set_remote_description(offer)
    answer = await b.create_answer()
    assert answer.type == "answer"
    await a.set_remote_description(answer)


async def open_pair(label: str = "chat", **channel_options):
    """A connected pair with a channel from a to b: (a, b, a's channel, b's channel)."""
    a = ifmesh.PeerConnection(local_addresses=LOOPBACK)
    b = ifmesh.PeerConnection(local_addresses=LOOPBACK)
    trickle(a, b)
    ca = a.create_data_channel(label, **channel_options)
    await negotiate(a, b)
    cb = await b.next_data_channel(timeout=10)
    await ca.wait_open(timeout=10)
    await cb.wait_open(timeout=10)
    return a, b, ca, cb


async def test_text_and_binary_both_ways():
    a = ifmesh.PeerConnection(local_addresses=LOOPBACK)
    b = ifmesh.PeerConnection(local_addresses=LOOPBACK)
    async with a, b:
        # a's candidates through the iterator, b's through the event.
        async def forward() -> None:
            async for c in a.ice_candidates():
                assert c.candidate.startswith("candidate:") and "127.0.0.1" in c.candidate
                b.add_ice_candidate(c.to_dict())
            b.add_ice_candidate(None)

        b.on("icecandidate", a.add_ice_candidate)
        states: list[str] = []
        a.on("connectionstatechange", states.append)
        ca = a.create_data_channel("chat", protocol="p1")
        assert ca.ready_state == "connecting"
        with pytest.raises(ifmesh.InvalidState):
            ca.send("too early")
        offer = await a.create_offer()
        forwarding = asyncio.ensure_future(forward())
        await b.set_remote_description(offer.to_dict())
        await a.set_remote_description(await b.create_answer())
        await asyncio.gather(a.wait_connected(10), b.wait_connected(10))
        await asyncio.wait_for(forwarding, 10)
        assert states[-1] == "connected" and a.connection_state == "connected"
        assert a.ice_gathering_state == "complete"
        cb = await b.next_data_channel(timeout=10)
        await ca.wait_open(10)
        assert (cb.label, cb.protocol, cb.id) == ("chat", "p1", ca.id)
        assert cb.ready_state == "open" and ca.ready_state == "open"

        ca.send("hello, b")
        ca.send(b"\x00\x01binary\xff")
        ca.send(bytearray(b"from a bytearray"))
        ca.send("")
        ca.send(b"")
        assert await cb.recv(5) == "hello, b"
        assert await cb.recv(5) == b"\x00\x01binary\xff"
        assert await cb.recv(5) == b"from a bytearray"
        assert await cb.recv(5) == ""
        assert await cb.recv(5) == b""
        cb.send("héllo, a ✓")
        cb.send(memoryview(b"back"))
        assert await ca.recv(5) == "héllo, a ✓"
        assert await ca.recv(5) == b"back"
        with pytest.raises(TypeError):
            ca.send(12)
        with pytest.raises(UnicodeEncodeError):
            ca.send("\ud800")  # a lone surrogate has no UTF-8 form
        ca.send("still open")
        assert await cb.recv(5) == "still open"

        stats = a.stats()
        assert stats["state"] == "connected" and stats["data_channels"] == 1
        pair = stats["selected_pair"]
        assert "127.0.0.1" in pair["local_candidate"] and pair["local_type"] == "host"
        assert stats["bytes_sent"] > 0 and stats["bytes_received"] > 0
        assert a.local_description.type == "offer" and b.local_description.type == "answer"
        assert len(a.local_fingerprint.split(":")) == 32
    assert a.closed and a.connection_state == "closed" and a.local_description is None
    assert ca.ready_state == "closed" and cb.ready_state == "closed"


async def test_large_messages_and_the_size_limit():
    a, b, ca, cb = await open_pair()
    async with a, b:
        assert ca.max_message_size == 256 * 1024
        big = os.urandom(256 * 1024)
        ca.send(big)
        cb.send(big[::-1])
        text = "x" * (256 * 1024)
        ca.send(text)
        assert await cb.recv(10) == big
        assert await cb.recv(10) == text
        assert await ca.recv(10) == big[::-1]
        with pytest.raises(ifmesh.MessageTooLarge):
            ca.send(b"\x00" * (256 * 1024 + 1))
        # Still usable after the refusal.
        ca.send("after")
        assert await cb.recv(5) == "after"


async def test_ten_thousand_messages_arrive_in_order():
    a, b, ca, cb = await open_pair()
    async with a, b:
        count = 10_000
        received: list[str] = []

        async def read() -> None:
            async for m in cb.messages():
                received.append(m)
                if len(received) == count:
                    return

        reader = asyncio.ensure_future(read())
        for i in range(count):
            ca.send(f"m{i}")
        await asyncio.wait_for(reader, 30)
        assert received == [f"m{i}" for i in range(count)]
        await asyncio.wait_for(ca.drain(), 10)
        assert ca.buffered_amount == 0


async def test_answerer_opens_a_channel_after_connecting():
    a, b, ca, cb = await open_pair()
    async with a, b:
        seen: list[ifmesh.DataChannel] = []
        got = asyncio.get_running_loop().create_future()

        @a.on("datachannel")
        def on_channel(channel: ifmesh.DataChannel) -> None:
            seen.append(channel)
            channel.on("message", lambda m: got.done() or got.set_result((channel.label, m)))

        back = b.create_data_channel("from-b")
        await back.wait_open(10)
        back.send("to a, on b's channel")
        assert await asyncio.wait_for(got, 10) == ("from-b", "to a, on b's channel")
        assert [c.label for c in seen] == ["from-b"]
        assert seen[0].id != ca.id and seen[0].id == back.id


async def test_unordered_and_partially_reliable_channels_open():
    a = ifmesh.PeerConnection(local_addresses=LOOPBACK)
    b = ifmesh.PeerConnection(local_addresses=LOOPBACK)
    async with a, b:
        trickle(a, b)
        lossy = a.create_data_channel("lossy", ordered=False, max_retransmits=0)
        timed = a.create_data_channel("timed", ordered=False, max_packet_life_time=100)
        await negotiate(a, b)
        remote = {}
        for _ in range(2):
            ch = await b.next_data_channel(timeout=10)
            remote[ch.label] = ch
        for local in (lossy, timed):
            await local.wait_open(10)
            local.send(local.label)
            assert await remote[local.label].recv(5) == local.label
        with pytest.raises(ifmesh.InvalidArgument):
            a.create_data_channel("both", max_retransmits=1, max_packet_life_time=1)


async def test_negotiated_channel_needs_no_in_band_open():
    a = ifmesh.PeerConnection(local_addresses=LOOPBACK)
    b = ifmesh.PeerConnection(local_addresses=LOOPBACK)
    async with a, b:
        trickle(a, b)
        announced: list = []
        b.on("datachannel", announced.append)
        ca = a.create_data_channel("side", negotiated=True, id=7)
        cb = b.create_data_channel("side", negotiated=True, id=7)
        await negotiate(a, b)
        await ca.wait_open(10)
        await cb.wait_open(10)
        assert ca.id == cb.id == 7
        ca.send("ping")
        assert await cb.recv(5) == "ping"
        assert announced == []
        with pytest.raises(ifmesh.InvalidArgument):
            a.create_data_channel("x", negotiated=True)


async def test_send_from_a_message_handler_echoes_without_deadlock():
    a, b, ca, cb = await open_pair()
    async with a, b:
        cb.on("message", cb.send)  # echo, on the loop, from inside the dispatch
        count = 2_000
        for i in range(count):
            ca.send(f"e{i}" if i % 2 else f"e{i}".encode())
        got = [await ca.recv(10) for _ in range(count)]
        assert got == [f"e{i}" if i % 2 else f"e{i}".encode() for i in range(count)]


async def test_bad_sdp_and_candidates_raise():
    async with ifmesh.PeerConnection(local_addresses=LOOPBACK) as pc:
        with pytest.raises(ifmesh.MalformedSdp):
            await pc.set_remote_description(ifmesh.SessionDescription("offer", "v=0\r\nbad"))
        with pytest.raises(ifmesh.MalformedSdp):
            await pc.set_remote_description({"type": "offer", "sdp": "\x00" * 100})
        with pytest.raises(ifmesh.InvalidArgument):
            await pc.set_remote_description({"type": "pranswer", "sdp": "v=0"})
        with pytest.raises(ifmesh.InvalidArgument):
            await pc.set_remote_description({"type": "offer"})
        with pytest.raises(ifmesh.MalformedCandidate):
            pc.add_ice_candidate("candidate:not a candidate")
        with pytest.raises(ifmesh.InvalidState):
            await pc.create_answer()  # no remote offer
        with pytest.raises(ifmesh.InvalidArgument):
            pc.on("no-such-event", print)
    with pytest.raises(ifmesh.Closed):
        await pc.create_offer()
    with pytest.raises(ifmesh.Closed):
        pc.create_data_channel("late")
    with pytest.raises(ifmesh.Closed):
        await pc.wait_connected(1)
    with pytest.raises(ifmesh.Closed):
        await pc.next_data_channel(1)
    assert [c async for c in pc.ice_candidates()] == []


async def test_configuration_options_are_checked():
    # Servers on loopback only; nothing gathers, since no description is made.
    pc = ifmesh.PeerConnection(local_addresses=LOOPBACK, stun=["stun:127.0.0.1:3478"],
                               turn=[{"url": "turn:127.0.0.1:3478?transport=udp",
                                      "username": "u", "credential": "c"}],
                               max_message_size=1024, max_channels=16, connect_timeout=5,
                               consent_timeout=0, port_range=(40000, 40100))
    await pc.close()
    for bad in ({"max_channels": 0}, {"port_range": (2, 1)}, {"max_message_size": 0},
                {"connect_timeout": -1}, {"local_addresses": [1]}):
        with pytest.raises(ifmesh.InvalidArgument):
            ifmesh.PeerConnection(**bad)


def test_a_connection_needs_a_running_loop():
    with pytest.raises(ifmesh.InvalidState):
        ifmesh.PeerConnection()


async def test_a_connection_without_candidates_fails_with_its_reason():
    a = ifmesh.PeerConnection(local_addresses=LOOPBACK, connect_timeout=1)
    b = ifmesh.PeerConnection(local_addresses=LOOPBACK, connect_timeout=1)
    async with a, b:
        ch = a.create_data_channel("never")
        closed = asyncio.Event()
        ch.on("close", closed.set)
        await negotiate(a, b)  # no candidates cross: no pair can be checked
        with pytest.raises(ifmesh.InvalidState, match="failed"):
            await a.wait_connected(10)
        assert a.connection_state == "failed" and a.stats()["failure_reason"]
        with pytest.raises(ifmesh.ChannelClosed):
            await ch.wait_open(10)
        await asyncio.wait_for(closed.wait(), 5)


async def test_close_events_fire_and_sends_on_a_closed_channel_raise():
    a, b, ca, cb = await open_pair()
    async with a, b:
        closed = {"a": asyncio.Event(), "b": asyncio.Event()}
        ca.on("close", closed["a"].set)
        cb.on("close", closed["b"].set)
        ca.send("last words")
        ca.close()
        assert ca.ready_state in ("closing", "closed")
        with pytest.raises(ifmesh.ChannelClosed):
            ca.send("too late")
        await asyncio.wait_for(closed["b"].wait(), 10)
        await asyncio.wait_for(closed["a"].wait(), 10)
        assert cb.ready_state == "closed" and ca.ready_state == "closed"
        # What was sent before the close arrived; then the iterator ends.
        assert [m async for m in cb.messages()] == ["last words"]
        with pytest.raises(ifmesh.ChannelClosed):
            cb.send("to a closed channel")
        with pytest.raises(ifmesh.ChannelClosed):
            await cb.recv(1)
        with pytest.raises(ifmesh.ChannelClosed):
            await cb.wait_open()
        ca.close()  # idempotent

        # Closing a connection closes its channels, on both sides.
        second = a.create_data_channel("second")
        await second.wait_open(10)
        remote = await b.next_data_channel(timeout=10)
        remote_closed = asyncio.Event()
        remote.on("close", remote_closed.set)
        states: list[str] = []
        a.on("connectionstatechange", states.append)
        local_closed = asyncio.Event()
        second.on("close", local_closed.set)
    # b closed first (async with exits in reverse), so a may have seen it go away before.
    assert local_closed.is_set() and states[-1] == "closed"
    assert second.ready_state == "closed" and remote.ready_state == "closed"
    with pytest.raises(ifmesh.ChannelClosed):
        second.send("after the connection closed")
    await a.close()  # idempotent


async def test_peer_closing_its_connection_closes_our_channel():
    a, b, ca, cb = await open_pair()
    async with b:
        closed = asyncio.Event()
        cb.on("close", closed.set)
        await a.close()
        await asyncio.wait_for(closed.wait(), 10)
        with pytest.raises(ifmesh.ChannelClosed):
            cb.send("nobody there")


async def test_drain_waits_for_the_buffer():
    a, b, ca, cb = await open_pair()
    async with a, b:
        low = asyncio.Event()
        ca.on("bufferedamountlow", low.set)
        ca.buffered_amount_low_threshold = 64 * 1024
        chunk = b"\x55" * (64 * 1024)
        total = 0
        for _ in range(16):  # 8 MiB in 64 KiB messages, paced by drain()
            for _ in range(8):
                ca.send(chunk)
            assert ca.buffered_amount > 0
            await asyncio.wait_for(ca.drain(), 20)
            assert ca.buffered_amount <= 64 * 1024
        assert low.is_set()
        while total < 16 * 8 * len(chunk):
            total += len(await cb.recv(20))
        assert total == 16 * 8 * len(chunk)


async def test_create_connect_close_cycles_keep_rss_flat():
    async def cycle() -> None:
        a, b, ca, cb = await open_pair()
        ca.send(b"x" * 1024)
        assert await cb.recv(10) == b"x" * 1024
        await a.close()
        await b.close()

    # Under ASan freed memory sits in quarantine: fewer cycles, for the lifecycle only.
    cycles = 100 if SANITIZED else 1000
    for _ in range(min(cycles, 30)):
        await cycle()
    before = rss_mib()
    fds = len(os.listdir("/proc/self/fd"))
    started = time.monotonic()
    for _ in range(cycles):
        await cycle()
    elapsed = time.monotonic() - started
    grown = rss_mib() - before
    print(f"{cycles} cycles in {elapsed:.1f} s, RSS {before:.1f} MiB -> {before + grown:.1f} MiB")
    # Every connection's sockets and eventfd go with it (the sockets once its I/O thread ran
    # the teardown it posted). Fewer is fine: what an earlier test left may close meanwhile.
    deadline = time.monotonic() + 5
    while len(os.listdir("/proc/self/fd")) > fds and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert len(os.listdir("/proc/self/fd")) <= fds
    if not SANITIZED:
        assert abs(grown) <= 10, f"RSS grew {grown:.1f} MiB over {cycles} cycles"


async def test_interpreter_exit_closes_open_connections():
    script = textwrap.dedent(f"""
        import asyncio, sys
        sys.path.insert(0, {str(os.path.dirname(__file__))!r})
        import ifmesh
        from test_rtc import open_pair

        pcs = []
        async def main():
            pcs.extend(await open_pair())
            pcs[2].send("left open")
            print("connected", flush=True)
        asyncio.run(main())
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "connected"


async def test_a_connection_to_another_process():
    """The answerer runs in a child process; descriptions and candidates cross its pipes as
    JSON lines, the way an application's own signaling would carry them."""
    peer = textwrap.dedent("""
        import asyncio, json, sys
        import ifmesh

        async def main():
            loop = asyncio.get_running_loop()
            reader = asyncio.StreamReader()
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
            def out(obj):
                sys.stdout.write(json.dumps(obj) + "\\n")
                sys.stdout.flush()
            async with ifmesh.PeerConnection(local_addresses=["127.0.0.1"]) as pc:
                pc.on("icecandidate", lambda c: out({"candidate": c and c.to_dict()}))
                @pc.on("datachannel")
                def echo(ch):
                    ch.on("message", lambda m: ch.send(m.upper() if isinstance(m, str) else m))
                async for line in reader:
                    msg = json.loads(line)
                    if "sdp" in msg:
                        await pc.set_remote_description(msg)
                        out((await pc.create_answer()).to_dict())
                    elif "candidate" in msg:
                        pc.add_ice_candidate(msg["candidate"])
                    else:
                        return
        asyncio.run(main())
    """)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", peer, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    try:
        async with ifmesh.PeerConnection(local_addresses=LOOPBACK) as pc:
            def send(obj) -> None:
                proc.stdin.write((json.dumps(obj) + "\n").encode())

            pc.on("icecandidate", lambda c: send({"candidate": c and c.to_dict()}))
            ch = pc.create_data_channel("echo")
            send((await pc.create_offer()).to_dict())

            async def from_peer() -> None:
                async for line in proc.stdout:
                    msg = json.loads(line)
                    if "sdp" in msg:
                        await pc.set_remote_description(msg)
                    else:
                        pc.add_ice_candidate(msg["candidate"])

            reading = asyncio.ensure_future(from_peer())
            await ch.wait_open(15)
            ch.send("shout")
            ch.send(b"\x00raw")
            assert await ch.recv(10) == "SHOUT"
            assert await ch.recv(10) == b"\x00raw"
            send({"bye": True})
            await asyncio.wait_for(proc.wait(), 15)
            reading.cancel()
        assert proc.returncode == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_datachannel_echo_example():
    r = subprocess.run([sys.executable, str(REPO / "python" / "examples" / "datachannel_echo.py")],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == ["hello b'\\x00\\x01'"], r.stdout + r.stderr
