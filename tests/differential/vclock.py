"""Run a real asyncio program on CPython's event loop in virtual time.

    python vclock.py PROGRAM.py [ARG...]
    python vclock.py --batch DIRECTORY     # every *.py in it, one after another

Every line the program writes to stdout comes out as ``[<ns>] <line>``, where
<ns> is the virtual time, in integer nanoseconds, at which the line began.

The loop is CPython's own (SelectorEventLoop); only its clock is replaced:

* The clock is an integer count of nanoseconds, ``Clock.now_ns``, shared by
  every loop of the process (a program may call asyncio.run() several times).
  ``loop.time()`` is ``now_ns / 1e9``.
* ``call_later(delay)`` is due at ``now_ns + round(delay * 1e9)``;
  ``call_at(when)`` at ``round(when * 1e9)``.  Timers fire in order of
  (deadline_ns, creation number): equal deadlines fire FIFO.  A handle's
  ``_when`` is ``deadline_ns / 1e9``, for asyncio's own comparisons.
* When nothing is ready, the clock jumps to the earliest live timer (never
  backwards) instead of sleeping.
* ``time.time/monotonic/perf_counter`` (and their ``_ns`` twins) read the
  virtual clock; ``time.sleep(s)`` advances it by ``round(s * 1e9)`` ns while
  blocking everything, as it blocks a real loop.
* Work sent to a thread pool (run_in_executor, to_thread) runs on real
  threads, one at a time in lock-step with the loop, so the run stays
  deterministic.  ``ThreadPoolExecutor`` is replaced by ``VirtualPool``: at
  most ``max_workers`` work items run at once, the others wait in FIFO
  order and start as soon as a worker frees, which is what CPython's pool
  does (its idle threads take queued items first come, first served).
  ``time.sleep(s)`` in a worker holds that worker, not the loop, for
  ``round(s * 1e9)`` VIRTUAL ns: the worker parks until the clock reaches
  its deadline.  A parked worker's deadline is ordered with the loop's
  timers by (deadline_ns, creation number), as timers are among
  themselves; when it comes, the worker is released and the loop waits
  until it parks again or ends (its result goes back through asyncio's own
  ``call_soon_threadsafe``), before it releases the next due timer.  The
  clock never jumps past a parked worker's deadline.
* A ``TaskGroup`` keeps its running tasks in creation order: when it aborts,
  it cancels them in that order.  CPython keeps them in a set, whose order
  is that of the tasks' addresses (it changes from run to run and from
  version to version); creation order is one of its possible orders, and
  the one scenario-run follows.
* ``asyncio.wait`` adds its done callbacks to its futures in creation
  order too (CPython: the order of a set).  With ``FIRST_EXCEPTION`` the
  order decides which of the futures done already has its exception left
  unread (the one whose callback comes last); scenario-run follows this one.

Works unchanged on CPython 3.11, 3.12 and 3.13.  The exit status is the
program's own; an uncaught exception prints its traceback and exits 1.
"""
import asyncio
import collections
import concurrent.futures
import concurrent.futures.thread
import heapq
import itertools
import math
import os
import queue  # noqa: F401  (binds time.monotonic when imported: keep it real)
import re
import runpy
import signal
import sys
import threading  # noqa: F401  (same)
import time
import traceback
import weakref
from asyncio import events


class Clock:
    now_ns = 0  # integer nanoseconds; never a float
    seq = itertools.count()  # creation order of timers, for FIFO ties


def _to_ns(seconds):
    """Seconds (int or float) to integer ns; an infinite delay stays infinite."""
    if math.isinf(seconds):
        return seconds
    return round(seconds * 1_000_000_000)


