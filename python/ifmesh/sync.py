"""A blocking wrapper over :class:`ifmesh.Agent` for code without an event loop: the agent lives
on a private asyncio loop in a background thread."""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from typing import Any, Callable, Iterator, Optional

from . import errors
from ._agent import Agent
from ._message import Message, Payload, Priority, WitnessEvent

_CLOSED = object()


class SyncAgent:
    """``SyncAgent.start(id=..., signaling_url=..., ...)`` takes Agent.start's arguments.

    Handlers given to on_message run on the agent's loop thread; ``send`` called from there
    does not wait (it returns a concurrent.futures.Future), since waiting would stop the loop
    that completes it.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ifmesh-loop",
                                        daemon=True)
        self._thread.start()
        self._agent: Optional[Agent] = None
        self._witness_queues: list[queue.Queue] = []
        self._lock = threading.Lock()

    @classmethod
    def start(cls, **options: Any) -> "SyncAgent":
        self = cls()
        try:
            self._agent = self._run(Agent.start(**options))
        except BaseException:
            self._stop_loop()
            raise
        return self

    def _run(self, coro: Any, timeout: Optional[float] = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _on_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def _call(self, fn: Callable[[], Any]) -> Any:
        if self._on_loop():
            return fn()
        fut: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            try:
                fut.set_result(fn())
            except BaseException as e:  # handed to the caller's thread
                fut.set_exception(e)

        self._loop.call_soon_threadsafe(run)
        return fut.result()

    @property
    def agent(self) -> Agent:
        assert self._agent is not None
        return self._agent

    @property
    def id(self) -> str:
        return self.agent.id

    def send(self, to: str, payload: Payload, *, priority: Any = Priority.NORMAL,
             trace_id: str = "", droppable: bool = False, ack: bool = True,
             timeout: Optional[float] = None) -> Any:
        """Blocks until the message is acknowledged (``ack=True``) or accepted, and returns its
        sequence number; on the loop thread returns a Future instead."""
        coro = self.agent.send(to, payload, priority=priority, trace_id=trace_id,
                               droppable=droppable, ack=ack)
        if self._on_loop():
            return asyncio.run_coroutine_threadsafe(coro, self._loop)
        return self._run(coro, timeout)

    def recv(self, timeout: Optional[float] = None) -> Message:
        """The next delivered message; raises TimeoutError after ``timeout`` seconds."""
        try:
            return self._run(self.agent.recv(timeout))
        except asyncio.TimeoutError:
            raise TimeoutError("no message within the timeout") from None

    def messages(self, timeout: Optional[float] = None) -> Iterator[Message]:
        """Every delivered message, in arrival order, until the agent closes; raises
        TimeoutError when none arrives within ``timeout`` seconds."""
        while True:
            try:
                yield self.recv(timeout)
            except errors.Closed:
                return

    def witness_events(self, timeout: Optional[float] = None) -> Iterator[WitnessEvent]:
        """Every audit event from the first iteration on, until the agent closes; raises
        TimeoutError when none comes within ``timeout`` seconds. Each iterator has its own
        unbounded queue: read it, or leave the loop (which unregisters it)."""
        q: queue.Queue = queue.Queue()
        with self._lock:
            if self._loop.is_closed():
                return
            self._witness_queues.append(q)
        handler = self.on_witness(q.put)
        try:
            while True:
                try:
                    item = q.get(timeout=timeout)
                except queue.Empty:
                    raise TimeoutError("no witness event within the timeout") from None
                if item is _CLOSED:
                    return
                yield item
        finally:
            with self._lock:
                self._witness_queues.remove(q)
                open_loop = not self._loop.is_closed()
            if open_loop:
                self._call(lambda: self.agent.remove_witness_handler(handler))

    def on_message(self, handler: Callable[[Message], Any]) -> Callable[[Message], Any]:
        return self._call(lambda: self.agent.on_message(handler))

    def on_witness(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        return self._call(lambda: self.agent.on_witness(handler))

    def peers(self) -> list[str]:
        return self._call(self.agent.peers)

    def quality_mode(self, peer: Optional[str] = None) -> str:
        return self._call(lambda: self.agent.quality_mode(peer))

    def stats(self) -> dict:
        return self._call(self.agent.stats)

    def close(self) -> None:
        if self._agent is not None and not self._loop.is_closed():
            self._run(self._agent.close())
        self._stop_loop()
        with self._lock:
            for q in self._witness_queues:
                q.put(_CLOSED)

    def _stop_loop(self) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        with self._lock:
            self._loop.close()

    def __enter__(self) -> "SyncAgent":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
