"""Pluggable transports: the in-process ASGI transport used for embedded mocks.

httpx ships an async-only ASGI transport; the suites are synchronous (pytest, hypothesis), so
this adapter drives it on a private event loop, except for a mock without fault middleware: its
synchronous `answer_scope` takes the scope httpx would build and returns what the ASGI call would send
(no loop, no ASGI messages: ~half of an embedded request's cost went there). App crashes surface as `httpx.TransportError`,
exactly as a dropped connection would over real HTTP, so verdicts are the same in-process and
over the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import httpx


class SyncASGITransport(httpx.BaseTransport):
    """Call an ASGI app in-process from a synchronous `httpx.Client`."""

    def __init__(self, app: Any, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.app = app
        self._inner = httpx.ASGITransport(app=app, raise_app_exceptions=True, client=client)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _run(self, coro: Any) -> Any:
        """Run `coro` on the private loop. A SIGINT/SIGTERM (`engine._stop`: RunInterrupted) may land anywhere:
        never inside the loop's construction or the task's creation (deferred to the end of that block: a half-built
        loop's `__del__` printed "Exception ignored in BaseEventLoop.__del__ ... no attribute '_ssock'"), and when it
        cuts the request short, the request's task is cancelled and finished, and its exception consumed, before the
        interruption goes on (a task left behind printed "Task was destroyed but it is pending!" or "Task exception
        was never retrieved" with a traceback at exit)."""
        from apiconform.engine._stop import shielded

        with self._lock:
            task = None
            try:
                with shielded():  # an interruption during the block is raised at its end: the task exists by then
                    if self._loop is None or self._loop.is_closed():
                        self._loop = asyncio.new_event_loop()
                    loop = self._loop
                    task = loop.create_task(coro)
                return loop.run_until_complete(task)
            except BaseException:
                with shielded():  # the clean-up itself is never cut short by a first signal
                    if task is None:
                        coro.close()  # never scheduled
                    elif not task.done():
                        task.cancel()
                        with contextlib.suppress(BaseException):
                            loop.run_until_complete(task)
                    if task is not None and task.done() and not task.cancelled():
                        task.exception()  # the interruption that ended the task goes on from here, not logged at exit
                raise

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = getattr(self.app, "answer_scope", None)  # a mock without fault middleware answers without an event loop
        if answer is not None:
            try:
                with self._lock:
                    status, headers, body = answer(self._scope(request), request.read())
            except Exception as exc:  # the app died mid-answer: a broken connection, as through ASGI
                raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}", request=request) from exc
            if request.method == "HEAD":
                body = b""
            headers = [(k, v) for k, v in headers if k.lower() != b"transfer-encoding"]
            return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request)

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            request.read()
            response = await self._inner.handle_async_request(request)
            try:
                body = await response.aread()
            finally:
                await response.aclose()
            return response.status_code, response.headers.raw, body

        try:
            status, headers, body = self._run(call())
        except httpx.TransportError:
            raise
        except Exception as exc:  # the app died mid-answer: what a client sees is a broken connection
            raise httpx.RemoteProtocolError(f"{type(exc).__name__}: {exc}", request=request) from exc
        headers = [(k, v) for k, v in headers if k.lower() != b"transfer-encoding"]
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request)

    def _scope(self, request: httpx.Request) -> dict[str, Any]:
        """The ASGI scope httpx.ASGITransport builds for `request` (httpx/_transports/asgi.py), field for field."""
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self._inner.client,
            "root_path": self._inner.root_path,
        }

    def close(self) -> None:
        """Close the private loop, never half-way: a signal landing inside `loop.close()` (after its self-pipe was
        closed, before it was marked closed) left a loop whose `__del__` printed an AttributeError at exit."""
        from apiconform.engine._stop import shielded

        with self._lock, shielded():
            if self._loop is not None and not self._loop.is_closed():
                self._loop.close()