class NsTimerHandle(events.TimerHandle):
    """A timer that knows its deadline in integer ns and sorts by (deadline_ns, seq).

    heapq only uses `<`; the stock TimerHandle compares `_when` alone, so two
    timers due at the same instant would pop in heap order, not creation order."""

    __slots__ = ("_deadline_ns", "_seq")

    def __init__(self, deadline_ns, callback, args, loop, context=None):
        super().__init__(deadline_ns / 1e9, callback, args, loop, context)
        self._deadline_ns = deadline_ns
        self._seq = next(Clock.seq)

    def _key(self):
        return (self._deadline_ns, self._seq)

    def __lt__(self, other):
        return self._key() < other._key()

    def __le__(self, other):
        return self._key() <= other._key()

    def __gt__(self, other):
        return self._key() > other._key()

    def __ge__(self, other):
        return self._key() >= other._key()


class VirtualClockLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        super().__init__()
        # Due timers are moved to the ready queue by _process_events below,
        # using integer ns; with a zero resolution the stock float check in
        # _run_once (`_when < time() + resolution`) never releases any other.
        self._clock_resolution = 0
        self._threads_busy = 0  # the default executor's shutdown thread

    # asyncio.run() shuts the default executor down in a thread of its own,
    # which calls back once the pool's work is done: while no worker is
    # parked, the clock must not jump past timers until it has.
    async def shutdown_default_executor(self, *args):
        self._threads_busy += 1
        try:
            await super().shutdown_default_executor(*args)
        finally:
            self._threads_busy -= 1

    def create_task(self, coro, **kwargs):
        task = super().create_task(coro, **kwargs)
        _CREATED[task] = next(Clock.seq)
        return task

    def create_future(self):
        future = super().create_future()
        _CREATED[future] = next(Clock.seq)
        return future

    def time(self):
        return Clock.now_ns / 1e9

    def call_later(self, delay, callback, *args, context=None):
        if delay is None:
            raise TypeError("delay must not be None")
        return self._schedule(Clock.now_ns + _to_ns(delay), callback, args, context)

    def call_at(self, when, callback, *args, context=None):
        if when is None:
            raise TypeError("when cannot be None")
        return self._schedule(_to_ns(when), callback, args, context)

    def _schedule(self, deadline_ns, callback, args, context):
        self._check_closed()
        if self._debug:
            self._check_thread()
            self._check_callback(callback, "call_at")
        timer = NsTimerHandle(deadline_ns, callback, args, self, context)
        if timer._source_traceback:
            del timer._source_traceback[-1]
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer

    def _run_once(self):
        # Drop cancelled timers from the head, as the stock _run_once does.
        while self._scheduled and self._scheduled[0]._cancelled:
            self._timer_cancelled_count -= 1
            heapq.heappop(self._scheduled)._scheduled = False
        Workers.settle()
        # Nothing to do now: jump to the earliest timer or parked worker's
        # deadline instead of sleeping.
        idle = not (self._ready or self._stopping)
        # While the default executor shuts down and has no work left, only
        # its shutdown thread's call back is awaited: work parked in other
        # pools must not move the clock (asyncio.run does not wait for it).
        settling = self._threads_busy and getattr(self._default_executor, "_busy", 0) == 0
        if idle and not settling:
            deadlines = [s[0] for s in Workers.sleepers[:1]]
            if self._scheduled and not (self._threads_busy and not deadlines):
                deadlines.append(self._scheduled[0]._deadline_ns)
            deadline = min(deadlines, default=math.inf)
            if deadline != math.inf:
                Clock.now_ns = max(Clock.now_ns, deadline)
        # Before polling: the stock poll would wait for a timer's deadline
        # (or forever), knowing nothing of parked workers.
        self._release_due()
        super()._run_once()

    def _process_events(self, event_list):
        # Called by _run_once right after polling I/O, just where the stock
        # code releases due timers.
        super()._process_events(event_list)
        self._release_due()

    def _release_due(self):
        # Releases the due timers, exactly, in ns, and the workers whose
        # sleep ends by now, all in (deadline, seq) order.
        while True:
            timer = sleeper = None
            if self._scheduled and self._scheduled[0]._deadline_ns <= Clock.now_ns:
                timer = self._scheduled[0]._key()
            if Workers.sleepers and Workers.sleepers[0][0] <= Clock.now_ns:
                sleeper = Workers.sleepers[0][:2]
            if timer is None and sleeper is None:
                return
            if sleeper is None or (timer is not None and timer < sleeper):
                handle = heapq.heappop(self._scheduled)
                handle._scheduled = False
                self._ready.append(handle)
            else:
                Workers.release_first()


class VirtualClockPolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self):
        return VirtualClockLoop()


class Workers:
    """The workers of every VirtualPool, in lock-step with the loop: at most
    one of them runs at a time, and only while the loop waits for it."""

    cv = threading.Condition()
    running = 0  # workers running Python code (not parked)
    sleepers = []  # heap of (deadline_ns, seq, wake event) of parked workers
    local = threading.local()  # .pooled: this thread is a worker

    @classmethod
    def settle(cls):
        """Waits until every worker is parked or gone."""
        with cls.cv:
            cls.cv.wait_for(lambda: cls.running == 0)

    @classmethod
    def park(cls, ns):
        wake = threading.Event()
        with cls.cv:
            heapq.heappush(cls.sleepers, (Clock.now_ns + ns, next(Clock.seq), wake))
            cls.running -= 1
            cls.cv.notify_all()
        wake.wait()

    @classmethod
    def release_first(cls):
        """Releases the worker whose sleep ends first; waits until it parks
        again or ends."""
        with cls.cv:
            _, _, wake = heapq.heappop(cls.sleepers)
            cls.running += 1
        wake.set()
        cls.settle()


class VirtualPool(concurrent.futures.ThreadPoolExecutor):
    """ThreadPoolExecutor's behaviour, in lock-step (see Workers): a work item
    starts when submitted if fewer than max_workers run, else waits its turn
    (FIFO) and starts when one ends; a cancelled future is skipped."""

    def __init__(self, max_workers=None, thread_name_prefix="", initializer=None, initargs=()):
        if max_workers is None:
            max_workers = min(32, (os.cpu_count() or 1) + 4)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        self._max_workers = max_workers
        self._busy = 0
        self._queue = collections.deque()
        self._shutdown = False

    def submit(self, fn, /, *args, **kwargs):
        future = concurrent.futures.Future()
        item = (future, fn, args, kwargs)
        with Workers.cv:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self._busy < self._max_workers:
                self._busy += 1
                Workers.running += 1
                threading.Thread(target=self._work, args=(item,), daemon=True).start()
            else:
                self._queue.append(item)
        Workers.settle()
        return future

    def _work(self, item):
        Workers.local.pooled = True
        while item is not None:
            future, fn, args, kwargs = item
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 (the future holds it)
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs
            with Workers.cv:
                item = self._queue.popleft() if self._queue else None
                if item is None:
                    self._busy -= 1
                    Workers.running -= 1
                    Workers.cv.notify_all()

    def shutdown(self, wait=True, *, cancel_futures=False):
        with Workers.cv:
            self._shutdown = True
            if cancel_futures:
                while self._queue:
                    self._queue.popleft()[0].cancel()
            if wait:
                Workers.cv.wait_for(lambda: self._busy == 0)


def _blocking_sleep(seconds):
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    if getattr(Workers.local, "pooled", False):
        Workers.park(_to_ns(seconds))
        return
    Clock.now_ns += _to_ns(seconds)


class StampedStdout:
    """Wraps sys.stdout: each line gets "[<ns>] " when its first character is written."""

    def __init__(self, stream):
        self._stream = stream
        self._at_line_start = True

    def write(self, text):
        for piece in re.findall(r"[^\n]+\n?|\n", text):
            if self._at_line_start:
                self._stream.write(f"[{Clock.now_ns}] ")
            self._stream.write(piece)
            self._at_line_start = piece.endswith("\n")
        return len(text)

    def __getattr__(self, name):  # flush, fileno, encoding, isatty, ...
        return getattr(self._stream, name)


