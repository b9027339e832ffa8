"""A live target over TLS: the session verifies the vendor's certificate against httpx's default trust (certifi, or
`SSL_CERT_FILE`), with the context built at the first TLS connection (a run against http:// never loads it)."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apiconform.engine import _deadline
from apiconform.engine._session import Session
from apiconform.engine._targets import Safety, http_target
from tests.support.json_handler import JsonHandler

VENDOR, TOKEN = "eduframe", "mock-eduframe-token"


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class _Handler(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._send(200, b"[]")


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert_file, key_file = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert_file
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str) -> object:
    target = http_target(VENDOR, url, credentials={"token": TOKEN}, safety=Safety(max_retries=0))
    session = Session(target)
    try:
        return session.send(target.contract.operations["list_accounts"], httpx.Request("GET", url + "/accounts"))
    finally:
        session.close()


def test_a_tls_target_is_verified_with_the_trust_httpx_would_use(tls_server: tuple[str, Path],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url, cert_file = tls_server
    _deadline._ssl_context.cache_clear()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the vendor's certificate is trusted: the request goes
        trusted = _get(url)
        assert getattr(trusted, "status") == 200, getattr(trusted, "error")
        _deadline._ssl_context.cache_clear()
        monkeypatch.delenv("SSL_CERT_FILE")  # certifi's CAs only: a self-signed certificate is refused
        refused = _get(url)
        assert getattr(refused, "status") is None
        assert "CERTIFICATE_VERIFY_FAILED" in (getattr(refused, "error") or ""), getattr(refused, "error")
    finally:
        _deadline._ssl_context.cache_clear()


def test_a_plain_http_run_never_loads_the_ca_bundle() -> None:
    """The placeholder every transport starts with fails closed: no CA, certificates required."""
    assert _deadline._UNLOADED.verify_mode is ssl.CERT_REQUIRED and _deadline._UNLOADED.check_hostname
    assert _deadline._UNLOADED.cert_store_stats()["x509_ca"] == 0
