"""One overall deadline per request (connect + headers + body), on top of httpx's per-read timeouts.

A vendor dripping one byte a second never trips a read timeout; every socket operation here is given at
most the time left before the request's deadline, so the whole exchange is bounded. The deadline is a
context variable set around one send (`within(seconds)`); connections opened by the pool carry the
wrapper, so reused keep-alive connections are bounded too.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpcore
import httpx

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("apiconform_deadline", default=None)


def remaining() -> float | None:
    """Seconds left before the current request's deadline (None: no deadline set)."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


def exceeded() -> bool:
    left = remaining()
    return left is not None and left <= 0


@contextlib.contextmanager
def within(seconds: float) -> Iterator[None]:
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    left = remaining()
    if left is None:
        return timeout
    if left <= 0:
        raise error("request deadline exceeded")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        if ssl_context is _UNLOADED:  # this process's first TLS connection: the real context is built now
            ssl_context = _ssl_context()
        return _Stream(self.inner.start_tls(ssl_context, server_hostname, _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self.inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _Stream(self.inner.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout), local_address,
                                              socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Any = None) -> httpcore.NetworkStream:
        return _Stream(self.inner.connect_unix_socket(path, _bounded(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's CAs, `SSL_CERT_FILE`/`SSL_CERT_DIR` honoured), built once per process
    when its first TLS connection opens: loading the CA bundle costs 40-80 ms, and a run against an http:// target
    or an embedded mock never needs it. ALPN as httpcore sets it for HTTP/1.1 (this transport never speaks HTTP/2)."""
    context = httpx.create_ssl_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


#: The context every transport is built with: `_Stream.start_tls` replaces it by `_ssl_context()`. Should it ever
#: reach a handshake it fails closed (certificates required, no CA loaded), never connects unverified.
_UNLOADED = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def transport() -> httpx.HTTPTransport:
    """httpx's HTTP transport whose every socket operation honours the current request deadline."""
    http = httpx.HTTPTransport(retries=0, verify=_UNLOADED)
    pool = http._pool  # httpcore.ConnectionPool: the network backend is its documented extension point
    pool._network_backend = _Backend(pool._network_backend)
    return http
