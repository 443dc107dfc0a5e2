"""ui.runtime's process-wide settings."""

import os
import socket

import pytest

from ui import runtime


def test_no_delay_reaches_a_listening_socket_and_what_it_accepts():
    """Streamlit's server makes its own listening socket, without TCP_NODELAY: no_delay sets it, on the
    socket itself (not on a copy) and so on the connections it accepts from then on."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    try:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        assert runtime.no_delay() >= 1
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        with socket.create_connection(listener.getsockname()):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        listener.close()


def test_no_delay_leaves_every_descriptor_as_it_was():
    """It touches the process's own descriptors: a copy left open keeps a pipe's end alive (a first version left
    one per pipe, and the test run hung at exit waiting for the browser driver's pipe to close)."""
    read_end, write_end = os.pipe()
    try:
        before = sorted(os.listdir("/proc/self/fd"))
        runtime.no_delay()
        assert sorted(os.listdir("/proc/self/fd")) == before
        os.close(write_end)
        write_end = None
        assert os.read(read_end, 1) == b""  # the writer's only end is closed: end of file, not a wait
    finally:
        os.close(read_end)
        if write_end is not None:
            os.close(write_end)


def test_magic_is_off_and_no_page_relies_on_it():
    """.streamlit/config.toml turns magic off (its ast.parse on each page compile raced another thread's in
    CPython 3.11 under a class's load): no page may show anything through a bare expression."""
    import ast
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["magicEnabled"] is False
    for script in [root / "app.py", *sorted((root / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.Expr) and not isinstance(node.value, ast.Call | ast.Await):
                # a docstring is the only expression statement allowed (magic never showed those)
                assert isinstance(node.value, ast.Constant) and isinstance(node.value.value, str), (script, node.lineno)


def test_no_page_script_decorates_a_cached_function():
    """A st.cache_* decorator in a page script runs on every run of the page, and Streamlit reads and tokenizes
    the function's source each time to key it: the pages' caches are in ui/cached.py, decorated once."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent

    def cache_decorators(script):
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.FunctionDef):
                yield from (ast.unparse(d) for d in node.decorator_list if "cache_" in ast.unparse(d))

    for script in [root / "app.py", *sorted((root / "pages").glob("*.py"))]:
        assert not list(cache_decorators(script)), script.name
    assert len(list(cache_decorators(root / "ui" / "cached.py"))) == 7


def test_the_gil_switch_interval_lets_a_run_finish_in_one_turn():
    """A session's run (15–40 ms of CPU) keeps the GIL until it waits or 50 ms pass: a burst of runs on one
    replica is then served first come first served instead of in 5 ms turns."""
    import sys

    assert sys.getswitchinterval() == pytest.approx(runtime.SWITCH_INTERVAL) and runtime.SWITCH_INTERVAL >= 0.04
