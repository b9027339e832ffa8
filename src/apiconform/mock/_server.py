"""Serving a mock over real HTTP (uvicorn in a background thread) for curl, clients and parity tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import uvicorn

from apiconform.contracts import load_contract
from apiconform.mock._app import MockApp, build_app


def mock_app(vendor: str, drifts: Iterable[str] = (), faults: Iterable[str] = (), seed: int = 0,
             rate_limit: int | None = None) -> Any:
    """The ASGI app of a vendor's mock by name (contract loaded once per process)."""
    return build_app(load_contract(vendor), drifts=drifts, faults=faults, seed=seed, rate_limit=rate_limit)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free on `host` right now (MockServer's default, and what `apiconform mock --port 0` serves on)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class MockServer:
    """A uvicorn server on loopback in a daemon thread; `with MockServer(app) as base_url: ...`."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port or free_port(host)
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning", lifespan="off", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"mock server did not start on {self.base_url}")
            time.sleep(0.02)
        return self.base_url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(app: Any, host: str = "127.0.0.1", port: int = 8100) -> None:
    """Serve in the foreground until interrupted (the `apiconform mock` command)."""
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="off")


__all__ = ["MockApp", "MockServer", "free_port", "mock_app", "serve"]
