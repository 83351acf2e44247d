"""IFMessage as Python sees it, and how payloads map to the message's JSON payload."""

from __future__ import annotations

import base64
import binascii
import enum
from dataclasses import dataclass
from typing import Any, Union

from . import _ifmesh

#: What ``send`` takes as a payload: JSON-able values, or bytes.
Payload = Union[dict, list, str, int, float, bool, None, bytes, bytearray, memoryview]

#: A bytes payload travels as this one-key JSON object (standard base64, padded), so agents in
#: any language read it as plain JSON.
BYTES_KEY = "$bytes"


class Priority(enum.IntEnum):
    """Delivery lanes: Control and High overtake queued Normal and Low messages. Delivery is
    exactly once and in order per (source, destination, priority)."""

    CONTROL = 0
    HIGH = 1
    NORMAL = 2
    LOW = 3


def priority_value(priority: "Priority | int | str") -> int:
    if type(priority) is Priority:
        return priority.value
    if isinstance(priority, str):
        try:
            return int(Priority[priority.upper()])
        except KeyError:
            raise ValueError(
                f"priority {priority!r}: expected control, high, normal or low"
            ) from None
    value = int(priority)
    if not 0 <= value <= 3:
        raise ValueError(f"priority {priority!r}: expected 0 (control) to 3 (low)")
    return value


_PRIORITIES = tuple(Priority)


def json_value(payload: Payload) -> Any:
    """The payload as a JSON value: bytes become ``{"$bytes": base64}``, the rest is itself."""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return {BYTES_KEY: base64.b64encode(bytes(payload)).decode("ascii")}
    return payload


def encode_payload(payload: Payload) -> str:
    """The payload as compact JSON text, written by the native module as the agent sends it
    (``_ifmesh.encode_json``); bytes become ``{"$bytes": base64}``. TypeError or ValueError for
    a payload JSON cannot hold."""
    return _ifmesh.encode_json(json_value(payload))


def priority_of(value: int) -> Priority:
    """The Priority of a lane number the native agent reported (0 to 3)."""
    return _PRIORITIES[value]


def decode_payload(text: str) -> Any:
    """The payload of JSON text (``_ifmesh.decode_json``, as the agent reads a delivered one),
    ``{"$bytes": base64}`` as bytes; raises ValueError for text that is not one JSON value."""
    return payload_value(_ifmesh.decode_json(text))


def payload_value(value: Any) -> Any:
    """A delivered payload as the application sees it: ``{"$bytes": base64}`` as bytes."""
    if type(value) is dict and len(value) == 1 and BYTES_KEY in value:
        encoded = value[BYTES_KEY]
        if isinstance(encoded, str):
            try:
                return base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                pass  # not ours: hand the JSON over as it is
    return value


@dataclass(frozen=True)
class Message:
    """A delivered IFMessage (schema version 2.1)."""

    id: str
    source: str
    destination: str
    timestamp: str
    sequence: int
    priority: Priority
    trace_id: str
    level: int
    payload: Any  # dict / list / scalar, or bytes (see BYTES_KEY)
    # The source process's incarnation: with ``sequence`` and ``priority``, the key an
    # application records to process each message once (docs/durability.md).
    incarnation: int = 0


@dataclass(frozen=True)
class WitnessEvent:
    """One audit event (docs: the witness trail), as the C++ agent records it."""

    event: str
    agent_id: str
    peer_id: str
    trace_id: str
    timestamp: str
    metadata: dict
