"""Hostile vendors for the hardening tests and the benchmark: loopback ASGI apps posing as live APIs.

`Echo` answers every request by echoing every secret it knows (planted credentials, the tokens it issued
at login, whatever credential-looking value crossed the wire) in one of many encodings and places: body
fields, keys, error messages, headers, `\\uXXXX` escapes, base64, URL-encoding, non-JSON bodies, and
repeated so that every truncation boundary (80, 300, 4096 bytes) falls inside a copy.
`leak_forms` gives every form a scanner must look for (raw, escaped, base64, URL-encoded, 8-char partials).
"""

from __future__ import annotations

import base64
import json
import re
import secrets as _secrets
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, quote, quote_plus

WIRE_HEADERS = (b"authorization", b"x-session-token", b"x-api-key", b"cookie")
WIRE_PARAMS = ("api_id", "api_key", "token", "key", "access_token")  # an HMAC `sig` is a one-off MAC, no credential
_JWT = re.compile(r"^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def _esc(s: str, upper: bool = False) -> str:
    return "".join(f"\\u{ord(c):04X}" if upper else f"\\u{ord(c):04x}" for c in s)


def _pct(s: str, upper: bool = True) -> str:
    return "".join(f"%{b:02X}" if upper else f"%{b:02x}" for b in s.encode())


def _b64_cores(s: str) -> set[str]:
    """The base64 characters that depend only on `s`, at each of the three byte alignments."""
    raw = s.encode()
    out: set[str] = set()
    for k in range(3):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            text = enc(b"\0" * k + raw).decode().rstrip("=")
            start, end = -(-8 * k // 6), (8 * (k + len(raw))) // 6
            out.add(text[start:end])
    return out


def leak_forms(secret: str, partial: int = 8) -> dict[str, str]:
    """form -> how it is encoded: every way a secret could surface in an output."""
    forms: dict[str, str] = {json.dumps(secret)[1:-1]: "json", quote(secret, safe=""): "url", quote_plus(secret): "url+",
                             _pct(secret): "pct", _pct(secret, False): "pct-lower",
                             _esc(secret): "\\u-escaped", _esc(secret, True): "\\U-escaped", secret: "raw"}
    for core in _b64_cores(secret):
        forms.setdefault(core, "base64")
    for i in range(len(secret) - partial + 1):
        forms.setdefault(secret[i:i + partial], "partial")
    return forms


def scan(texts: dict[str, str], secret_values: Iterable[str]) -> list[tuple[str, str, str]]:
    """(where, kind, secret prefix) for every form of every secret found in any text."""
    hits = []
    for where, text in texts.items():
        for value in secret_values:
            forms = leak_forms(value)
            for form, kind in sorted(forms.items(), key=lambda kv: -len(kv[0])):
                if kind == "partial" or form not in text:
                    continue
                hits += [(where, kind, value[:6] + "…")] * text.count(form)
                text = text.replace(form, "\0")  # a full copy is one leak, not also its partials
            partial = {form for form, kind in forms.items() if kind == "partial"}
            starts = {i for form in partial for i in _find_all(text, form)}
            hits += [(where, "partial", value[:6] + "…")] * len(starts)
    return hits


def _find_all(text: str, form: str) -> list[int]:
    out, i = [], text.find(form)
    while i >= 0:
        out.append(i)
        i = text.find(form, i + 1)
    return out


def _scenarios() -> list[Callable[[list[str]], tuple[int, list[tuple[str, str]], bytes]]]:
    j = "application/json"

    def fields(s: list[str]) -> Any:
        return 200, [("content-type", j)], json.dumps({"id": s[0], "name": s[-1], "data": s, "total": s[0]}).encode()

    def keys(s: list[str]) -> Any:
        return 200, [("content-type", j)], json.dumps({v: {v: 1} for v in s}).encode()

    def error(s: list[str]) -> Any:
        text = "invalid credential " + ", ".join(s)
        return 400, [("content-type", j)], json.dumps({"error": text, "message": text, "errors": [{"detail": v} for v in s]}).encode()

    def headers(s: list[str]) -> Any:
        h = [("content-type", "text/html")]
        for v in s:
            h += [("x-echo", v), ("www-authenticate", f'Bearer realm="{v}"'), ("location", f"http://h.invalid/?token={v}&x={v}"),
                  ("set-cookie", f"sid={v}; Path=/"), ("link", f'<http://h.invalid/p?page=2&x={v}>; rel="next"'),
                  ("x-debug", f"auth={v}")]
        return 200, h, b"<html>" + " ".join(s).encode() + b"</html>"

    def escaped(s: list[str]) -> Any:
        body = "{" + ", ".join(f'"f{i}": "{_esc(v, i % 2 == 1)}"' for i, v in enumerate(s)) + ', "id": "' + _esc(s[0]) + '"}'
        return 200, [("content-type", j)], body.encode()

    def b64(s: list[str]) -> Any:
        out: dict[str, Any] = {}
        for i, v in enumerate(s):
            out[f"a{i}"] = base64.b64encode(v.encode()).decode()
            out[f"b{i}"] = base64.b64encode(f"user:{v}".encode()).decode()
            out[f"c{i}"] = base64.urlsafe_b64encode(f"Bearer  {v}".encode()).decode()
        out["id"] = base64.b64encode(s[0].encode()).decode()
        return 422, [("content-type", j)], json.dumps(out).encode()

    def urlenc(s: list[str]) -> Any:
        out = {f"u{i}": f"http://h.invalid/?q={quote(v, safe='')}&r={quote_plus(v)}&p={_pct(v)}" for i, v in enumerate(s)}
        out["id"] = _pct(s[0], False)
        return 200, [("content-type", j)], json.dumps(out).encode()

    def plain(s: list[str]) -> Any:
        return 500, [("content-type", "text/plain")], ("internal error, token=" + " token ".join(s)).encode()

    def not_json(s: list[str]) -> Any:
        return 200, [("content-type", j)], ("{oops " + " ".join(s)).encode()

    def repeated(s: list[str]) -> Any:  # every cut (80, 300, 4096 bytes) falls inside some copy
        items, size, i = [], 0, 0
        while size < 6000:
            v = s[i % len(s)] + "x" * (i % 3)
            items.append(v)
            size += len(v) + 4
            i += 1
        return 200, [("content-type", j)], json.dumps(items).encode()

    def repeated_text(s: list[str]) -> Any:
        parts, i = [], 0
        while sum(len(p) for p in parts) < 6000:
            parts.append(s[i % len(s)] + "-" * (i % 5))
            i += 1
        return 200, [("content-type", j)], ("<" + "".join(parts)).encode()

    def deep(s: list[str]) -> Any:
        return 200, [("content-type", j)], ("[" * 600 + json.dumps(s) + "]" * 600).encode()

    return [fields, keys, error, headers, escaped, b64, urlenc, plain, not_json, repeated, repeated_text, deep]


SCENARIOS = _scenarios()


class Echo:
    """A hostile vendor: logs in anyone (issuing opaque tokens), then echoes every secret it knows."""

    def __init__(self, planted: Iterable[str], login_paths: Iterable[str] = (), refresh_paths: Iterable[str] = (),
                 scenarios: list[Any] | None = None) -> None:
        self.scenarios = scenarios or SCENARIOS
        self.known: list[str] = [v for v in planted if v]
        self.issued: list[str] = []
        self.wire: set[str] = set()
        self.login_paths, self.refresh_paths = set(login_paths), set(refresh_paths)
        self.calls = 0

    def _learn(self, scope: dict[str, Any], body: bytes) -> None:
        for name, value in scope.get("headers") or []:
            if name.lower() in WIRE_HEADERS:
                token = value.decode("latin-1").split(" ")[-1].split("=")[-1]
                self._note(token)
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
            if name in WIRE_PARAMS:
                self._note(value)

    def _note(self, value: str) -> None:
        if len(value) >= 8 and not value.startswith("wrong-") and not _JWT.match(value):
            self.wire.add(value)

    def secrets(self) -> list[str]:
        """Everything a run must never print: planted, issued at run time, seen on the wire."""
        return sorted(set(self.known) | set(self.issued) | self.wire)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.calls += 1
        self._learn(scope, body)
        path = scope["path"]
        if path in self.login_paths or path in self.refresh_paths:
            access, refresh = "opq" + _secrets.token_hex(12), "opr" + _secrets.token_hex(12)
            self.issued += [access, refresh]
            status, headers, payload = 200, [("content-type", "application/json")], json.dumps(
                {"token": {"access_token": access, "refresh_token": refresh}}).encode()
        else:
            echo = self.secrets() or ["nothing-to-echo"]
            status, headers, payload = self.scenarios[self.calls % len(self.scenarios)](echo)
        raw = [(k.encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers]
        raw.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": payload})


def auth_paths(vendor: str) -> tuple[list[str], list[str]]:
    """Login and refresh paths of a vendor's jwt-login scheme (relative to its base URL)."""
    from apiconform.contracts import load_contract

    logins, refreshes = [], []
    for scheme in load_contract(vendor).security_schemes.values():
        config = scheme.get("x-apiconform-auth") or {}
        if config.get("login"):
            logins.append(str(config["login"]))
        if config.get("refresh"):
            refreshes.append(str(config["refresh"]))
    return logins, refreshes


def planted_credentials(vendor: str) -> dict[str, str]:
    """Random credentials (unguessable, so a hit is never a coincidence) for each field of the vendor's flow."""
    from apiconform.auth import CREDENTIAL_FIELDS, flow_of, select_scheme
    from apiconform.contracts import load_contract

    picked = select_scheme(load_contract(vendor))
    flow = flow_of(picked[1]) if picked else None
    return {f: "Zq" + _secrets.token_hex(10) for f in CREDENTIAL_FIELDS.get(flow or "", ())}


VENDORS = ["eduframe", "ctrlhub", "cofe-cms", "goodstack", "tesla-ce"]
URL_SECRET = "Zq" + "u5e7c0ffee42aa"  # a key embedded in one --target URL's query


def leak_probe(tmp: Any, scenarios: list[Any] | None = None, extra: Iterable[str] = ()) -> dict[str, Any]:
    """The full gate (every vendor, every suite, all five auth flows) against echoing hostile vendors;
    every output file and stream scanned. Runs in the current process (cwd and env changed, then restored)."""
    import os
    from pathlib import Path

    from click.testing import CliRunner

    from apiconform.cli import main
    from apiconform.mock import MockServer

    tmp = Path(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    servers, echoes, lines, args, env_names = [], {}, [], [], []
    for vendor in VENDORS:
        creds = planted_credentials(vendor)
        login, refresh = auth_paths(vendor)
        in_url = [URL_SECRET] if vendor == "goodstack" else []
        echo = Echo([*creds.values(), *in_url], login, refresh, scenarios)
        server = MockServer(echo)
        url = server.start()
        servers.append(server)
        echoes[vendor] = echo
        env = {f: f"APICONFORM_PROP_{vendor.upper().replace('-', '_')}_{f.upper()}" for f in creds}
        for f, name in env.items():
            os.environ[name] = creds[f]
            env_names.append(name)
        pairs = ", ".join(f'{f} = "{name}"' for f, name in env.items())
        lines.append(f"[targets.{vendor}]\ncredentials = {{ {pairs} }}\nrate = 1000\nmax_requests = 5000\n")
        args += ["--target", f"{vendor}={url}/?api_key={URL_SECRET}" if vendor == "goodstack" else f"{vendor}={url}"]
    (tmp / "apiconform.toml").write_text("\n".join(lines), encoding="utf-8")
    reports = tmp / "reports"
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        result = CliRunner().invoke(main, ["run", *VENDORS, *args, "--allow-writes", "--max-examples", "2", "--seed", "3",
                                           "--no-allure", "--no-progress", "--reports-dir", str(reports), *extra])
    finally:
        os.chdir(cwd)
        for server in servers:
            server.stop()
        for name in env_names:
            os.environ.pop(name, None)
    secrets = sorted({s for e in echoes.values() for s in e.secrets()})
    files = [p for p in reports.rglob("*") if p.is_file()]
    texts = {str(p.relative_to(tmp)): p.read_bytes().decode("utf-8", "replace") for p in files}
    texts |= {"<stdout>": result.output, "<stderr>": result.stderr}
    return {"exit_code": result.exit_code, "output": result.output + result.stderr, "secrets": secrets,
            "issued": sum(len(e.issued) for e in echoes.values()), "files": files, "texts": texts,
            "hits": scan(texts, secrets), "requests": sum(e.calls for e in echoes.values())}
