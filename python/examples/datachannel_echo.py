"""Two PeerConnections in one process open a DataChannel over 127.0.0.1 and echo two
messages. A real application carries the offer, the answer and the candidates over its own
signaling; here they are handed over directly."""

import asyncio, ifmesh

async def main():
    async with ifmesh.PeerConnection(local_addresses=["127.0.0.1"]) as a, \
               ifmesh.PeerConnection(local_addresses=["127.0.0.1"]) as b:
        a.on("icecandidate", b.add_ice_candidate)  # trickle ICE (normally: over signaling)
        b.on("icecandidate", a.add_ice_candidate)
        b.on("datachannel", lambda ch: ch.on("message", ch.send))  # b echoes
        ch = a.create_data_channel("chat")
        await b.set_remote_description(await a.create_offer())
        await a.set_remote_description(await b.create_answer())
        await ch.wait_open(timeout=10)
        ch.send("hello")      # str: a text message
        ch.send(b"\x00\x01")  # bytes: a binary one
        print(await ch.recv(), await ch.recv())

asyncio.run(main())
