"""Warm a fresh deployment before the class arrives: what a first visit to the Edge of Stability page
computes (its default run and the gradient-flow comparison: 2–5 s of CPU) goes into the replicas'
shared run store, so neither the first visitor nor a session moved by a failover waits for it.

    EOS_RUN_DIR=/path/to/runs python deploy/warm.py [--page eos] [--timeout 120]

deploy/serve.py runs it while the replicas start. It opens the page with Streamlit's own test runner
(AppTest): the page's own code, the same configuration and store keys as a visitor's first visit, no
browser and no server. Exit 0 when the page ran without an exception; the time is printed.
"""

from __future__ import annotations

import argparse
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

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.switch_page(f"pages/{page}.py")
    at.run()
    return str(at.exception[0].value) if at.exception else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--page", action="append", help="a page to open (default: eos); repeat for more")
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
    return code


if __name__ == "__main__":
    sys.exit(main())
