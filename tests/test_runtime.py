"""ui.runtime's process-wide settings."""

import os
import socket

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
