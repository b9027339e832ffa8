"""HAR 1.2 recordings: one redacted entry per exchange, written and read the same way by every recorder.

Whoever records (`apiconform record`, the proxy, the httpx transport, the pytest fixture) writes the same
shape: the request (method, URL, headers, query, body) and the answer (status, headers, content), every value
passed through the target's `Redactor` (credentials, learned tokens, sensitive keys at any depth). apiconform's
own members start with `_` as HAR allows: `_operation` (the contract's operationId, when one matched),
`_probe` (an auth probe of `apiconform record`).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx

from apiconform.errors import UsageError
from apiconform.redact import Redactor


def token_lifetimes(body: Any) -> dict[str, int]:
    """Seconds each JWT in an answer lives (`exp` - `iat`), by JSON pointer: kept beside the redacted
    recording (`_lifetimes`) so a replay can compare the mock's token lifetimes with the vendor's."""
    import jwt

    from apiconform.contracts import walk

    found: dict[str, int] = {}
    for pointer, value in walk(body):
        if isinstance(value, str) and value.count(".") == 2 and len(value) > 20:
            try:
                claims = jwt.decode(value, options={"verify_signature": False})
            except jwt.InvalidTokenError:
                continue
            exp, iat = claims.get("exp"), claims.get("iat")
            if isinstance(exp, (int, float)):
                import time

                found[pointer] = int(exp - (iat if isinstance(iat, (int, float)) else time.time()))
    return found


def har_entry(request: httpx.Request, response: httpx.Response | None, body: bytes, redactor: Redactor,
              elapsed: float = 0.0, operation: str | None = None, error: str = "") -> dict[str, Any]:
    """One exchange as a redacted HAR entry (`body`: the answer's bytes as the client got them)."""
    red = redactor
    content = request.content.decode("utf-8", "replace") if request.content else ""
    text = body.decode("utf-8", "replace")
    media = (response.headers.get("content-type") or "").split(";")[0].strip().lower() if response is not None else ""
    entry: dict[str, Any] = {
        "startedDateTime": dt.datetime.now(dt.UTC).isoformat(),
        "time": round(elapsed * 1000, 3),
        "request": {
            "method": request.method, "url": red.url(str(request.url)), "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": [{"name": k, "value": red.header(k, v)} for k, v in request.headers.items()],
            "queryString": [{"name": k, "value": red.text(v)} for k, v in request.url.params.multi_items()],
            **({"postData": {"mimeType": request.headers.get("content-type", ""),
                             "text": red.body(content, request.headers.get("content-type"))}} if content else {}),
            "headersSize": -1, "bodySize": len(request.content or b""),
        },
        "response": {
            "status": response.status_code if response is not None else 0,
            "statusText": response.reason_phrase if response is not None else red.text(error),
            "httpVersion": "HTTP/1.1", "cookies": [], "redirectURL": "", "headersSize": -1, "bodySize": len(body),
            "headers": [{"name": k, "value": red.header(k, v)} for k, v in (response.headers.items() if response is not None else [])],
            "content": {"size": len(body), "mimeType": media, "text": red.body(text, media) if text else ""},
        },
        "cache": {}, "timings": {"send": 0, "wait": round(elapsed * 1000, 3), "receive": 0},
    }
    if operation is not None:
        entry["_operation"] = operation
    if "json" in media and b"." in body:
        try:
            lifetimes = token_lifetimes(json.loads(text))
        except ValueError:
            lifetimes = {}
        if lifetimes:
            entry["_lifetimes"] = lifetimes
    return entry


def write_cassette(path: Path, vendor: str, entries: list[dict[str, Any]]) -> None:
    """A HAR 1.2 file; `_vendor` names the contract the entries were judged against."""
    from apiconform import __version__

    har = {"log": {"version": "1.2", "creator": {"name": "apiconform", "version": __version__},
                   "comment": f"apiconform cassette for {vendor}", "_vendor": vendor, "entries": entries}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(har, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def read_cassette(path: Path) -> tuple[str | None, list[dict[str, Any]]]:
    """(the vendor it names, its entries) of any HAR file (a browser's or another tool's as well)."""
    try:
        har = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = har["log"]["entries"]
        if not isinstance(entries, list) or not all(isinstance(e, dict) and "request" in e and "response" in e
                                                    for e in entries):
            raise ValueError("entries without request/response")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a HAR cassette ({type(exc).__name__}: {exc})") from None
    return har["log"].get("_vendor"), list(entries)


__all__ = ["har_entry", "read_cassette", "write_cassette"]
