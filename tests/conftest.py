"""Test-wide setup: the same one-thread BLAS as the app (ui/runtime.py), so timings and the
numerics match what the server does; and a real app server for the protocol-level tests."""

import pytest

import ui.runtime  # noqa: F401
from loadtest.client import ROOT, start_server


@pytest.fixture(scope="module")
def app_server():
    """`streamlit run app.py` on a free loopback port, one per test module, for the tests that speak
    Streamlit's protocol to it (loadtest/client.py)."""
    s = start_server(ROOT / "app.py")
    yield s
    s.stop()
