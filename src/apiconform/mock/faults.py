"""Faults: transport-level misbehaviour wrapped around the mock (ASGI middleware), `NAME[:ARG]`.

Unlike drifts (contract deviations in well-formed answers), faults break the HTTP exchange
itself, to prove the runner reports them as findings and keeps every other result.
"""

from __future__ import annotations

import asyncio
import gzip
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from apiconform.errors import UsageError

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class FaultSpec:
    name: str
    description: str
    default: str | None
    make: Callable[[ASGIApp, str | None, random.Random], ASGIApp]


FAULTS: dict[str, FaultSpec] = {}


def fault(name: str, description: str, default: str | None = None) -> Callable[..., Any]:
    def register(make: Callable[[ASGIApp, str | None, random.Random], ASGIApp]) -> Any:
        FAULTS[name] = FaultSpec(name, description, default, make)
        return make

    return register


async def _send_simple(send: Any, status: int, body: bytes, content_type: str, extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _http_only(wrapper: Callable[[dict[str, Any], Any, Any], Awaitable[None]], app: ASGIApp) -> ASGIApp:
    async def middleware(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
        else:
            await wrapper(scope, receive, send)

    return middleware


async def _capture(app: ASGIApp, scope: dict[str, Any], receive: Any) -> tuple[dict[str, Any], bytes]:
    """Run the app and collect its response start message and full body."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return start, b"".join(chunks)


def _replace_header(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes | None) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() != name]
    return kept + ([(name, value)] if value is not None else [])


def _count(arg: str | None, default: str) -> int:
    """A non-negative integer fault argument, checked when the fault is set up (ValueError: usage error)."""
    value = int(arg or default)
    if value < 0:
        raise ValueError(arg)
    return value


@fault("latency", "delay every answer by ARG milliseconds", "300")
def _latency(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    delay = _count(arg, "300") / 1000

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await asyncio.sleep(delay)
        await app(scope, receive, send)

    return _http_only(wrapper, app)


@fault("intermittent-5xx", "answer 503 to one request in ARG (seeded)", "3")
def _intermittent(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    every = max(1, _count(arg, "3"))

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if rng.randrange(every) == 0:
            await _send_simple(send, 503, b'{"error":"Service Unavailable"}', "application/json")
        else:
            await app(scope, receive, send)

    return _http_only(wrapper, app)


@fault("connection-reset", "drop the connection after the headers, before any body")
def _reset(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")]})
        raise ConnectionResetError("connection reset by mock fault")

    return _http_only(wrapper, app)


@fault("truncated-body", "send only the first half of each body (Content-Length says the full size)")
def _truncated(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        start, body = await _capture(app, scope, receive)
        headers = _replace_header(list(start.get("headers", [])), b"content-length", str(len(body)).encode())
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        raise ConnectionResetError("body truncated by mock fault")

    return _http_only(wrapper, app)


@fault("html-error-page", "answer 200 with an HTML error page instead of JSON")
def _html(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    page = b"<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Something went wrong</h1></body></html>"

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await _send_simple(send, 200, page, "text/html; charset=utf-8")

    return _http_only(wrapper, app)


@fault("429-storm", "answer every request 429 Too Many Requests with Retry-After: ARG", "1")
def _storm(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    retry_after = str(_count(arg, "1")).encode()

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await _send_simple(send, 429, b'{"error":"Too Many Requests"}', "application/json",
                           ((b"retry-after", retry_after),))

    return _http_only(wrapper, app)


@fault("empty-body", "keep status and headers, send no body")
def _empty(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        start, _ = await _capture(app, scope, receive)
        await send({**start, "headers": _replace_header(list(start.get("headers", [])), b"content-length", b"0")})
        await send({"type": "http.response.body", "body": b""})

    return _http_only(wrapper, app)


def _rewrite(app: ASGIApp, change: Callable[[bytes, list[tuple[bytes, bytes]]], tuple[bytes, list[tuple[bytes, bytes]]]]) -> ASGIApp:
    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        start, body = await _capture(app, scope, receive)
        body, headers = change(body, list(start.get("headers", [])))
        headers = _replace_header(headers, b"content-length", str(len(body)).encode())
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return _http_only(wrapper, app)


@fault("invalid-json", "JSON bodies arrive with a syntax error")
def _invalid_json(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    return _rewrite(app, lambda body, headers: ((body[:-1] + b",}") if body else b"{", headers))


@fault("no-content-type", "answers carry no Content-Type header")
def _no_ct(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    return _rewrite(app, lambda body, headers: (body, _replace_header(headers, b"content-type", None)))


@fault("huge-body", "append ARG megabytes of padding inside a JSON string (size-cap test)", "50")
def _huge(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    size = int(float(arg or 50) * 1024 * 1024)
    if size < 0:
        raise ValueError(arg)

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        head, tail = b'{"padding":"', b'"}'
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(head) + size + len(tail)).encode())]})
        await send({"type": "http.response.body", "body": head, "more_body": True})
        chunk = b"x" * (1024 * 1024)
        sent = 0
        while sent < size:
            piece = chunk[: min(len(chunk), size - sent)]
            sent += len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": tail})

    return _http_only(wrapper, app)


@fault("gzip-mislabelled", "gzip-compressed bodies without Content-Encoding (claiming to be plain)")
def _gzip(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    return _rewrite(app, lambda body, headers: (gzip.compress(body), headers))


@fault("non-utf8", "bodies re-encoded as UTF-16 while labelled JSON (not UTF-8)")
def _non_utf8(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    return _rewrite(app, lambda body, headers: (b"\xff\xfe" + body.decode("utf-8", "replace").encode("utf-16-le"), headers))


@fault("slow-drip", "send bodies in 16-byte pieces ARG milliseconds apart", "200")
def _drip(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    delay = _count(arg, "200") / 1000

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        start, body = await _capture(app, scope, receive)
        await send(start)
        for i in range(0, len(body), 16):
            await asyncio.sleep(delay)
            await send({"type": "http.response.body", "body": body[i : i + 16], "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return _http_only(wrapper, app)


@fault("redirect-loop", "answer every request 302 to itself")
def _redirect(app: ASGIApp, arg: str | None, rng: random.Random) -> ASGIApp:
    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        location = path + (b"?" + query if query else b"")
        await _send_simple(send, 302, b"", "text/plain", ((b"location", bytes(location)),))

    return _http_only(wrapper, app)


def list_faults() -> list[FaultSpec]:
    return list(FAULTS.values())


def wrap_faults(app: ASGIApp, names: Iterable[str], seed: int = 0) -> ASGIApp:
    """Wrap `app` in the named faults (`NAME` or `NAME:ARG`, comma-separated allowed)."""
    rng = random.Random(seed)
    for item in names:
        for spec in (s.strip() for s in str(item).split(",")):
            if not spec:
                continue
            name, _, arg = spec.partition(":")
            if name not in FAULTS:
                raise UsageError(f"unknown fault {name!r} (known: {', '.join(FAULTS)})")
            try:
                app = FAULTS[name].make(app, arg or FAULTS[name].default, rng)
            except (ValueError, OverflowError):
                raise UsageError(f"fault {name!r}: invalid argument {arg!r}") from None
    return app
