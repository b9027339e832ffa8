"""httpx transports that judge and record every exchange of a team's own client (no port, no proxy).

    judge = TrafficJudge("tesla-ce")
    client = httpx.Client(base_url=URL, transport=RecordingTransport(judge))
    ...  # the team's own code, unchanged
    judge.findings, judge.write(har=Path("client.har"), reports_dir=Path("reports"))

The wrapped transport (default: httpx's own) sends the request; the answer is read whole, judged against the
contract and handed back to the client unchanged.
"""

from __future__ import annotations

import time

import httpx

from apiconform.traffic._judge import TrafficJudge


class RecordingTransport(httpx.BaseTransport):
    """Sends through `inner` and lets `judge` judge and record each exchange."""

    def __init__(self, judge: TrafficJudge, inner: httpx.BaseTransport | None = None) -> None:
        self.judge = judge
        self.inner = inner if inner is not None else httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        began = time.monotonic()
        request.read()
        try:
            response = self.inner.handle_request(request)
            response.read()  # whole (decoded): judged here, then read again by the client from memory
        except httpx.TransportError as exc:
            self.judge.observe(request, None, b"", time.monotonic() - began, error=f"{type(exc).__name__}: {exc}")
            raise
        response.request = request
        self.judge.observe(request, response, response.content, time.monotonic() - began)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncRecordingTransport(httpx.AsyncBaseTransport):
    """The same for `httpx.AsyncClient`."""

    def __init__(self, judge: TrafficJudge, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.judge = judge
        self.inner = inner if inner is not None else httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        began = time.monotonic()
        await request.aread()
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        except httpx.TransportError as exc:
            self.judge.observe(request, None, b"", time.monotonic() - began, error=f"{type(exc).__name__}: {exc}")
            raise
        response.request = request
        self.judge.observe(request, response, response.content, time.monotonic() - began)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


__all__ = ["AsyncRecordingTransport", "RecordingTransport"]
