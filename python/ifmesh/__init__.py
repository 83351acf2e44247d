"""ifmesh: agents that exchange IFMessages over WebRTC DataChannels, with exactly-once,
in-order delivery per (source, destination, priority).

    agent = await ifmesh.Agent.start(id="alice", signaling_url="ws://127.0.0.1:8443")
    await agent.send("bob", {"hello": 1})
    async for msg in agent.messages():
        ...

``ifmesh.PeerConnection`` gives the bare WebRTC DataChannels, without agents (ifmesh/rtc.py).
"""

from . import errors
from ._agent import Agent
from ._ifmesh import new_message_id, verify_witness_file
from ._message import BYTES_KEY, Message, Priority, WitnessEvent
from .errors import (
    ChannelClosed,
    Closed,
    DuplicateId,
    Error,
    InvalidArgument,
    InvalidState,
    MalformedCandidate,
    MalformedSdp,
    MessageTooLarge,
    QueueFull,
    RegistrationError,
    RegistrationTimeout,
    Unauthorized,
    Undeliverable,
    Unreachable,
)
from .rtc import DataChannel, IceCandidate, PeerConnection, SessionDescription
from .sync import SyncAgent

__all__ = [
    "Agent",
    "BYTES_KEY",
    "ChannelClosed",
    "Closed",
    "DataChannel",
    "DuplicateId",
    "Error",
    "IceCandidate",
    "InvalidArgument",
    "InvalidState",
    "MalformedCandidate",
    "MalformedSdp",
    "Message",
    "MessageTooLarge",
    "PeerConnection",
    "Priority",
    "QueueFull",
    "RegistrationError",
    "RegistrationTimeout",
    "SessionDescription",
    "SyncAgent",
    "Unauthorized",
    "Undeliverable",
    "Unreachable",
    "WitnessEvent",
    "errors",
    "new_message_id",
    "verify_witness_file",
]
