"""Calling user handlers on the event loop, for agents and connections alike."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any, Callable


class HandlerRunner:
    """Calls handlers so that a failing one never stops its caller: an exception is logged with
    ``label`` and the handler, and a handler that returns an awaitable (a coroutine function's
    call) runs as a task whose exception is logged too. Keeps its tasks alive until they end."""

    def __init__(self, log: logging.Logger, label: Callable[[], str]) -> None:
        self._log = log
        self._label = label
        self._tasks: set[asyncio.Task] = set()

    def call(self, handler: Callable[..., Any], *args: Any, what: str = "handler") -> None:
        """Calls ``handler(*args)``; ``what`` names it in the log (an event's name, say)."""
        try:
            result = handler(*args)
        except Exception:
            self._log.exception("%s: %s %r raised", self._label(), what, handler)
            return
        if result is not None and inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error("%s: handler task raised", self._label(), exc_info=task.exception())
