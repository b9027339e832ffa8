"""Ports for the servers a test starts: whatever the kernel hands out, so concurrent `make test` runs (several
worktrees on one machine, pytest-xdist workers) never fight over a fixed number."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on right now (the kernel's pick; the caller binds it at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
