"""Python agent benchmark on loopback: echo round trip (p50/p99) and 1 KiB messages per second,
agent to agent in one process and across two processes, beside the C++ figures of the same run
(`ifmesh bench --scenario p2p --scenario mesh5`).

    PYTHONPATH=build/python python3 python/bench/bench.py --cli build/ifmesh

Starts its own `ifmesh signal` on a free loopback port and stops everything it starts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

import ifmesh

LOOPBACK = ["127.0.0.1"]

_WORDS = ("the a of to and in for on with is was from by at this that after before while agent "
          "request response report summary analysis result query document contract invoice "
          "payment customer account order shipment inventory forecast budget quarter revenue "
          "risk compliance review approval deadline meeting schedule team project milestone "
          "release deploy service latency error timeout retry cache database index search model "
          "prompt context token embedding vector score threshold anomaly alert incident ticket "
          "status pending completed failed running queued escalated resolved high low medium "
          "critical urgent region europe asia legal finance sales support research security "
          "policy clause section table chart note draft final version update change increase "
          "decrease stable trend weekly monthly estimate actual variance supplier vendor client "
          "user session access verified signed processed extracted classified flagged").split()
_KINDS = ("observation", "metric", "finding", "task_update", "tool_call", "citation", "handoff")


def agent_payloads(count: int = 64, size: int = 1024, seed: int = 7) -> list[dict]:
    """`count` JSON agent messages of about `size` bytes with the entropy of real ones (mixed
    words, ids, numbers; zstd shrinks a batch of them about 3-5x), not a repeated string that
    the LOW mode's compression would make nearly free."""
    rng = random.Random(seed)

    def words(n: int) -> str:
        # Common words far more often than rare ones, as in text.
        return " ".join(_WORDS[min(rng.randrange(len(_WORDS)), rng.randrange(len(_WORDS)))]
                        for _ in range(n))

    out = []
    for i in range(count):
        payload = {"task": f"task-{rng.getrandbits(40):010x}", "from": f"agent-{words(1)}",
                   "records": []}
        while True:
            record = {"id": f"{rng.getrandbits(32):08x}-{rng.getrandbits(48):012x}",
                      "kind": rng.choice(_KINDS), "ts": 1764979200000 + i * 250 + rng.randrange(250),
                      "text": words(6 + rng.randrange(20)),
                      "value": {"amount": round(rng.random() * 10000, 3), "unit": words(1)},
                      "ok": rng.randrange(5) != 0}
            payload["records"].append(record)
            if len(json.dumps(payload, separators=(",", ":"))) >= size:
                payload["records"].pop()
                payload["pad"] = words(1)
                while len(json.dumps(payload, separators=(",", ":"))) < size:
                    payload["pad"] += " " + words(1)
                break
        out.append(payload)
    return out


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


async def rtt(a: ifmesh.Agent, peer: str, samples: int) -> dict:
    for _ in range(200):  # warm-up
        await a.send(peer, {"p": 0}, ack=False)
        await a.recv(10)
    times = []
    for i in range(samples):
        t = time.perf_counter()
        await a.send(peer, {"p": i}, ack=False)
        await a.recv(10)
        times.append((time.perf_counter() - t) * 1e6)
    return {"rtt_p50_us": round(percentile(times, 50), 1),
            "rtt_p99_us": round(percentile(times, 99), 1),
            "rtt_mean_us": round(statistics.fmean(times), 1)}


async def throughput(a: ifmesh.Agent, peer: str, count: int, window: int = 2000) -> dict:
    """1 KiB agent messages (agent_payloads), at most `window` unacknowledged; the clock stops
    at the last ack."""
    payloads = agent_payloads()
    outstanding = 0
    done = asyncio.Event()
    finished = 0

    def settled(f: asyncio.Future) -> None:
        nonlocal outstanding, finished
        outstanding -= 1
        finished += 1
        f.exception()
        if finished == count:
            done.set()

    t = time.perf_counter()
    for i in range(count):
        while outstanding >= window:
            await asyncio.sleep(0)
            if outstanding >= window:
                await asyncio.sleep(0.0005)
        outstanding += 1
        a.send_nowait(peer, payloads[i % len(payloads)]).add_done_callback(settled)
    await done.wait()
    dt = time.perf_counter() - t
    return {"msgs_per_s": round(count / dt), "mbit_per_s": round(count * 1024 * 8 / dt / 1e6, 1)}


