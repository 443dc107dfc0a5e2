"""Process-wide settings, applied once when app.py first imports this module.

TCP_NODELAY on the server's sockets (no_delay, below). A longer GIL switch interval (below). One BLAS
thread (and the training processes' forkserver started early, below). The matrices here are small (at
most 1,000 × 1,000, mostly far less), the server runs many sessions at once on few cores, and OpenBLAS's
worker threads spinning against other sessions made the EoS page's gradient flow 4× slower (8.9 s → 2.2 s
measured on 2 cores). scipy ships its own OpenBLAS: it is imported first so that the limit covers both
libraries.
"""

import os
import socket
import sys

import scipy.integrate  # noqa: F401
import scipy.linalg  # noqa: F401
import scipy.sparse.linalg  # noqa: F401
from threadpoolctl import threadpool_limits

BLAS_LIMIT = threadpool_limits(limits=1)


def no_delay() -> int:
    """Set TCP_NODELAY on every TCP socket of this process; returns how many. Streamlit's server binds its
    own listening socket, and asyncio turns Nagle's algorithm off only on sockets it made itself: a run's
    small messages then waited for the browser's delayed ACK (≈ 40 ms at a time on Linux), and a fresh
    session's first page took 49–64 ms instead of 18–36 (tests/test_runtime.py; README, Deploy).
    Connections the listening socket accepts later inherit the option. Linux only (/proc); elsewhere a no-op."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return 0
    done = 0
    for fd in fds:
        try:
            sock = socket.socket(fileno=int(fd))  # the process's own socket object: detached below, never closed
        except OSError:  # not a socket (or gone)
            continue
        try:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done += 1
        except OSError:
            pass
        finally:
            sock.detach()
    return done


no_delay()

# Every session's run is a thread of this process, and most runs need 15–40 ms of CPU. At Python's default switch
# interval (5 ms) a burst of runs on one replica shared the GIL in 5 ms turns, so every run of the burst ended
# late (and the switching cost CPU); at 50 ms most runs end in one turn, first come first served. A proxied class
# (N = 30, three runs each, A/B): the replicas' CPU 9.6–10.9 → 8.2–8.8 s, p50 38–43 → 30–35 ms, p95 99–135 →
# 78–99 ms. A run waiting on I/O (a training's pipe, a claim) releases the GIL at once, as before.
SWITCH_INTERVAL = 0.05  # seconds
sys.setswitchinterval(SWITCH_INTERVAL)

# Prepared in the background, so that the visitors after the first do not wait for them: the forkserver
# that EoS trainings run in (ui/train_process.py: it imports core.training, ≈ 0.6 s), and the chart
# structures a class needs (≈ 0.5 s of Altair each on the quadratic page, 15–200 ms on the others).
# After a pause: the first visit (this run; a shared link to a sleeping copy) is drawn first (with no
# pause it took 5.8 s, not 3.5–4.1).
import gc  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from streamlit.logger import get_logger  # noqa: E402

from ui import eos_views, live, live_momentum, toy_views, train_process  # noqa: E402

WARM_AFTER = 5.0  # seconds
WARM_DONE = "warm-up done"  # logged when it ends: deploy/serve.py opens the proxy only after every replica's


def _warm() -> None:
    time.sleep(WARM_AFTER)
    start = time.perf_counter()
    train_process.warm()
    live.warm_specs()
    live_momentum.warm_specs()
    toy_views.warm_specs()
    eos_views.warm_specs()
    # What exists now (modules, Altair's schemas, the specs just built) lives as long as the server: moved out of
    # the collector's reach, a full collection no longer walks it. Measured in a proxied load run: 76–149 ms
    # each, three per replica, every session of that replica stalled meanwhile; after the freeze 17–34 ms.
    gc.freeze()
    get_logger(__name__).info("%s in %.1f s", WARM_DONE, time.perf_counter() - start)


WARM_UP = threading.Thread(target=_warm, name="warm-up", daemon=True)
WARM_UP.start()
