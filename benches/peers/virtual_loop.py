"""An asyncio event loop whose clock is virtual: when nothing is ready to
run, time jumps to the earliest timer instead of waiting for it. The loop is
CPython's own; only time() and the wait before each iteration change."""
import asyncio
import heapq


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        super().__init__()
        self._virtual_now = 0.0

    def time(self):
        return self._virtual_now

    def _run_once(self):
        if not self._ready:
            # Drop cancelled timers at the head, then jump to the next deadline.
            while self._scheduled and self._scheduled[0]._cancelled:
                self._timer_cancelled_count -= 1
                heapq.heappop(self._scheduled)._scheduled = False
            if self._scheduled:
                self._virtual_now = max(self._virtual_now, self._scheduled[0]._when)
        super()._run_once()


def run(coro):
    loop = VirtualLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()
