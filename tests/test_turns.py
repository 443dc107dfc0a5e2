"""ui/turns.py: runs take turns in arrival order, never more than one in its turn, and nothing waits for a run
that blocks longer than turns.WAIT. Plus: app.py and every fragment run in a turn."""

import ast
import threading
import time
from pathlib import Path

import pytest

from ui import turns

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def empty_line():
    assert not turns._LINE
    yield
    assert not turns._LINE, "a ticket was left in the line"


def _holder():
    """A thread holding the turn until released is set; started is set once it holds it."""
    started, released = threading.Event(), threading.Event()

    def hold():
        with turns.turn():
            started.set()
            released.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    assert started.wait(5)
    return thread, released


def _seconds_in_thread(target) -> float:
    """Run target in a thread of its own (a session's run) to its end; the seconds it took."""
    thread = threading.Thread(target=target)
    start = time.perf_counter()
    thread.start()
    thread.join(5)
    return time.perf_counter() - start


def test_runs_take_turns_in_the_order_they_came():
    holder, released = _holder()
    order, inside, most = [], [0], [0]
    lock = threading.Lock()

    def run(i):
        with turns.turn():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                order.append(i)
            time.sleep(0.005)
            with lock:
                inside[0] -= 1

    threads = []
    for i in range(5):
        threads.append(threading.Thread(target=run, args=(i,)))
        threads[-1].start()
        while len(turns._LINE) < i + 2:  # (the holder and those before it): arrival order is known
            time.sleep(0.001)
    released.set()
    for t in threads + [holder]:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]
    assert most[0] == 1, "two runs were in their turn at once"


def test_a_turn_inside_a_turn_is_the_same_turn():
    seen = []

    def run():
        with turns.turn():
            with turns.turn():  # a fragment drawn inside its page's run
                seen.append(turns.holds())
            seen.append(turns.holds())
        seen.append(turns.holds())

    seconds = _seconds_in_thread(run)
    assert seen == [True, True, False]
    assert seconds < turns.WAIT  # the inner turn did not queue behind the outer one


def test_a_run_that_blocks_holds_the_others_up_for_wait_at_most():
    holder, released = _holder()
    try:
        done = []

        def run():
            with turns.turn():
                done.append(turns.holds())

        waited = _seconds_in_thread(run)
        assert done == [False], "it ran without a turn"
        assert turns.WAIT <= waited < turns.WAIT + 2, waited
        assert len(turns._LINE) == 1  # only the holder: the run that gave up left the line
    finally:
        released.set()
        holder.join(5)
    # and the line works as before
    with turns.turn():
        assert turns.holds()


def test_waiting_passes_the_turn_on_and_takes_it_back():
    in_wait, go_on, events = threading.Event(), threading.Event(), []

    def blocker():
        with turns.turn():
            with turns.waiting():
                in_wait.set()
                go_on.wait(10)
            events.append(("blocker back", turns.holds()))

    def other():
        with turns.turn():
            events.append(("other", turns.holds()))

    b = threading.Thread(target=blocker)
    b.start()
    assert in_wait.wait(5)
    assert _seconds_in_thread(other) < turns.WAIT  # it did not wait for the blocked run
    go_on.set()
    b.join(5)
    assert events == [("other", True), ("blocker back", True)]


def test_locked_waits_for_the_lock_outside_the_turn():
    blocked = threading.Event()

    class Lock:  # a threading.Lock that says when a thread starts to block on it
        def __init__(self):
            self.inner = threading.Lock()

        def acquire(self, blocking=True):
            if blocking:
                blocked.set()
            return self.inner.acquire(blocking)

        def release(self):
            self.inner.release()

    lock, got = Lock(), []
    lock.inner.acquire()  # another thread's training of the same run

    def run():
        with turns.turn():
            with turns.locked(lock):
                got.append(turns.holds())

    t = threading.Thread(target=run)
    t.start()
    assert blocked.wait(5)
    assert not turns._LINE, "the run kept its turn while it waited for the lock"
    start = time.perf_counter()
    with turns.turn():  # someone else has the turn meanwhile, at once
        assert turns.holds()
    assert time.perf_counter() - start < turns.WAIT
    lock.release()
    t.join(5)
    assert got == [True]


def _decorators(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.decorator_list:
            yield path.name, node.name, [ast.unparse(d) for d in node.decorator_list]


def test_every_fragment_and_the_router_run_in_a_turn():
    fragments = [
        (file, name, decorators)
        for path in [*ROOT.glob("pages/*.py"), *ROOT.glob("ui/*.py")]
        for file, name, decorators in _decorators(path)
        if any(d.startswith("st.fragment") for d in decorators)
    ]
    assert len(fragments) >= 5
    for file, name, decorators in fragments:
        # in_turn below st.fragment: the fragment's own reruns, which do not pass through app.py
        assert decorators[-1] == "turns.in_turn", (file, name, decorators)
    router = ast.parse((ROOT / "app.py").read_text())
    withs = [ast.unparse(node.items[0].context_expr) for node in router.body if isinstance(node, ast.With)]
    assert withs == ["turns.turn()"]
    (body,) = [node for node in router.body if isinstance(node, ast.With)]
    assert ast.unparse(body.body[-1]) == "page.run()"
