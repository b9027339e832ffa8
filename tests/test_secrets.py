"""Secrets never surface: planted credentials of every vendor, a full gate run with writes and drifts
(so findings with reproduction curls exist), and not one planted value — nor a JWT the TeSLA mock
issued, nor an HMAC signature, nor a session token seen on the wire — in any report file
(allure-results included) or in the captured stdout/stderr.

"Live" targets are MockServers of each vendor whose Behaviour accepts only the planted values;
the run reads them from environment variables named in a tmp apiconform.toml.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus

import pytest
from click.testing import CliRunner

from apiconform.cli import main
from apiconform.mock import MockServer, mock_app
from apiconform.redact import Redactor

PLANTED: dict[str, dict[str, str]] = {
    "eduframe": {"token": "PLANTEDeduBearer7f3a9c11"},
    "ctrlhub": {"api_key": "PLANTEDctrlSession55e1aa"},
    "cofe-cms": {"api_id": "PLANTEDcofeId81b2", "api_key": "PLANTEDcofeHmacKeyC4d0"},
    "goodstack": {"api_key": "sk_PLANTEDgoodKey93aa"},
    "tesla-ce": {"role_id": "PLANTEDteslaRole1d2e", "secret_id": "PLANTEDteslaSecret6f7a"},
}
SERVER_ONLY = {"tesla-ce": {"jwt_secret": "PLANTEDteslaSigningKey0123456789abcdef"}}  # never configured client side
OPERATIONS = [
    "list_accounts", "create_account", "get_account",
    "list_providers", "create_provider_enrolment", "read_provider_enrolment", "login_approle",
    "create_contact_course", "create_qualification_award", "create_eligibility_subscription",
]
DRIFTS = ["field-type-changed", "error-shape-changed"]
_JWT = re.compile(rb"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class Wiretap:
    """ASGI middleware keeping every secret that crossed the wire: signatures, tokens, issued JWTs."""

    def __init__(self, app: Any, seen: set[str]) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
            if name in ("sig", "api_id"):
                self.seen.add(value)
        for name, value in scope.get("headers") or []:
            if name.lower() in (b"authorization", b"x-session-token"):
                token = value.decode("latin-1").split(" ")[-1]
                self.seen.add(token)

        async def tap(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body":
                self.seen.update(m.decode() for m in _JWT.findall(message.get("body", b"")))
            await send(message)

        await self.app(scope, receive, tap)


def _forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value)}


@pytest.fixture
def planted_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    seen: set[str] = set()
    servers, urls, lines = [], {}, []
    for vendor, creds in PLANTED.items():
        app = mock_app(vendor, drifts=DRIFTS)
        engine = getattr(app, "mock", app)
        accepted = {**creds, **SERVER_ONLY.get(vendor, {})}
        engine.behaviour.credentials = lambda accepted=accepted: dict(accepted)
        server = MockServer(Wiretap(app, seen))
        urls[vendor] = server.start()
        servers.append(server)
        env = {field: f"APICONFORM_TEST_{vendor.upper().replace('-', '_')}_{field.upper()}" for field in creds}
        for field, name in env.items():
            monkeypatch.setenv(name, creds[field])
        pairs = ", ".join(f'{field} = "{name}"' for field, name in env.items())
        lines.append(f'[targets.{vendor}]\ncredentials = {{ {pairs} }}\nrate = 1000\nmax_requests = 2000\n'
                     'redact = ["X-Tenant"]\n')
    (tmp_path / "apiconform.toml").write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    yield urls, seen, tmp_path
    for server in servers:
        server.stop()


def test_no_secret_reaches_any_report_or_output(planted_targets: Any, capfd: pytest.CaptureFixture[str]) -> None:
    urls, seen, tmp = planted_targets
    reports = tmp / "reports"
    args = ["run", *PLANTED, "--allow-writes", "--max-examples", "2", "--seed", "11", "--no-allure", "--no-progress",
            "--reports-dir", str(reports)]
    for vendor, url in urls.items():
        args += ["--target", f"{vendor}={url}"]
    for op in OPERATIONS:
        args += ["--operation", op]
    result = CliRunner().invoke(main, args)
    captured = capfd.readouterr()
    assert result.exit_code == 1, result.output + captured.err  # the drifts produce findings

    # the run did exercise every flow: signatures, session tokens and issued JWTs crossed the wire
    assert any(_JWT.fullmatch(s.encode()) for s in seen), "the TeSLA mock issued no JWT"
    assert len(seen) > 5

    secrets = {v for creds in PLANTED.values() for v in creds.values()}
    secrets |= {v for creds in SERVER_ONLY.values() for v in creds.values()}
    secrets |= {s for s in seen if len(s) >= 8}
    forms = {form for s in secrets for form in _forms(s)}

    files = [p for p in reports.rglob("*") if p.is_file()]
    assert any(p.parent.name == "allure-results" for p in files) and (reports / "run.json").is_file()
    assert (reports / "junit.xml").is_file() and (reports / "matrix.md").is_file()
    corpus = {str(p.relative_to(tmp)): p.read_bytes().decode("utf-8", "replace") for p in files}
    corpus["<cli output>"] = result.output
    corpus["<stderr of the cli>"] = result.stderr
    corpus["<captured stdout>"] = captured.out
    corpus["<captured stderr>"] = captured.err
    leaks = sorted({(name, form[:12] + "...") for name, text in corpus.items() for form in forms if form in text})
    assert not leaks, f"secrets leaked: {leaks[:10]}"
    jwts = sorted({name for name, text in corpus.items() if _JWT.search(text.encode())})
    assert not jwts, f"JWT-looking strings in {jwts}"

    # findings really carry reproduction commands, with the credential slots masked
    matrix = (reports / "matrix.md").read_text(encoding="utf-8")
    run_json = (reports / "run.json").read_text(encoding="utf-8")
    assert "curl " in run_json and "[REDACTED]" in run_json
    assert "[REDACTED]" in matrix or "curl" not in matrix


def test_configured_extra_names_are_redacted() -> None:
    redactor = Redactor(["PLANTEDvalue123"], extra_names=["X-Tenant"])
    curl = redactor.curl("GET", "https://api.example/x?x-tenant=acme-7&ok=1", {"X-Tenant": "acme-7", "Accept": "json"})
    assert "acme-7" not in curl and "ok=1" in curl
    assert redactor.text("failed: PLANTEDvalue123") == "failed: [REDACTED]"
