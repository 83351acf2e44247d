"""The asyncio agent over the native C++ agent (ifmesh._ifmesh)."""

from __future__ import annotations

import asyncio
import atexit
import itertools
import json
import logging
import weakref
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Optional, Union

from . import _ifmesh, errors
from ._handlers import HandlerRunner
from ._queue_get import queue_get
from ._message import (
    Message,
    Payload,
    Priority,
    WitnessEvent,
    json_value,
    payload_value,
    priority_of,
    priority_value,
)

log = logging.getLogger("ifmesh")

MessageHandler = Callable[[Message], Union[None, Awaitable[None]]]
WitnessHandler = Callable[[WitnessEvent], Union[None, Awaitable[None]]]
PeerStateHandler = Callable[[str, str], Union[None, Awaitable[None]]]

_CLOSED = object()
# Every open native agent, closed at interpreter exit so no agent thread outlives Python.
_live: "weakref.WeakSet[_ifmesh.NativeAgent]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for native in list(_live):
        native.close()


class Agent:
    """An ifmesh agent on the running asyncio loop.

    Create one with ``await Agent.start(...)``; use it as ``async with``. Every method runs on
    the loop's thread; the C++ agent's own threads never take the GIL (events reach the loop
    through an eventfd it watches).
    """

    def __init__(self, native: _ifmesh.NativeAgent, loop: asyncio.AbstractEventLoop) -> None:
        self._native = native
        self._loop = loop
        self._fd = native.fileno()
        self._tokens = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._inbox_wanted = False
        self._message_handlers: list[MessageHandler] = []
        self._witness_handlers: list[WitnessHandler] = []
        self._witness_queues: list[asyncio.Queue] = []
        self._peer_handlers: list[PeerStateHandler] = []
        self._runner = HandlerRunner(log, lambda: f"agent {self.id}")
        self._call = self._runner.call
        self._closed = False
        _live.add(native)
        loop.add_reader(self._fd, self._drain)

    @classmethod
    async def start(
        cls,
        id: str,
        signaling_url: str,
        *,
        key_file: Optional[str] = None,
        topology: str = "manual",
        bandwidth: Optional[dict] = None,
        auth_token: Optional[str] = None,
        ca_file: Optional[str] = None,
        local_addresses: Optional[Iterable[str]] = None,
        stun: Optional[Iterable[str]] = None,
        max_message_bytes: Optional[int] = None,
        message_signatures: Optional[str] = None,
        witness_file: Optional[str] = None,
        healing: Optional[dict] = None,
        journal_file: Optional[str] = None,
        state_dir: Optional[str] = None,
        state_sync: bool = True,
        register_timeout: float = 10.0,
    ) -> "Agent":
        """Creates the agent, registers it with the signaling server and returns it.

        ``topology``: ``manual`` (links form when messages are sent), ``all``, ``k=N`` or
        ``hub=ID``. ``bandwidth``: ``queue_max_messages``, ``queue_max_bytes``,
        ``queue_policy`` (``fail``, ``block``, ``drop_oldest``), ``block_timeout_ms``,
        ``enabled``, ``check_interval_ms``, ``compression``. ``key_file``: the Ed25519 identity
        (PEM), created when missing; None gives a fresh key. ``local_addresses`` restricts ICE
        (tests pass ``["127.0.0.1"]``). ``journal_file``: every delivered message is appended
        to it (a JSON line, flushed) before the agent acknowledges it; handlers and
        ``messages()`` see a message after its acknowledgement may have left, so a process
        that must not lose what it acknowledged when killed reads the journal. ``state_dir``:
        keep the delivery state there (docs/durability.md): a process restarted with the same
        directory loses and repeats nothing, and its journal holds every message once (one
        journaled before the restart is neither journaled nor handed to Python again);
        ``state_sync=False`` skips the fsync per commit (survives a killed process, not a
        power loss). Raises :class:`errors.RegistrationError` (its subclasses
        Unauthorized, DuplicateId, Unreachable, RegistrationTimeout) when the server does not
        register the agent, :class:`errors.InvalidArgument` for a bad option.
        """
        loop = asyncio.get_running_loop()
        options: dict[str, Any] = {
            "id": id,
            "signaling_url": signaling_url,
            "key_file": key_file,
            "topology": topology,
            "bandwidth": bandwidth,
            "auth_token": auth_token,
            "ca_file": ca_file,
            "local_addresses": list(local_addresses) if local_addresses is not None else None,
            "stun": list(stun) if stun is not None else None,
            "max_message_bytes": max_message_bytes,
            "message_signatures": message_signatures,
            "witness_file": witness_file,
            "healing": healing,
            "journal_file": journal_file,
            "state_dir": state_dir,
            "state_sync": state_sync,
        }
        try:
            native = _ifmesh.NativeAgent(options)
        except _ifmesh.NativeError as e:
            raise errors.from_native(e) from None
        agent = cls(native, loop)
        try:
            registered, code, message = await loop.run_in_executor(
                None, native.start, register_timeout
            )
        except BaseException:
            await agent.close()
            raise
        if not registered:
            await agent.close()
            raise errors.registration_error(code, message)
        return agent

    # --- context management -------------------------------------------------------------

    async def __aenter__(self) -> "Agent":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def id(self) -> str:
        return self._native.id

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Says bye to the peers, stops the agent's threads, fails sends still waiting with
        :class:`errors.Closed` and ends every ``messages()`` iterator. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._fd)
        await self._loop.run_in_executor(None, self._native.close)
        self._drain()  # what arrived before the agent stopped
        _live.discard(self._native)
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(errors.Closed("the agent closed before the send completed"))
        self._pending.clear()
        self._inbox.put_nowait(_CLOSED)
        for q in self._witness_queues:
            q.put_nowait(_CLOSED)

    def _check_open(self) -> None:
        if self._closed:
            raise errors.Closed("the agent is closed")

    # --- sending ------------------------------------------------------------------------

    def send_nowait(
        self,
        to: str,
        payload: Payload,
        *,
        priority: Union[Priority, int, str] = Priority.NORMAL,
        trace_id: str = "",
        droppable: bool = False,
        ack: bool = True,
    ) -> "asyncio.Future[int]":
        """Queues a message and returns a future of its sequence number, resolved as for
        :meth:`send`. For many sends in a row without a coroutine each."""
        self._check_open()
        lane = priority_value(priority)
        token = next(self._tokens)
        try:
            # The native module writes the payload's JSON text straight from the objects.
            self._native.send(token, to, json_value(payload), lane, trace_id, droppable, ack)
        except (TypeError, ValueError) as e:
            raise errors.InvalidArgument(f"payload is not JSON-serializable: {e}") from None
        # Registered after the send: its outcome arrives as an event, which this thread reads
        # only once this call has returned.
        fut = self._loop.create_future()
        self._pending[token] = fut
        return fut

    async def send(
        self,
        to: str,
        payload: Payload,
        *,
        priority: Union[Priority, int, str] = Priority.NORMAL,
        trace_id: str = "",
        droppable: bool = False,
        ack: bool = True,
    ) -> int:
        """Sends one message to agent ``to`` and returns its sequence number (per destination
        and priority).

        With ``ack=True`` (the default) it returns once the next hop acknowledged the message:
        over a direct link ``to`` itself, which delivered it to its application (with a state
        store: durably). With ``ack=False`` once the agent accepted it (with ``state_dir``:
        once it is durable); exactly-once delivery still follows. A message sent with
        ``ack=True`` asks its receiver for a prompt acknowledgement (about a round trip; with
        a state store, after the receiver's commit); others are acknowledged on the
        receiver's next message back, after 64 messages, or within 5 s. Raises
        :class:`errors.QueueFull`, :class:`errors.MessageTooLarge`,
        :class:`errors.InvalidArgument` (payload nested too deep, sending to itself),
        :class:`errors.Undeliverable`, :class:`errors.Closed`.
        Cancelling the call does not recall a message already handed to the agent.
        """
        return await self.send_nowait(
            to, payload, priority=priority, trace_id=trace_id, droppable=droppable, ack=ack
        )

    # --- receiving ----------------------------------------------------------------------

    def on_message(self, handler: MessageHandler) -> MessageHandler:
        """Calls ``handler(message)`` on the loop for every delivered message (a coroutine
        function runs as a task). An exception in it is logged and the agent goes on. While a
        handler is registered, messages reach ``messages()`` only once it has been called."""
        self._message_handlers.append(handler)
        return handler

    def on_witness(self, handler: WitnessHandler) -> WitnessHandler:
        """Calls ``handler(event)`` for every audit event (peer_connected, ifmessage_sent,
        ifmessage_received, ...)."""
        self._witness_handlers.append(handler)
        self._native.set_witness_events(True)
        return handler

    def remove_witness_handler(self, handler: WitnessHandler) -> None:
        """Stops calling a handler given to :meth:`on_witness` (no error if it is not there)."""
        if handler in self._witness_handlers:
            self._witness_handlers.remove(handler)

    def on_peer_state(self, handler: PeerStateHandler) -> PeerStateHandler:
        """Calls ``handler(peer, state)`` when a link changes state (connecting, connected,
        reconnecting, unreachable, disconnected)."""
        self._peer_handlers.append(handler)
        return handler

    async def witness_events(self) -> AsyncIterator[WitnessEvent]:
        """Every audit event from the first iteration on, until the agent closes. Each
        iterator has its own unbounded queue: read it, or leave the loop."""
        q: asyncio.Queue = asyncio.Queue()
        if self._closed:
            return
        self._witness_queues.append(q)
        self._native.set_witness_events(True)
        try:
            while True:
                item = await q.get()
                if item is _CLOSED:
                    return
                yield item
        finally:
            self._witness_queues.remove(q)

    async def messages(self) -> AsyncIterator[Message]:
        """Every delivered message, in arrival order, until the agent closes."""
        self._inbox_wanted = True
        while True:
            item = await self._inbox.get()
            if item is _CLOSED:
                self._inbox.put_nowait(_CLOSED)  # for any other iterator
                return
            yield item

    async def recv(self, timeout: Optional[float] = None) -> Message:
        """The next delivered message; raises asyncio.TimeoutError after ``timeout`` seconds and
        :class:`errors.Closed` once the agent closed."""
        self._inbox_wanted = True
        item = await queue_get(self._inbox, timeout)
        if item is _CLOSED:
            self._inbox.put_nowait(_CLOSED)
            raise errors.Closed("the agent is closed")
        return item

    # --- state --------------------------------------------------------------------------

    def peers(self) -> list[str]:
        """Peers with a connected link now."""
        self._check_open()
        return self._native.peers()

    def peer_state(self, peer: str) -> Optional[str]:
        """The link's state, or None when there is no link to ``peer``."""
        self._check_open()
        return self._native.peer_state(peer)

    def unacknowledged(self, peer: str) -> int:
        """Messages on the link to ``peer`` not yet acknowledged."""
        self._check_open()
        return self._native.unacknowledged(peer)

    def last_sequence(self, peer: str, priority: Union[Priority, int, str] = Priority.NORMAL) -> int:
        """The sequence number of the last message accepted for ``peer`` in a priority lane (0:
        none yet). With ``state_dir`` it survives restarts: a producer resumes after it."""
        self._check_open()
        return self._native.last_sequence(peer, priority_value(priority))

    def quality_mode(self, peer: Optional[str] = None) -> str:
        """The bandwidth adapter's mode: HIGH, MEDIUM or LOW. The C++ agent adapts once for all
        its links, so every ``peer`` has the agent's mode."""
        self._check_open()
        return self._native.quality_mode()

    def stats(self) -> dict:
        """The bandwidth adapter's counters (queued, dropped, rejected messages, batches, ...)."""
        self._check_open()
        return self._native.stats()

    def is_registered(self) -> bool:
        self._check_open()
        return self._native.is_registered()

    def connect(self, peer: str) -> None:
        """Opens a link to ``peer`` now (links also open on the first send)."""
        self._check_open()
        self._native.connect(peer)

    def disconnect(self, peer: str) -> None:
        """Closes the link to ``peer`` on purpose (no healing)."""
        self._check_open()
        self._native.disconnect(peer)

    # --- event dispatch -----------------------------------------------------------------

    def _drain(self) -> None:
        for event in self._native.take_events():
            kind = event[0]
            if kind == "message":
                self._deliver(event)
            elif kind in ("acked", "accepted"):
                fut = self._pending.pop(event[1], None)
                if fut is not None and not fut.done():
                    fut.set_result(event[2])
            elif kind == "failed" and event[1] == 0:
                log.warning("agent %s: message not delivered to %s", self.id, event[3])
            elif kind == "failed":
                fut = self._pending.pop(event[1], None)
                if fut is not None and not fut.done():
                    fut.set_exception(errors.from_code(event[2], event[3]))
            elif kind == "peer":
                for h in list(self._peer_handlers):
                    self._call(h, event[1], event[2])
            elif kind == "witness":
                w = WitnessEvent(event[1], event[2], event[3], event[4], event[5],
                                 json.loads(event[6]))
                for h in list(self._witness_handlers):
                    self._call(h, w)
                for q in self._witness_queues:
                    q.put_nowait(w)
            elif kind == "undecodable":
                log.error("agent %s: message %s from %s dropped: %s", self.id, event[2],
                          event[1], event[3])
            elif kind == "signaling_error":
                log.warning("agent %s: signaling error %s: %s", self.id, event[1], event[2])
            elif kind == "quality":
                log.info("agent %s: quality %s -> %s", self.id, event[1], event[2])

    def _deliver(self, e: tuple) -> None:
        msg = Message(e[1], e[2], e[3], e[4], e[5], priority_of(e[6]), e[7], e[8],
                      payload_value(e[9]), e[10])
        for h in list(self._message_handlers):
            self._call(h, msg)
        if self._inbox_wanted or not self._message_handlers:
            self._inbox.put_nowait(msg)

