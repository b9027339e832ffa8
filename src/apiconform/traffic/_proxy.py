"""`apiconform proxy`: a recording, validating reverse proxy on loopback in front of a vendor.

Any client (a team's integration tests, a vendor SDK, curl) is pointed at the proxy instead of the vendor. Each
request goes to the target as it came (hop-by-hop headers aside, `Host` the target's), the answer goes back to
the client, and the exchange as the vendor saw it is judged against the contract and recorded (`TrafficJudge`).
Absolute links to the target in answers (`next`, `Location`) are rewritten to the proxy, so a client that
follows them stays on the record.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

from apiconform.traffic._judge import TrafficJudge

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: RFC 9110 §7.6.1 hop-by-hop headers, plus what httpx recomputes for the body it forwards.
_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length"}
_TEXT_MEDIA = ("json", "text/", "xml", "javascript")


class ProxyApp:
    """The ASGI app: forward to `target`, answer the client, judge and record the exchange."""

    def __init__(self, judge: TrafficJudge, target: str, public_url: str = "",
                 transport: httpx.AsyncBaseTransport | None = None, timeout: float = 60.0) -> None:
        self.judge = judge
        self.target = target.rstrip("/")
        self.public_url = public_url.rstrip("/")
        self.transport = transport
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self.transport, timeout=self.timeout, follow_redirects=False)
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        url = self.target + raw_path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.decode("latin-1").lower() not in _HOP]
        request = self.client().build_request(scope["method"], url, headers=headers, content=body)
        began = time.monotonic()
        try:
            response = await self.client().send(request)
        except httpx.HTTPError as exc:
            self.judge.observe(request, None, b"", time.monotonic() - began, error=f"{type(exc).__name__}: {exc}")
            await _answer(send, 502, [("content-type", "text/plain; charset=utf-8")],
                          f"apiconform proxy: the target {self.target} did not answer ({type(exc).__name__})".encode())
            return
        elapsed = time.monotonic() - began
        self.judge.observe(request, response, response.content, elapsed)
        out = [(k, v) for k, v in response.headers.multi_items()
               if k.lower() not in _HOP | {"content-encoding"}]  # the body is forwarded decoded
        content = response.content
        if self.public_url:
            out = [(k, self._relink(v)) for k, v in out]  # Location, Link, a vendor's own (a next-page URL header)
            media = response.headers.get("content-type", "")
            if any(t in media for t in _TEXT_MEDIA):
                content = self._relink(content.decode(response.encoding or "utf-8", "replace")).encode(
                    response.encoding or "utf-8")
        await _answer(send, response.status_code, out, content)

    def _relink(self, text: str) -> str:
        return text.replace(self.target, self.public_url) if self.public_url else text

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


async def _answer(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def proxy_server(judge: TrafficJudge, target: str, host: str = "127.0.0.1", port: int = 0) -> Any:
    """The proxy served by uvicorn on loopback in a background thread (the mock's server, any ASGI app):
    `with proxy_server(judge, URL) as base_url: ...`."""
    from apiconform.mock import MockServer, free_port

    port = port or free_port(host)
    return MockServer(ProxyApp(judge, target, public_url=f"http://{host}:{port}"), host, port)


def serve_proxy(judge: TrafficJudge, target: str, host: str = "127.0.0.1", port: int = 8200) -> None:
    """Serve in the foreground until interrupted (the `apiconform proxy` command)."""
    import uvicorn

    app = ProxyApp(judge, target, public_url=f"http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)


__all__ = ["ProxyApp", "proxy_server", "serve_proxy"]
