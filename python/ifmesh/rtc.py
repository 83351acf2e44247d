"""WebRTC DataChannels without the agent: the C++ ``ifmesh::PeerConnection`` on the asyncio
loop, shaped after the browser's RTCPeerConnection and RTCDataChannel.

    pc = ifmesh.PeerConnection(local_addresses=["127.0.0.1"])
    ch = pc.create_data_channel("chat")
    offer = await pc.create_offer()          # send it, and pc's candidates, to the peer
    await pc.set_remote_description(answer)  # what the peer answered
    await ch.wait_open()
    ch.send("hi")                            # str: a text message, bytes: a binary one
    print(await ch.recv())

Carrying descriptions and candidates to the peer (signaling) is the application's job.
The connection's I/O thread never takes the GIL: it queues events and signals an eventfd that
the loop watches, so every handler runs on the loop and may call ``send`` directly.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import weakref
from dataclasses import dataclass
from typing import Any, AsyncIterator, Callable, Iterable, Optional, Union

from . import _ifmesh, errors
from ._handlers import HandlerRunner
from ._queue_get import queue_get

log = logging.getLogger("ifmesh.rtc")

_CLOSED = object()
# Every open connection, closed at interpreter exit so no C++ connection outlives Python.
_live: "weakref.WeakSet[PeerConnection]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for pc in list(_live):
        pc._shut_down(quiet=True)


@dataclass(frozen=True)
class SessionDescription:
    """An offer or an answer: ``type`` is ``"offer"`` or ``"answer"``, ``sdp`` the SDP text.
    ``to_dict()`` gives the browser's JSON form, ``{"type": ..., "sdp": ...}``."""

    type: str
    sdp: str

    def to_dict(self) -> dict:
        return {"type": self.type, "sdp": self.sdp}


@dataclass(frozen=True)
class IceCandidate:
    """A trickled ICE candidate as browsers exchange it: ``candidate`` is the ``candidate:...``
    line (no ``a=``), ``sdp_mid`` the media id. ``to_dict()`` gives the browser's JSON form,
    ``{"candidate": ..., "sdpMid": ...}``."""

    candidate: str
    sdp_mid: str = "0"

    def to_dict(self) -> dict:
        return {"candidate": self.candidate, "sdpMid": self.sdp_mid}


DescriptionLike = Union[SessionDescription, dict, Any]
CandidateLike = Union[IceCandidate, dict, str, None]
Data = Union[str, bytes, bytearray, memoryview]


def _native_error(e: BaseException) -> errors.Error:
    return errors.from_native(e)


