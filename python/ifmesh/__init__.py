"""ifmesh: agents that exchange IFMessages over WebRTC DataChannels, with exactly-once,
in-order delivery per (source, destination, priority).

    agent = await ifmesh.Agent.start(id="alice", signaling_url="ws://127.0.0.1:8443")
    await agent.send("bob", {"hello": 1})
    async for msg in agent.messages():
        ...
"""

from . import errors
from ._agent import Agent
from ._ifmesh import new_message_id, verify_witness_file
from ._message import BYTES_KEY, Message, Priority, WitnessEvent
from .errors import (
    Closed,
    DuplicateId,
    Error,
    InvalidArgument,
    InvalidState,
    MessageTooLarge,
    QueueFull,
    RegistrationError,
    RegistrationTimeout,
    Unauthorized,
    Undeliverable,
    Unreachable,
)
from .sync import SyncAgent

__all__ = [
    "Agent",
    "BYTES_KEY",
    "Closed",
    "DuplicateId",
    "Error",
    "InvalidArgument",
    "InvalidState",
    "Message",
    "MessageTooLarge",
    "Priority",
    "QueueFull",
    "RegistrationError",
    "RegistrationTimeout",
    "SyncAgent",
    "Unauthorized",
    "Undeliverable",
    "Unreachable",
    "WitnessEvent",
    "errors",
    "new_message_id",
    "verify_witness_file",
]