class _TasksInOrder(dict):
    """A TaskGroup's ``_tasks``: the set's operations, in creation order."""

    def add(self, task):
        self[task] = None

    def discard(self, task):
        self.pop(task, None)


def _ordered_task_group():
    original = asyncio.TaskGroup.__init__

    def __init__(self):
        original(self)
        self._tasks = _TasksInOrder()

    asyncio.TaskGroup.__init__ = __init__


_CREATED = weakref.WeakKeyDictionary()  # future or task -> creation number


def _ordered_wait():
    """``asyncio.wait`` hands its futures to ``_wait`` as a set: hand them
    in creation order instead (those of unknown creation last, as given)."""
    original = asyncio.tasks._wait

    async def _wait(fs, timeout, return_when, loop):
        ordered = sorted(fs, key=lambda f: _CREATED.get(f, math.inf))
        return await original(ordered, timeout, return_when, loop)

    asyncio.tasks._wait = _wait


def _install():
    asyncio.set_event_loop_policy(VirtualClockPolicy())
    _ordered_task_group()
    _ordered_wait()
    time.time = time.monotonic = time.perf_counter = lambda: Clock.now_ns / 1e9
    time.time_ns = time.monotonic_ns = time.perf_counter_ns = lambda: Clock.now_ns
    time.sleep = _blocking_sleep
    concurrent.futures.ThreadPoolExecutor = VirtualPool
    concurrent.futures.thread.ThreadPoolExecutor = VirtualPool


def batch(directory):
    """Runs every PROGRAM.py in DIRECTORY (in name order), each in a child
    process forked from this one (asyncio is imported once; nothing a program
    leaves behind reaches the next), each from virtual time 0: `=== NAME`
    before each program's lines, and `!!! ` before the lines of an uncaught
    exception's traceback."""
    _install()
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".py"):
            continue
        sys.stdout.write(f"=== {name}\n")
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            os._exit(_run_child(os.path.join(directory, name)))
        _, status = os.waitpid(pid, 0)
        if not os.WIFEXITED(status):
            sys.stdout.write(f"!!! ended by signal {os.WTERMSIG(status)}\n")
    sys.stdout.flush()


def _run_child(program):
    """One program of a batch, in its own process; returns the exit status."""
    signal.signal(signal.SIGALRM, _too_long)
    signal.alarm(30)  # a program that never ends is reported, not waited for
    real_stdout = sys.stdout
    sys.stdout = StampedStdout(real_stdout)
    status = 0
    try:
        runpy.run_path(program, run_name="__main__")
    except BaseException as exc:  # noqa: BLE001 (reported as lines of output)
        sys.stdout = real_stdout
        for line in traceback.format_exception(type(exc), exc, exc.__traceback__):
            for part in line.rstrip("\n").split("\n"):
                real_stdout.write(f"!!! {part}\n")
        status = 1
    sys.stdout = real_stdout
    real_stdout.flush()
    sys.stderr.flush()
    return status


def _too_long(_signum, _frame):
    raise TimeoutError("the program ran for 30 s of real time (it never ends?)")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--batch":
        batch(sys.argv[2])
        return
    if len(sys.argv) < 2:
        sys.exit("usage: vclock.py PROGRAM.py [ARG...] | vclock.py --batch DIRECTORY")
    program = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(program))  # as `python PROGRAM.py`

    _install()
    sys.stdout = StampedStdout(sys.stdout)

    try:
        runpy.run_path(program, run_name="__main__")
    except Exception as exc:  # report it as `python PROGRAM.py` would
        tb = exc.__traceback__
        while tb and tb.tb_frame.f_code.co_filename != program:
            tb = tb.tb_next
        if tb is None and not isinstance(exc, SyntaxError):
            tb = exc.__traceback__  # not raised from the program's code: show all
        traceback.print_exception(type(exc), exc, tb)
        sys.exit(1)


if __name__ == "__main__":
    main()
