"""Long jobs (imports of big files) share the server with the door: under eventlet or gevent one request
that computes for seconds holds up every other one. Such loops call `pause()` every few hundred rows, and
never while they hold a write transaction (SQLite would make every other writer wait on its lock)."""

import time

EVERY = 500  # rows between pauses: a few milliseconds of work


def pause():
    """Let other requests run. time.sleep is the server's cooperative sleep once eventlet or gevent has
    patched it; in a plain process (CLI, threading mode) sleep(0) only yields the processor."""
    time.sleep(0)


_ticks = 0


def tick():
    """Count one item of work done anywhere in this process and pause every EVERY items (for work spread
    over nested loops)."""
    global _ticks
    _ticks += 1
    if _ticks % EVERY == 0:
        pause()


def paced(items, every=EVERY):
    """Iterate, pausing every `every` items."""
    for n, item in enumerate(items, 1):
        if n % every == 0:
            pause()
        yield item
