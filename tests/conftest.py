"""Test-wide setup: the same one-thread BLAS as the app (ui/runtime.py), so timings and the
numerics match what the server does."""

import ui.runtime  # noqa: F401
