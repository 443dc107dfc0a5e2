"""Warm a fresh deployment before the class arrives.

    EOS_RUN_DIR=/path/to/runs python deploy/warm.py [--page eos] [--replica URL ...] [--timeout 120]

- What a first visit to the Edge of Stability page computes (its default run and the gradient-flow
  comparison: 2–5 s of CPU) goes into the replicas' shared run store, so neither the first visitor nor a
  session moved by a failover waits for it. The page runs in Streamlit's own test runner (AppTest): its
  own code, the same configuration and store keys as a visitor's first visit, no browser, no server.
- Then each --replica is visited once on every page, through Streamlit's protocol (loadtest/client.py),
  with the settings a class link uses: its first session imports the app (≈ 2 s of a core) and builds
  the pages' chart structures (≈ 0.5–1 s each, holding that replica's GIL). Without it, the first
  students on each replica waited for that, and every visitor behind them too.

deploy/serve.py runs it while the replicas start, and opens the proxy after it. Exit 0 when every page ran
without an exception; each step's time is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui.eos_runs import RUN_DIR_ENV  # noqa: E402  (the app's own name for the shared directory)


def warm(page: str, timeout: float) -> str | None:
    """Open pages/<page>.py once with its defaults; the first exception's text, or None."""
    from streamlit.testing.v1 import AppTest

    from ui import eos_jobs

    eos_jobs.WAIT_SECONDS = timeout  # no browser here to follow the training: the run waits for it
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.switch_page(f"pages/{page}.py")
    at.run()
    return str(at.exception[0].value) if at.exception else None


# What a replica's first sessions ask for: every page, and the quadratic page's three chart structures
# (n ≤ 20: the loss summed in the browser; ≤ 1,000: every direction; above: extremes only).
REPLICA_VISITS = [
    ("", ""),  # home: the default page is "/" (as a page name, "home" is found only before the router ran)
    ("quadratic", ""),
    ("quadratic", "preset=log-spaced&n=50"),
    ("quadratic", "n=2000"),
    ("momentum", "method=heavy+ball"),
    ("trajectory", "method=heavy+ball"),
    ("trajectory", "method=gradient+descent"),
    ("toy", ""),
    ("eos", ""),
]


async def warm_replica(url: str, timeout: float) -> str | None:
    """Visit REPLICA_VISITS on one replica in one session (waiting for it to answer first); the first
    failure's text, or None."""
    from loadtest.client import Session

    deadline = time.monotonic() + timeout
    while True:
        session = Session(url, rerun_timeout=timeout)
        try:
            await session.connect()
            break
        except Exception as exc:  # not up yet
            if time.monotonic() > deadline:
                return f"no connection ({exc!r})"
            await asyncio.sleep(0.5)
    try:
        for page, query in REPLICA_VISITS:
            result = await session.open(page, query)
            # A page that answers with a training's box (the EoS page, before its store has the run) draws its
            # charts only once trained: follow the box, or their structures are built with the class waiting.
            if result.ok:
                result = await session.settle(max(deadline - time.monotonic(), 1.0)) or result
            if not result.ok:
                return f"{page}?{query}: status {result.status}, {result.errors[:1]}"
    finally:
        await session.close()
    return None


async def warm_replicas(urls: list[str], timeout: float) -> int:
    async def one(url: str) -> int:
        start = time.perf_counter()
        error = await warm_replica(url, timeout)
        print(f"warm: replica {url} {'failed: ' + error if error else 'done'} in {time.perf_counter() - start:.1f} s")
        return 1 if error else 0

    return max(await asyncio.gather(*(one(url) for url in urls)), default=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", action="append", help="a page to open (default: eos); repeat for more")
    parser.add_argument("--replica", action="append", default=[], help="a replica's URL to visit; repeat for more")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one page may take")
    args = parser.parse_args(argv)
    if not os.environ.get(RUN_DIR_ENV):
        print(f"{RUN_DIR_ENV} is not set: nothing would be shared with the replicas", file=sys.stderr)
        return 2
    code = 0
    for page in args.page or ["eos"]:
        start = time.perf_counter()
        error = warm(page, args.timeout)
        took = time.perf_counter() - start
        print(f"warm: {page} {'failed: ' + error if error else 'done'} in {took:.1f} s", flush=True)
        code = code or (1 if error else 0)
    return max(code, asyncio.run(warm_replicas(args.replica, args.timeout)))


if __name__ == "__main__":
    sys.exit(main())