class _Emitter:
    """Named events with handlers: ``on(name, fn)`` or ``@on(name)``. A handler's exception is
    logged; a coroutine function's call runs as a task."""

    _EVENTS: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[..., Any]]] = {e: [] for e in self._EVENTS}
        self._runner = HandlerRunner(log, lambda: type(self).__name__)

    def on(self, event: str, handler: Optional[Callable[..., Any]] = None) -> Any:
        """Calls ``handler`` on every ``event``; without ``handler``, a decorator."""
        if event not in self._handlers:
            raise errors.InvalidArgument(
                f"unknown event {event!r}: expected one of {', '.join(self._EVENTS)}")
        if handler is None:
            return lambda fn: self.on(event, fn)
        self._handlers[event].append(handler)
        self._handler_added(event)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Removes a handler ``on`` added."""
        try:
            self._handlers[event].remove(handler)
        except (KeyError, ValueError):
            pass

    def _handler_added(self, event: str) -> None:
        pass

    def _emit(self, event: str, *args: Any) -> None:
        for handler in list(self._handlers[event]):
            self._runner.call(handler, *args, what=f"{event} handler")


def _settle(waiters: list, exc: Optional[BaseException] = None) -> None:
    for fut in waiters:
        if not fut.done():
            if exc is None:
                fut.set_result(None)
            else:
                fut.set_exception(exc)
    waiters.clear()


class DataChannel(_Emitter):
    """A WebRTC DataChannel, from :meth:`PeerConnection.create_data_channel` or a connection's
    ``datachannel`` event. Events (``on``): ``open()``, ``message(data)``, ``close()``,
    ``error(text)``, ``bufferedamountlow()``. Messages are ``str`` (text) or ``bytes``
    (binary)."""

    _EVENTS = ("open", "message", "close", "error", "bufferedamountlow")

    def __init__(self, native: _ifmesh.NativeDataChannel, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._native = native
        self._loop = loop
        self._label = native.label
        self._protocol = native.protocol
        self._id: Optional[int] = native.id
        self._max_message_size = native.max_message_size
        self._state = "open" if native.is_open else "connecting"
        self._threshold = 0
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._inbox_wanted = False
        self._open_waiters: list[asyncio.Future] = []
        self._drain_waiters: list[asyncio.Future] = []
        self._released = False

    def __repr__(self) -> str:
        return f"<DataChannel {self._label!r} id={self.id} {self._state}>"

    # --- attributes ---------------------------------------------------------------------

    @property
    def label(self) -> str:
        return self._label

    @property
    def protocol(self) -> str:
        return self._protocol

    @property
    def id(self) -> Optional[int]:
        """The SCTP stream id; None until assigned (a channel created before DTLS picks its
        role)."""
        if self._id is None and not self._released:
            self._id = self._native.id
        return self._id

    @property
    def ready_state(self) -> str:
        """``connecting``, ``open``, ``closing`` or ``closed``."""
        return self._state

    @property
    def buffered_amount(self) -> int:
        """Bytes of sent messages not yet handed to SCTP."""
        if self._released:
            return 0
        return self._native.buffered_amount

    @property
    def buffered_amount_low_threshold(self) -> int:
        """``bufferedamountlow`` fires, and :meth:`drain` returns, when ``buffered_amount``
        falls to this many bytes (0 by default)."""
        return self._threshold

    @buffered_amount_low_threshold.setter
    def buffered_amount_low_threshold(self, value: int) -> None:
        if value < 0:
            raise errors.InvalidArgument("buffered_amount_low_threshold must be >= 0")
        self._threshold = value
        if not self._released:
            self._native.set_buffered_amount_low_threshold(value)

    @property
    def max_message_size(self) -> int:
        """The largest message ``send`` accepts (the smaller of both sides' limits once
        open)."""
        if not self._released:
            self._max_message_size = self._native.max_message_size
        return self._max_message_size

    @property
    def bytes_sent(self) -> int:
        """Bytes handed to SCTP since the channel opened."""
        return 0 if self._released else self._native.bytes_sent

    # --- sending ------------------------------------------------------------------------

    def send(self, data: Data) -> None:
        """Queues a message: ``str`` goes as text, a bytes-like object as binary. Never
        waits; watch ``buffered_amount`` (or ``await drain()``) to pace a bulk sender. Raises
        :class:`errors.InvalidState` before the channel opened, :class:`errors.ChannelClosed`
        once it is closing or closed, :class:`errors.MessageTooLarge` above
        ``max_message_size``, TypeError for anything else than str or bytes-like."""
        try:
            self._native.send(data)
        except _ifmesh.NativeError as e:
            err = _native_error(e)
            if isinstance(err, errors.ChannelClosed) and self._state == "connecting":
                raise errors.InvalidState(f"channel {self._label!r} is not open yet") from None
            raise err from None

    async def drain(self) -> None:
        """Returns once ``buffered_amount`` is at most ``buffered_amount_low_threshold``.
        Raises :class:`errors.ChannelClosed` when the channel closes first."""
        while True:
            if self._state == "closed":
                raise errors.ChannelClosed(f"channel {self._label!r} is closed")
            if self.buffered_amount <= self._threshold:
                return
            fut = self._loop.create_future()
            self._drain_waiters.append(fut)
            await fut

    def close(self) -> None:
        """Closes the channel: messages sent before still go out, then the peer's ``close``
        event and ours fire. Idempotent."""
        if self._state in ("closing", "closed"):
            return
        self._state = "closing"
        try:
            self._native.close()
        except _ifmesh.NativeError:
            pass  # the connection is gone: the close event follows from there

    # --- receiving ----------------------------------------------------------------------

    async def wait_open(self, timeout: Optional[float] = None) -> None:
        """Returns once the channel is open; raises :class:`errors.ChannelClosed` if it closes
        first, asyncio.TimeoutError after ``timeout`` seconds."""
        if self._state == "open":
            return
        if self._state in ("closing", "closed"):
            raise errors.ChannelClosed(f"channel {self._label!r} closed before it opened")
        fut = self._loop.create_future()
        self._open_waiters.append(fut)
        await asyncio.wait_for(fut, timeout)

    async def messages(self) -> AsyncIterator[Union[str, bytes]]:
        """Every message in arrival order, until the channel closes. While a ``message``
        handler is registered, messages reach this iterator only once it is iterated."""
        self._inbox_wanted = True
        while True:
            item = await self._inbox.get()
            if item is _CLOSED:
                self._inbox.put_nowait(_CLOSED)  # for any other reader
                return
            yield item

    async def recv(self, timeout: Optional[float] = None) -> Union[str, bytes]:
        """The next message; raises :class:`errors.ChannelClosed` once the channel closed and
        every message before was read, asyncio.TimeoutError after ``timeout`` seconds."""
        self._inbox_wanted = True
        item = await queue_get(self._inbox, timeout)
        if item is _CLOSED:
            self._inbox.put_nowait(_CLOSED)
            raise errors.ChannelClosed(f"channel {self._label!r} is closed")
        return item

    def _handler_added(self, event: str) -> None:
        # Messages queued while nobody listened go to the first handler, unless a reader of
        # messages()/recv() is there to take them.
        if event == "message" and not self._inbox_wanted:
            while not self._inbox.empty():
                item = self._inbox.get_nowait()
                if item is _CLOSED:
                    self._inbox.put_nowait(_CLOSED)
                    break
                self._emit("message", item)

    # --- events from the connection -----------------------------------------------------

    def _on_open(self) -> None:
        if self._state == "connecting":
            self._state = "open"
        self._id = None  # assigned by now: read it again
        _settle(self._open_waiters)
        self._emit("open")

    def _on_message(self, data: Union[str, bytes]) -> None:
        handlers = self._handlers["message"]
        if handlers:
            self._emit("message", data)
        if self._inbox_wanted or not handlers:
            self._inbox.put_nowait(data)

    def _on_buffered_amount_low(self) -> None:
        _settle(self._drain_waiters)
        self._emit("bufferedamountlow")

    def _on_close(self) -> None:
        if self._state == "closed":
            return
        self._state = "closed"
        closed = errors.ChannelClosed(f"channel {self._label!r} closed")
        _settle(self._open_waiters, closed)
        _settle(self._drain_waiters, closed)
        self._inbox.put_nowait(_CLOSED)
        self._emit("close")

    def _release(self, quiet: bool = False) -> None:
        """The connection is gone: the channel is closed and drops its C++ object. ``quiet``:
        without events (at interpreter exit, when no loop runs them)."""
        if quiet:
            self._state = "closed"
        else:
            self._on_close()
        if not self._released:
            self._id = self.id
            self._max_message_size = self.max_message_size
            self._released = True
            self._native.release()


class PeerConnection(_Emitter):
    """A WebRTC peer connection carrying DataChannels (ICE, DTLS, SCTP), on the running loop.

    Events (``on``): ``icecandidate(candidate)`` (an :class:`IceCandidate`, None at the end of
    gathering), ``connectionstatechange(state)``, ``iceconnectionstatechange(state)``,
    ``icegatheringstatechange(state)``, ``datachannel(channel)``. Create it in a coroutine
    (it watches its events from the running loop); use it as ``async with`` or ``await
    close()`` it.

    ``local_addresses``: the interfaces ICE gathers on (tests pass ``["127.0.0.1"]``; None:
    all). ``stun``: STUN URLs (``"stun:host:port"``). ``turn``: TURN servers, each a dict
    ``{"url", "username", "credential"}`` or a tuple in that order (``"turn:host:port?
    transport=udp"``). ``force_relay``: relay candidates only. ``max_message_size``: the
    largest message accepted and announced (256 KiB). ``max_channels``: SCTP streams each way
    (1024). ``connect_timeout``, ``consent_timeout``: seconds before an unconnected connection,
    or a connected one the peer fell silent on, fails (30 each; ``consent_timeout=0`` never
    fails a silent peer). ``port_range``: ``(first, last)`` local UDP ports.
    """

    _EVENTS = ("icecandidate", "connectionstatechange", "iceconnectionstatechange",
               "icegatheringstatechange", "datachannel")

    def __init__(
        self,
        *,
        local_addresses: Optional[Iterable[str]] = None,
        stun: Optional[Iterable[str]] = None,
        turn: Optional[Iterable[Union[dict, tuple]]] = None,
        force_relay: bool = False,
        max_message_size: Optional[int] = None,
        max_channels: Optional[int] = None,
        connect_timeout: Optional[float] = None,
        consent_timeout: Optional[float] = None,
        port_range: Optional[tuple[int, int]] = None,
    ) -> None:
        super().__init__()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise errors.InvalidState(
                "create a PeerConnection in a coroutine: it runs on the asyncio loop") from None
        servers = [(url, "", "") for url in (stun or ())]
        for t in turn or ():
            if isinstance(t, dict):
                servers.append((t.get("url") or t.get("urls"), t.get("username", ""),
                                t.get("credential", "")))
            else:
                servers.append(tuple(t))
        options: dict[str, Any] = {
            "local_addresses": list(local_addresses) if local_addresses is not None else None,
            "ice_servers": servers,
            "force_relay": force_relay,
            "max_message_size": max_message_size,
            "max_channels": max_channels,
            "connect_timeout_ms": _ms(connect_timeout, "connect_timeout"),
            "consent_timeout_ms": _ms(consent_timeout, "consent_timeout"),
        }
        if port_range is not None:
            options["port_range_begin"], options["port_range_end"] = port_range
        try:
            native = _ifmesh.NativePeerConnection(options)
        except _ifmesh.NativeError as e:
            raise _native_error(e) from None
        self._native = native
        self._loop = loop
        self._fd = native.fileno()
        self._closed = False
        self._state = "new"
        self._ice_state = "new"
        self._gathering_state = "new"
        self._remote_description: Optional[SessionDescription] = None
        self._channels: dict[int, DataChannel] = {}
        self._candidates: list[Optional[IceCandidate]] = []
        self._candidate_waiters: list[asyncio.Future] = []
        self._state_waiters: list[asyncio.Future] = []
        self._incoming: asyncio.Queue = asyncio.Queue()
        self._incoming_wanted = False
        self._failure_reason = ""
        _live.add(self)
        loop.add_reader(self._fd, self._drain)

    def __repr__(self) -> str:
        return f"<PeerConnection {self._state}>"

    async def __aenter__(self) -> "PeerConnection":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise errors.Closed("the peer connection is closed")

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        self._check_open()
        try:
            return method(*args)
        except _ifmesh.NativeError as e:
            raise _native_error(e) from None

    # --- offer / answer -----------------------------------------------------------------

    async def create_offer(self) -> SessionDescription:
        """Creates and applies the local offer; gathering starts and candidates trickle out
        (``icecandidate``, :meth:`ice_candidates`). Channels created before it are in it."""
        return SessionDescription(*self._call(self._native.create_offer))

    async def create_answer(self) -> SessionDescription:
        """Creates and applies the answer to the remote offer; raises
        :class:`errors.InvalidState` without one."""
        return SessionDescription(*self._call(self._native.create_answer))

    async def set_remote_description(self, description: DescriptionLike) -> None:
        """Applies the peer's offer or answer: a :class:`SessionDescription`, a dict
        ``{"type", "sdp"}`` or any object with ``type`` and ``sdp``. Raises
        :class:`errors.MalformedSdp` for an SDP that cannot be used,
        :class:`errors.InvalidArgument` for a type other than offer or answer."""
        if isinstance(description, dict):
            type_, sdp = description.get("type"), description.get("sdp")
        else:
            type_, sdp = getattr(description, "type", None), getattr(description, "sdp", None)
        if not isinstance(type_, str) or not isinstance(sdp, str):
            raise errors.InvalidArgument("a description needs a str type and a str sdp")
        self._call(self._native.set_remote_description, type_, sdp)
        self._remote_description = SessionDescription(type_, sdp)

    def add_ice_candidate(self, candidate: CandidateLike) -> None:
        """Adds one of the peer's candidates: an :class:`IceCandidate`, the browser's dict
        ``{"candidate", "sdpMid"}``, the ``candidate:...`` string, or None (or ``""``) for
        end-of-candidates. Candidates that come before the remote description are held.
        Raises :class:`errors.MalformedCandidate`."""
        if candidate is None:
            text, mid = "", "0"
        elif isinstance(candidate, str):
            text, mid = candidate, "0"
        elif isinstance(candidate, dict):
            text, mid = candidate.get("candidate") or "", candidate.get("sdpMid") or "0"
        else:
            text, mid = candidate.candidate, candidate.sdp_mid
        self._call(self._native.add_remote_candidate, text, mid)

    async def ice_candidates(self) -> AsyncIterator[IceCandidate]:
        """Every local candidate, from the first one gathered (also those found before the
        iteration began), ending at end-of-candidates or when the connection closes."""
        i = 0
        while True:
            if i < len(self._candidates):
                c = self._candidates[i]
                i += 1
                if c is None:
                    return
                yield c
                continue
            if self._closed:
                return
            fut = self._loop.create_future()
            self._candidate_waiters.append(fut)
            await fut

    @property
    def local_description(self) -> Optional[SessionDescription]:
        """The local offer or answer (with the candidates gathered so far), None before one."""
        if self._closed:
            return None
        d = self._call(self._native.local_description)
        return SessionDescription(*d) if d is not None else None

    @property
    def remote_description(self) -> Optional[SessionDescription]:
        return self._remote_description

    @property
    def local_fingerprint(self) -> str:
        """The local certificate's SHA-256 fingerprint as in SDP (``AB:CD:...``)."""
        return self._call(self._native.local_fingerprint)

    # --- state --------------------------------------------------------------------------

    @property
    def connection_state(self) -> str:
        """``new``, ``connecting``, ``connected``, ``disconnected``, ``failed`` or ``closed``,
        as the last ``connectionstatechange`` event said."""
        return self._state

    @property
    def ice_connection_state(self) -> str:
        return self._ice_state

    @property
    def ice_gathering_state(self) -> str:
        return self._gathering_state

    @property
    def closed(self) -> bool:
        return self._closed

    async def wait_connected(self, timeout: Optional[float] = None) -> None:
        """Returns once the connection is connected. Raises :class:`errors.InvalidState` when
        it fails first (the message says why), :class:`errors.Closed` when it closes,
        asyncio.TimeoutError after ``timeout`` seconds."""

        async def wait() -> None:
            while True:
                if self._state == "connected":
                    return
                if self._state == "failed":
                    raise errors.InvalidState(
                        f"the connection failed: {self._failure_reason or 'no reason given'}")
                if self._state == "closed" or self._closed:
                    raise errors.Closed("the peer connection closed")
                fut = self._loop.create_future()
                self._state_waiters.append(fut)
                await fut

        await asyncio.wait_for(wait(), timeout)

    def stats(self) -> dict:
        """``state``, ``selected_pair`` (``local_candidate``, ``remote_candidate``,
        ``local_type``, ``remote_type``), ``rtt_ms``, ``sctp`` (the association's counters),
        ``bytes_sent``, ``bytes_received``, ``data_channels``, ``failure_reason``,
        ``disconnect_reason``."""
        return self._call(self._native.stats)

    # --- channels -----------------------------------------------------------------------

    def create_data_channel(
        self,
        label: str,
        *,
        ordered: bool = True,
        max_retransmits: Optional[int] = None,
        max_packet_life_time: Optional[int] = None,
        protocol: str = "",
        negotiated: bool = False,
        id: Optional[int] = None,
    ) -> DataChannel:
        """Creates a channel; it opens once the connection is up (``await
        ch.wait_open()``). ``max_retransmits`` or ``max_packet_life_time`` (ms, not both)
        make it partially reliable; ``ordered=False`` lets messages overtake each other.
        ``negotiated=True`` with an ``id`` skips the in-band open: the peer creates the same
        channel with the same id. Raises :class:`errors.TooManyChannels`,
        :class:`errors.InvalidArgument`."""
        if negotiated and id is None:
            raise errors.InvalidArgument("a negotiated channel needs an id")
        if not negotiated and id is not None:
            raise errors.InvalidArgument("id is for negotiated channels (negotiated=True)")
        native = self._call(self._native.create_data_channel, label, ordered, max_retransmits,
                            max_packet_life_time, protocol, id if negotiated else None)
        channel = DataChannel(native, self._loop)
        self._channels[native.key] = channel
        return channel

    async def next_data_channel(self, timeout: Optional[float] = None) -> DataChannel:
        """The next channel the peer opened. While a ``datachannel`` handler is registered,
        channels reach this call only once it has been called. Raises :class:`errors.Closed`
        once the connection closed, asyncio.TimeoutError after ``timeout`` seconds."""
        self._incoming_wanted = True
        item = await queue_get(self._incoming, timeout)
        if item is _CLOSED:
            self._incoming.put_nowait(_CLOSED)
            raise errors.Closed("the peer connection is closed")
        return item

    def _handler_added(self, event: str) -> None:
        if event == "datachannel" and not self._incoming_wanted:
            while not self._incoming.empty():
                item = self._incoming.get_nowait()
                if item is _CLOSED:
                    self._incoming.put_nowait(_CLOSED)
                    break
                self._emit("datachannel", item)

    # --- closing ------------------------------------------------------------------------

    async def close(self) -> None:
        """Closes the connection and its channels (their ``close`` events fire), ends every
        iterator and fails every waiter. Idempotent."""
        if self._closed:
            return
        self._loop.remove_reader(self._fd)
        self._native.close_connection()
        self._drain()  # the closed state and the channels' close events
        self._shut_down()
        if self._state != "closed":
            self._state = "closed"
            self._emit("connectionstatechange", "closed")
        _settle(self._state_waiters)
        _settle(self._candidate_waiters)
        self._incoming.put_nowait(_CLOSED)

    def _shut_down(self, quiet: bool = False) -> None:
        """Destroys the C++ connection and drops every channel's C++ object; ``quiet`` (at
        interpreter exit, where no loop runs) fires no event."""
        self._closed = True
        self._native.close()
        _live.discard(self)
        for channel in list(self._channels.values()):
            channel._release(quiet)
        self._channels.clear()

    # --- event dispatch -----------------------------------------------------------------

    def _drain(self) -> None:
        channels = self._channels
        for event in self._native.take_events():
            kind = event[0]
            if kind == "message":
                channel = channels.get(event[1])
                if channel is not None:
                    channel._on_message(event[2])
            elif kind == "candidate":
                c = IceCandidate(event[1], event[2]) if event[1] else None
                self._candidates.append(c)
                _settle(self._candidate_waiters)
                self._emit("icecandidate", c)
            elif kind == "connectionstate":
                self._state = event[1]
                if self._state == "failed":
                    try:
                        self._failure_reason = self._native.stats()["failure_reason"]
                    except _ifmesh.NativeError:
                        pass
                _settle(self._state_waiters)
                self._emit("connectionstatechange", self._state)
            elif kind == "iceconnectionstate":
                self._ice_state = event[1]
                self._emit("iceconnectionstatechange", self._ice_state)
            elif kind == "icegatheringstate":
                self._gathering_state = event[1]
                self._emit("icegatheringstatechange", self._gathering_state)
            elif kind == "datachannel":
                channel = DataChannel(event[2], self._loop)
                channels[event[1]] = channel
                handlers = self._handlers["datachannel"]
                if handlers:
                    self._emit("datachannel", channel)
                if self._incoming_wanted or not handlers:
                    self._incoming.put_nowait(channel)
            else:
                channel = channels.get(event[1])
                if channel is None:
                    continue
                if kind == "open":
                    channel._on_open()
                elif kind == "close":
                    del channels[event[1]]
                    channel._on_close()
                    channel._release()
                elif kind == "bufferedamountlow":
                    channel._on_buffered_amount_low()
                elif kind == "error":
                    if channel._handlers["error"]:
                        channel._emit("error", event[2])
                    else:
                        log.warning("channel %r: %s", channel.label, event[2])


def _ms(seconds: Optional[float], name: str) -> Optional[int]:
    if seconds is None:
        return None
    if seconds < 0:
        raise errors.InvalidArgument(f"{name} must be >= 0")
    return int(round(seconds * 1000))
