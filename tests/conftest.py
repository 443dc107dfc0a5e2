"""Test-wide setup: the same one-thread BLAS as the app (ui/runtime.py), so timings and the
numerics match what the server does; EoS trainings awaited within AppTest's run; and a real app
server for the protocol-level tests."""

import pytest

import ui.runtime  # noqa: F401
from loadtest.client import ROOT, start_server
from ui import eos_jobs

# AppTest has no browser to poll a training's progress box (ui/eos_jobs.py): a run that starts a training
# waits for it here, so that the run after a click shows its result. Servers started by tests (their own
# processes) answer at once, as deployed; tests/test_eos_jobs.py checks that path in-process too.
eos_jobs.WAIT_SECONDS = 120.0


@pytest.fixture(scope="module")
def app_server():
    """`streamlit run app.py` on a free loopback port, one per test module, for the tests that speak
    Streamlit's protocol to it (loadtest/client.py)."""
    s = start_server(ROOT / "app.py")
    yield s
    s.stop()
