"""``python -m ifmesh agent|send``: the Python agent from the command line, with the flags of
the C++ ``ifmesh agent`` and ``ifmesh send`` it shares."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import signal
import sys
import time
from typing import Optional

from . import errors
from ._agent import Agent
from ._message import BYTES_KEY


def _json_safe(payload: object) -> object:
    """A decoded bytes payload back in its JSON form."""
    if isinstance(payload, bytes):
        return {BYTES_KEY: base64.b64encode(payload).decode("ascii")}
    return payload


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--id", required=True, help="this agent's id")
    p.add_argument("--signal", default="ws://127.0.0.1:8443", help="signaling server URL")
    p.add_argument("--token", help="auth token when the server requires one")
    p.add_argument("--key-file", help="Ed25519 identity key (PEM), created when missing")
    p.add_argument("--local-address", action="append", default=None,
                   help="gather ICE candidates only on this address (repeatable)")
    p.add_argument("--state-dir", help="keep the delivery state in this directory: a killed "
                   "process restarted with it loses and repeats nothing")
    p.add_argument("--no-state-sync", action="store_true",
                   help="with --state-dir: no fsync per commit (survives a killed process, "
                   "not a power loss)")


def _options(a: argparse.Namespace) -> dict:
    return {
        "id": a.id,
        "signaling_url": a.signal,
        "auth_token": a.token,
        "key_file": a.key_file,
        "local_addresses": a.local_address,
        "state_dir": a.state_dir,
        "state_sync": not a.no_state_sync,
    }


async def _run_agent(a: argparse.Namespace) -> int:
    agent = await Agent.start(**_options(a), topology=a.connect or "manual",
                              journal_file=a.journal)
    print(f"agent {a.id} registered with {a.signal}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with agent:
        @agent.on_message
        def _on(msg) -> None:
            if not a.quiet:
                print(json.dumps({"source": msg.source, "seq": msg.sequence, "id": msg.id,
                                  "priority": msg.priority.name.lower()}), flush=True)
            if a.echo:
                payload = {"echo": _json_safe(msg.payload), "in_reply_to": msg.id}
                fut = agent.send_nowait(msg.source, payload, priority=msg.priority,
                                        trace_id=msg.trace_id, ack=False)
                fut.add_done_callback(lambda f: f.exception())  # reported by the agent's log

        await stop.wait()
    return 0


async def _send_count(agent: Agent, a: argparse.Namespace, base: dict) -> int:
    """Messages n = 1..count (``{"n": n}`` over the payload), at most 256 unacknowledged, then
    waits until the link to --to holds nothing unacknowledged. With --state-dir a killed run
    resumes: the agent sends what the earlier run accepted, this run goes on after it."""
    start = time.monotonic()
    first = agent.last_sequence(a.to) + 1
    window = asyncio.Semaphore(256)
    futures = []
    for n in range(first, a.count + 1):
        await window.acquire()
        fut = agent.send_nowait(a.to, {**base, "n": n})
        fut.add_done_callback(lambda _: window.release())
        futures.append(fut)
    deadline = start + a.timeout_ms / 1000
    try:
        await asyncio.wait_for(asyncio.gather(*futures), max(0.001, deadline - time.monotonic()))
        while agent.unacknowledged(a.to) > 0:
            if time.monotonic() > deadline:
                raise asyncio.TimeoutError
            await asyncio.sleep(0.005)
    except asyncio.TimeoutError:
        print(f"no acknowledgement from {a.to} within {a.timeout_ms} ms", file=sys.stderr)
        return 1
    print(f"delivered {a.count} to {a.to} ({first - 1} accepted by an earlier run) in "
          f"{(time.monotonic() - start) * 1000:.0f} ms", flush=True)
    return 0


async def _run_send(a: argparse.Namespace) -> int:
    try:
        payload = json.loads(a.payload)
    except ValueError:
        print(f"--payload {a.payload!r}: not valid JSON", file=sys.stderr)
        return 2
    if a.count is not None and not isinstance(payload, dict):
        print(f"--payload {a.payload!r}: must be a JSON object with --count", file=sys.stderr)
        return 2
    async with await Agent.start(**_options(a)) as agent:
        if a.count is not None:
            return await _send_count(agent, a, payload)
        start = time.monotonic()
        try:
            seq = await asyncio.wait_for(agent.send(a.to, payload), a.timeout_ms / 1000)
            print(f"delivered to {a.to} seq={seq} in "
                  f"{(time.monotonic() - start) * 1000:.0f} ms", flush=True)
            if a.expect_reply:
                reply = await agent.recv(max(0.001, a.timeout_ms / 1000 -
                                             (time.monotonic() - start)))
                print(json.dumps({"source": reply.source, "payload": _json_safe(reply.payload)}),
                      flush=True)
        except asyncio.TimeoutError:
            print(f"no {'reply' if a.expect_reply else 'acknowledgement'} from {a.to} within "
                  f"{a.timeout_ms} ms", file=sys.stderr)
            return 1
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ifmesh")
    sub = parser.add_subparsers(dest="command", required=True)
    agent = sub.add_parser("agent", help="run one agent until SIGINT/SIGTERM")
    _common(agent)
    agent.add_argument("--connect", help="topology: all | k=N | hub=ID")
    agent.add_argument("--echo", action="store_true", help="answer every message with an echo")
    agent.add_argument("--journal", help="append every delivered message here before it is "
                       "acknowledged (JSON lines); with --state-dir, each message once across "
                       "restarts")
    agent.add_argument("--quiet", action="store_true", help="print no line per message")
    send = sub.add_parser("send", help="send one message and wait for its acknowledgement")
    _common(send)
    send.add_argument("--to", required=True, help="destination agent")
    send.add_argument("--payload", default="{}", help="JSON payload")
    send.add_argument("--timeout-ms", type=int, default=10000)
    send.add_argument("--expect-reply", action="store_true",
                      help="wait for a message back and print it")
    send.add_argument("--count", type=int, help="send messages numbered n = 1..COUNT and wait "
                      "for every acknowledgement; with --state-dir a killed run resumes where it "
                      "stopped")
    a = parser.parse_args(argv)
    try:
        return asyncio.run(_run_agent(a) if a.command == "agent" else _run_send(a))
    except errors.Error as e:
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
