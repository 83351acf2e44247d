"""queue_get: the receive calls' wait for a queue's next item, with and without a timeout."""

import asyncio

import pytest

from ifmesh._queue_get import queue_get


def test_a_queued_item_is_returned_whatever_the_timeout():
    async def main():
        q = asyncio.Queue()
        q.put_nowait("first")
        q.put_nowait("second")
        assert await queue_get(q, 0) == "first"
        assert await queue_get(q, None) == "second"

    asyncio.run(main())


def test_an_item_that_arrives_in_time_is_returned():
    async def main():
        q = asyncio.Queue()
        asyncio.get_running_loop().call_later(0.05, q.put_nowait, "late")
        assert await queue_get(q, 5) == "late"
        asyncio.get_running_loop().call_later(0.05, q.put_nowait, "no limit")
        assert await queue_get(q, None) == "no limit"

    asyncio.run(main())


def test_an_empty_queue_times_out_and_keeps_later_items():
    async def main():
        q = asyncio.Queue()
        with pytest.raises(asyncio.TimeoutError):
            await queue_get(q, 0.05)
        q.put_nowait("after")
        assert await queue_get(q, 1) == "after"  # the timed-out wait took nothing

    asyncio.run(main())
