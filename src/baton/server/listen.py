"""The server's listening socket, bound before anything else starts."""

from __future__ import annotations

import errno
import socket

from baton.errors import StartupError


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen now, so a port in use is reported before anything else starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"Port {port} on {host} is already in use (another Baton or Prefect server?). "
                f"Start on another port with --port, e.g. `baton server start --port {port + 1}`."
            ) from None
        if exc.errno == errno.EACCES:
            raise StartupError(
                f"Not allowed to listen on port {port}; choose a port above 1023 with --port."
            ) from None
        raise StartupError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
