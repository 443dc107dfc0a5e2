"""One script run at a time in a server process, first come first served.

Streamlit runs every session's script in a thread of one process. Runs that overlap do not take turns on the
GIL: each message a run sends wakes the event loop through a socket, a system call that lets the other
threads in, so a burst of k runs on one replica shared the GIL message by message and all ended together,
k times late. In turns the same work ends in order: the first after one run's time, the second after two
(four page opens sent at once, 18 times, one process: each took 59–100 ms, mean 80; in turns 23–87 ms, mean
51, the first done after 33 ms at the median instead of 76).

app.py runs each page in `turn()`, and every fragment is drawn in one (`in_turn`: a fragment's own rerun does
not pass through app.py). A run waits at most WAIT for its turn and then runs anyway, so a run that holds
its turn and blocks delays the others by WAIT at most; a run that knowingly blocks (a training child, another
replica's claim) passes its turn on while it waits (`waiting()`). Only Python's own threading: nothing of
Streamlit is changed.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import threading

WAIT = 0.25  # seconds a run waits for its turn at most (a burst of runs of 15–40 ms each fits in it)

_MUTEX = threading.Lock()
_LINE: collections.deque[threading.Event] = collections.deque()  # the runs waiting; the first holds the turn
_OWN = threading.local()  # this thread's ticket (its Event while it holds the turn) and nesting depth


def _enter() -> threading.Event | None:
    """Queue and wait for the turn: the ticket, or None if WAIT passed first (the run goes on without one)."""
    ticket = threading.Event()
    with _MUTEX:
        _LINE.append(ticket)
        if _LINE[0] is ticket:
            ticket.set()
    if ticket.wait(WAIT):
        return ticket
    with _MUTEX:
        if ticket.is_set():  # (its turn came as it gave up)
            return ticket
        _LINE.remove(ticket)
    return None


def _leave(ticket: threading.Event) -> None:
    with _MUTEX:
        _LINE.remove(ticket)  # the first in line: only the first holds a set ticket
        if _LINE:
            _LINE[0].set()


@contextlib.contextmanager
def turn():
    """Run the block in this thread's turn (a turn taken inside one is the same turn)."""
    if getattr(_OWN, "depth", 0):  # a fragment drawn by its page's run
        _OWN.depth += 1
        try:
            yield
        finally:
            _OWN.depth -= 1
        return
    _OWN.depth, _OWN.ticket = 1, _enter()
    try:
        yield
    finally:
        ticket, _OWN.ticket, _OWN.depth = _OWN.ticket, None, 0
        if ticket is not None:
            _leave(ticket)


def in_turn(func):
    """func run in a turn: for a fragment's function (below @st.fragment)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with turn():
            return func(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def waiting():
    """While the block waits on something outside this process, the next run in line has the turn."""
    ticket = getattr(_OWN, "ticket", None)
    if ticket is None:
        yield
        return
    _leave(ticket)
    _OWN.ticket = None
    try:
        yield
    finally:
        _OWN.ticket = _enter()


@contextlib.contextmanager
def locked(lock: threading.Lock):
    """with lock; if another thread holds it (a training of the same run), waiting() for it."""
    if not lock.acquire(blocking=False):
        with waiting():
            lock.acquire()
    try:
        yield
    finally:
        lock.release()


def holds() -> bool:
    """This thread holds the turn."""
    return getattr(_OWN, "ticket", None) is not None