def spawn_agent(name: str, url: str, echo: bool, signatures: str) -> subprocess.Popen:
    code = (
        "import asyncio, ifmesh, sys\n"
        "async def main():\n"
        f"    a = await ifmesh.Agent.start(id={name!r}, signaling_url={url!r},"
        f" local_addresses=['127.0.0.1'], message_signatures={signatures!r})\n"
        f"    if {echo}:\n"
        "        a.on_message(lambda m: a.send_nowait(m.source, m.payload, ack=False))\n"
        "    else:\n"
        "        a.on_message(lambda m: None)\n"
        "    print('registered', flush=True)\n"
        "    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)\n"
        "    await a.close()\n"
        "asyncio.run(main())\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if "registered" not in line:
        raise RuntimeError(f"agent {name} did not start: {line!r}")
    return p


def without_samples(value):
    """The C++ report without its raw sample lists."""
    if isinstance(value, dict):
        return {k: without_samples(v) for k, v in value.items() if not k.endswith("samples_us")}
    if isinstance(value, list):
        return [without_samples(v) for v in value]
    return value


async def run(args: argparse.Namespace) -> dict:
    server = subprocess.Popen([args.cli, "signal", "--port", "0"], stdout=subprocess.PIPE,
                              text=True)
    results: dict = {"signatures": args.signatures}
    try:
        url = re.search(r"(ws://\S+)", server.stdout.readline()).group(1)
        opts = dict(signaling_url=url, local_addresses=LOOPBACK,
                    message_signatures=args.signatures,
                    bandwidth={"queue_max_messages": 100000, "queue_max_bytes": 1 << 30})
        a = await ifmesh.Agent.start(id="bench-a", **opts)
        b = await ifmesh.Agent.start(id="bench-b", **opts)
        echo = True
        b.on_message(lambda m: echo and b.send_nowait(m.source, m.payload, ack=False))
        results["one_process"] = await rtt(a, "bench-b", args.samples)
        echo = False
        results["one_process"].update(await throughput(a, "bench-b", args.count))
        await b.close()

        for name, is_echo in (("bench-echo", True), ("bench-sink", False)):
            proc = spawn_agent(name, url, is_echo, args.signatures)
            try:
                await a.send(name, {"hello": 1}, ack=False)
                if is_echo:
                    await a.recv(10)
                    results["two_processes"] = await rtt(a, name, args.samples)
                else:
                    results["two_processes"].update(await throughput(a, name, args.count))
            finally:
                proc.stdin.close()
                proc.wait(20)
        await a.close()
    finally:
        server.terminate()
        server.wait()

    if args.cpp:
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "cpp.json")
            subprocess.run([args.cli, "bench", "--scenario", "p2p", "--scenario", "mesh5",
                            "--samples", str(args.samples), "--json", out],
                           check=True, stdout=subprocess.DEVNULL)
            with open(out) as f:
                results["cpp"] = without_samples(json.load(f))
    return results


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--cli", default="build/ifmesh", help="the C++ ifmesh command")
    p.add_argument("--samples", type=int, default=2000, help="echo round trips")
    p.add_argument("--count", type=int, default=100000, help="1 KiB messages for msgs/s")
    p.add_argument("--signatures", default="relayed", choices=["relayed", "always"],
                   help="message_signatures of the agents (the C++ bench signs relayed only)")
    p.add_argument("--no-cpp", dest="cpp", action="store_false",
                   help="skip the C++ figures")
    args = p.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=1))


if __name__ == "__main__":
    main()
