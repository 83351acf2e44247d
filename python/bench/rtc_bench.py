"""ifmesh.PeerConnection benchmark on loopback, two connections in one process: echo round trip
(p50/p99) of a small text message, 1 KiB binary messages per second one way, and the bulk rate
of 256 KiB messages.

    PYTHONPATH=build/python python3 python/bench/rtc_bench.py

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import ifmesh

LOOPBACK = ["127.0.0.1"]


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


async def connected_pair():
    a = ifmesh.PeerConnection(local_addresses=LOOPBACK)
    b = ifmesh.PeerConnection(local_addresses=LOOPBACK)
    a.on("icecandidate", b.add_ice_candidate)
    b.on("icecandidate", a.add_ice_candidate)
    ca = a.create_data_channel("bench")
    await b.set_remote_description(await a.create_offer())
    await a.set_remote_description(await b.create_answer())
    cb = await b.next_data_channel(timeout=10)
    await ca.wait_open(10)
    return a, b, ca, cb


async def rtt(ca: ifmesh.DataChannel, samples: int) -> dict:
    for _ in range(200):  # warm-up
        ca.send("p")
        await ca.recv(10)
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        ca.send("p")
        await ca.recv(10)
        times.append((time.perf_counter() - t) * 1e6)
    return {"rtt_p50_us": round(percentile(times, 50), 1),
            "rtt_p99_us": round(percentile(times, 99), 1)}


async def one_way(ca: ifmesh.DataChannel, cb: ifmesh.DataChannel, count: int, size: int) -> float:
    """Messages per second from the first send to the last delivery, paced by drain()."""
    done = asyncio.get_running_loop().create_future()
    received = 0

    def on_message(m: bytes) -> None:
        nonlocal received
        received += 1
        if received == count:
            done.set_result(None)

    cb.on("message", on_message)
    blob = b"x" * size
    ca.buffered_amount_low_threshold = 1 << 20
    start = time.perf_counter()
    for i in range(count):
        ca.send(blob)
        if ca.buffered_amount > 4 << 20:
            await ca.drain()
    await asyncio.wait_for(done, 120)
    elapsed = time.perf_counter() - start
    cb.off("message", on_message)
    return count / elapsed


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--count", type=int, default=200_000)
    args = ap.parse_args()
    a, b, ca, cb = await connected_pair()
    async with a, b:
        small = await one_way(ca, cb, args.count, 1024)
        bulk = await one_way(ca, cb, 400, 256 * 1024)
        cb.on("message", cb.send)  # echo
        result = await rtt(ca, args.samples)
        result["msgs_per_s_1KiB"] = round(small)
        result["MiB_per_s_256KiB_msgs"] = round(bulk * 256 / 1024, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
