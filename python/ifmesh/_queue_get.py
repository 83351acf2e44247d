"""A queue's next item with a timeout, without the task that ``asyncio.wait_for`` creates for
every call (about 6-10 µs each): receiving loops call it once per message."""

from __future__ import annotations

import asyncio
from typing import Any, Optional

_timeout = getattr(asyncio, "timeout", None)  # Python 3.11+


async def queue_get(queue: asyncio.Queue, timeout: Optional[float]) -> Any:
    """The next item of ``queue``; raises asyncio.TimeoutError after ``timeout`` seconds (None:
    no limit). An item already queued is returned at once, whatever the timeout."""
    if not queue.empty():
        return queue.get_nowait()
    if timeout is None:
        return await queue.get()
    if _timeout is not None:
        async with _timeout(timeout):
            return await queue.get()
    return await asyncio.wait_for(queue.get(), timeout)
