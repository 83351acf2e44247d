"""Two LLM-style agents exchange tool calls as IFMessages: a "planner" asks a "toolbox" agent
to run tools (plain functions here, no model needed) and gets each result back, matched by the
call's trace id. Needs an `ifmesh signal` server:

    ifmesh signal --port 8443 &
    PYTHONPATH=build/python python3 python/examples/tool_calls.py ws://127.0.0.1:8443
"""

import asyncio
import sys

import ifmesh

TOOLS = {
    "add": lambda a, b: a + b,
    "upper": lambda text: text.upper(),
}


async def main(url: str) -> None:
    opts = dict(signaling_url=url, local_addresses=["127.0.0.1"])
    async with await ifmesh.Agent.start(id="toolbox", **opts) as toolbox, \
            await ifmesh.Agent.start(id="planner", **opts) as planner:

        @toolbox.on_message
        async def run_tool(call: ifmesh.Message) -> None:
            try:
                reply = {"result": TOOLS[call.payload["tool"]](**call.payload["args"])}
            except Exception as e:  # the caller hears of a bad call; the toolbox goes on
                reply = {"error": f"{type(e).__name__}: {e}"}
            # The reply carries the acknowledgement of the call; the toolbox does not wait for
            # the planner's acknowledgement of the reply.
            await toolbox.send(call.source, reply, trace_id=call.trace_id, ack=False)

        calls = [("c1", "add", {"a": 2, "b": 3}), ("c2", "upper", {"text": "mesh"}),
                 ("c3", "divide", {"a": 1, "b": 0})]
        for call_id, tool, args in calls:
            await planner.send("toolbox", {"tool": tool, "args": args}, trace_id=call_id)
        for _ in calls:
            answer = await planner.recv(timeout=10)
            print(answer.trace_id, answer.payload, flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8443"))
