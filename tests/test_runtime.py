"""ui.runtime's process-wide settings."""

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
